import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataSchema, downloadDataset, extractTarGz, FASHION_SYSTEM_DIR, clearDatasetMemo, loadDataset, DatasetError } from '../built';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vaew-data-dl-'));
let server: http.Server;
let base = '';
const served: string[] = [];
// Serves the Fashion-MNIST files of the Debian package, except that /swapped/ serves the wrong labels file.
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    served.push(url);
    let name = path.basename(url);
    if (url.startsWith('/swapped/') && name === 't10k-labels-idx1-ubyte.gz') name = 'train-labels-idx1-ubyte.gz';
    const file = path.join(FASHION_SYSTEM_DIR, name);
    if (!fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('downloadDataset', () => {
  it('fails with a clear message when no mirror can be reached', async () => {
    // a port that was just free: nothing listens there
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const err = await downloadDataset('mnist-full', { dataHome: tmp, mirrors: [`http://127.0.0.1:${port}/`] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/could not download train-images-idx3-ubyte\.gz for mnist-full .*ECONNREFUSED.*local copy/);
    await expect(downloadDataset('import', { dataHome: tmp })).rejects.toThrow(/no download is known for dataset "import"/);
    const none = await downloadDataset('mnist', { dataHome: tmp });
    expect(none.downloaded).toEqual([]);
  });

  it.skipIf(!fs.existsSync(FASHION_SYSTEM_DIR))(
    'downloads over HTTP with progress and checksums, then the loader finds the files',
    async () => {
      const dataHome = path.join(tmp, 'home');
      const bad = await downloadDataset('fashion-mnist', { dataHome, mirrors: [`${base}/swapped/`] }).catch((e: unknown) => e);
      expect((bad as Error).message).toMatch(/t10k-labels-idx1-ubyte\.gz.*SHA-256 mismatch of the decompressed content/);
      const progress: number[] = [];
      const result = await downloadDataset('fashion-mnist', {
        dataHome,
        mirrors: [`${base}/nothing-here/`, `${base}/`],
        onProgress: (f) => progress.push(f),
      });
      // the first three files were kept from the failed attempt; the last came from the second mirror after a 404
      expect(result.reused).toEqual(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz']);
      expect(result.downloaded).toEqual(['t10k-labels-idx1-ubyte.gz']);
      expect(served).toContain('/nothing-here/t10k-labels-idx1-ubyte.gz');
      expect(progress.at(-1)).toBe(1);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!).toBeGreaterThanOrEqual(progress[i - 1]!);
      expect(fs.readdirSync(result.dir).filter((f) => f.endsWith('.part'))).toEqual([]);
      clearDatasetMemo();
      const ds = await loadDataset(dataSchema.parse({ dataset: 'fashion-mnist', testLimit: 10 }), { dataHome, seed: 1 });
      expect(ds.train.n).toBe(60000);
      expect(ds.test.n).toBe(10);
    },
  );

  it('extracts the CIFAR-10 members from a .tar.gz archive', () => {
    const src = path.join(tmp, 'tarsrc', 'cifar-10-batches-bin');
    fs.mkdirSync(src, { recursive: true });
    for (const f of ['data_batch_1.bin', 'test_batch.bin', 'readme.html'])
      fs.writeFileSync(path.join(src, f), Buffer.alloc(3073 + f.length, f.length));
    const archive = path.join(tmp, 'c.tar.gz');
    execFileSync('tar', ['czf', archive, '-C', path.dirname(src), 'cifar-10-batches-bin']);
    const out = path.join(tmp, 'extracted');
    fs.mkdirSync(out);
    const written = extractTarGz(fs.readFileSync(archive), ['data_batch_1.bin', 'test_batch.bin'], out, 'c.tar.gz');
    expect(written.sort()).toEqual(['data_batch_1.bin', 'test_batch.bin']);
    expect(fs.readFileSync(path.join(out, 'test_batch.bin')).length).toBe(3073 + 14);
    expect(fs.existsSync(path.join(out, 'readme.html'))).toBe(false);
    expect(() => extractTarGz(fs.readFileSync(archive), ['data_batch_2.bin'], out, 'c.tar.gz')).toThrow(/lacks data_batch_2\.bin/);
  });
});
