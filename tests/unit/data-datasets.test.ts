import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATASET_IDS, dataSchema } from '@shared/run-config';
import { describeDataset, listDatasets, loadDataset } from '../../src-main/data/registry';
import { generateIcaSynthetic } from '../../src-main/data/ica-synthetic';
import { FASHION_SYSTEM_DIR } from '../../src-main/data/idx-dataset';
import { encodeIdx } from '../../src-main/data/idx';
import { DatasetError } from '../../src-main/data/types';

const dataHome = fs.mkdtempSync(path.join(os.tmpdir(), 'vaew-data-sets-'));
afterAll(() => fs.rmSync(dataHome, { recursive: true, force: true }));
const cfg = (over: Record<string, unknown> = {}) => dataSchema.parse(over);
const sameValues = (a: ArrayBufferView, b: ArrayBufferView) =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describe('dataset registry', () => {
  it('lists every dataset id of the run config with shape, labels, splits, source and license', () => {
    const list = listDatasets({ dataHome });
    expect(list.map((d) => d.id).sort()).toEqual([...DATASET_IDS].sort());
    for (const d of list) {
      expect(d.title.length).toBeGreaterThan(0);
      expect(d.description.length).toBeGreaterThan(40);
      expect(d.source.length).toBeGreaterThan(0);
      expect(d.license.length).toBeGreaterThan(0);
      if (!d.available) expect(d.unavailableReason).toBeTruthy();
    }
    const byId = Object.fromEntries(list.map((d) => [d.id, d]));
    expect(byId['mnist-full']!.available).toBe(false);
    expect(byId['mnist-full']!.needsPath).toBe(true);
    expect(byId['cifar10']!.shape).toEqual([32, 32, 3]);
    expect(byId['ica-synthetic']!.kind).toBe('series');
    expect(byId['import']!.needsPath).toBe(true);
  });

  it('describes the dataset of a given config without loading it', () => {
    const ica = describeDataset(cfg({ dataset: 'ica-synthetic', sources: 5, observedDim: 33 }), { dataHome });
    expect(ica.shape).toEqual([1, 33, 1]);
    expect(ica.trueSources).toBe(5);
    const file = path.join(dataHome, 'describe.csv');
    fs.writeFileSync(file, Array.from({ length: 10 }, (_, i) => `${i},${i + 1},${i + 2},${i + 3}`).join('\n'));
    const imported = describeDataset(cfg({ dataset: 'import', path: file }), { dataHome });
    expect(imported.available).toBe(true);
    expect(imported.shape).toEqual([2, 2, 1]);
    expect(imported.splits).toEqual({ train: 9, test: 1 });
    const missing = describeDataset(cfg({ dataset: 'import', path: path.join(dataHome, 'gone.csv') }), { dataHome });
    expect(missing.available).toBe(false);
    expect(missing.unavailableReason).toMatch(/data.path: .*gone\.csv does not exist/);
    const badDir = describeDataset(cfg({ dataset: 'fashion-mnist', path: dataHome }), { dataHome });
    expect(badDir.available).toBe(false);
    expect(badDir.unavailableReason).toMatch(/lacks train-images-idx3-ubyte/);
    expect(() => describeDataset(cfg({ dataset: 'nope' }))).toThrow(DatasetError);
  });

  it('names the unknown dataset and lists the known ids', async () => {
    const err = await loadDataset(cfg({ dataset: 'imagenet' }), { dataHome, seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    const message = (err as Error).message;
    expect(message).toContain('"imagenet"');
    for (const id of DATASET_IDS) expect(message).toContain(id);
  });
});

describe('mnist-14x14-even', () => {
  it('derives even digits at 14x14 from the bundled mnist', async () => {
    const ds = await loadDataset(cfg({ dataset: 'mnist-14x14-even' }), { dataHome, seed: 1 });
    expect(ds.d).toBe(196);
    expect(ds.descriptor.shape).toEqual([14, 14, 1]);
    expect(ds.train.n).toBe(3944);
    expect(ds.test.n).toBe(986);
    expect(ds.train.x.length).toBe(3944 * 196);
    expect(new Set([...ds.train.y!, ...ds.test.y!])).toEqual(new Set([0, 2, 4, 6, 8]));
    // pooling is an average: same mean intensity as the matching 28x28 digits
    const full = await loadDataset(cfg(), { dataHome, seed: 1 });
    let sumFull = 0;
    let count = 0;
    for (let i = 0; i < full.train.n; i++)
      if (full.train.y![i]! % 2 === 0) {
        for (let j = 0; j < 784; j++) sumFull += full.train.x[i * 784 + j]!;
        count++;
      }
    let sumEven = 0;
    for (const v of ds.train.x) sumEven += v;
    expect(count).toBe(3944);
    expect(sumEven / (3944 * 196)).toBeCloseTo(sumFull / (3944 * 784), 4);
    const max = ds.train.x.reduce((m, v) => Math.max(m, v), 0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max).toBeGreaterThan(0.9);
  });

  it('reads the assignment CSV (space separated, 0..255, label last) and normalises it', async () => {
    const file = path.join(dataHome, 'even_mnist.csv');
    const rows: string[] = [];
    for (let i = 0; i < 50; i++) {
      const pixels = Array.from({ length: 196 }, (_, j) => ((i * 7 + j * 13) % 256).toString());
      rows.push([...pixels, String((i % 5) * 2)].join(' '));
    }
    fs.writeFileSync(file, rows.join('\n') + '\n');
    const ds = await loadDataset(cfg({ dataset: 'mnist-14x14-even', path: file }), { dataHome, seed: 1 });
    expect(ds.train.n).toBe(45);
    expect(ds.test.n).toBe(5);
    expect(ds.d).toBe(196);
    expect(Array.from(ds.test.y!)).toEqual([0, 2, 4, 6, 8]);
    expect(ds.train.x[1]).toBeCloseTo(13 / 255, 6);
    expect(Math.max(...ds.train.x)).toBeCloseTo(1, 6);
    // a file the size of the assignment's keeps its last 3,000 rows for testing
    const big: string[] = [];
    for (let i = 0; i < 6500; i++) big.push(`${'0 '.repeat(190)}${i % 250} 1 2 3 4 255 ${(i % 5) * 2}`);
    fs.writeFileSync(file, big.join('\n'));
    const large = await loadDataset(cfg({ dataset: 'mnist-14x14-even', path: file }), { dataHome, seed: 1 });
    expect(large.train.n).toBe(3500);
    expect(large.test.n).toBe(3000);
    expect(large.test.x[190]).toBeCloseTo((3500 % 250) / 255, 6);
    // a row with 195 pixels is refused naming the line
    fs.writeFileSync(file, rows.slice(0, 3).join('\n') + '\n' + rows[3]!.split(' ').slice(1).join(' ') + '\n');
    await expect(loadDataset(cfg({ dataset: 'mnist-14x14-even', path: file }), { dataHome, seed: 1 })).rejects.toThrow(
      /line 4 has 196 values, expected 197/,
    );
  });
});

describe('fashion-mnist', () => {
  const present = fs.existsSync(FASHION_SYSTEM_DIR);
  it.skipIf(!present)(`loads 60k/10k from ${FASHION_SYSTEM_DIR} without a path`, async () => {
    const progress: number[] = [];
    const t0 = performance.now();
    const ds = await loadDataset(cfg({ dataset: 'fashion-mnist' }), { dataHome, seed: 1, onProgress: (f) => progress.push(f) });
    const ms = performance.now() - t0;
    expect(ds.train.n).toBe(60000);
    expect(ds.test.n).toBe(10000);
    expect(ds.d).toBe(784);
    expect(ds.train.x.length).toBe(60000 * 784);
    expect(ds.descriptor.labels).toHaveLength(10);
    expect(ds.descriptor.labels![9]).toBe('Ankle boot');
    const counts = new Array(10).fill(0);
    for (const v of ds.test.y!) counts[v]++;
    expect(counts).toEqual(new Array(10).fill(1000)); // the Fashion-MNIST test set is balanced
    let s = 0;
    for (let i = 0; i < 10000 * 784; i++) s += ds.test.x[i]!;
    expect(s / (10000 * 784)).toBeGreaterThan(0.25); // Fashion-MNIST mean intensity is ~0.286
    expect(s / (10000 * 784)).toBeLessThan(0.32);
    expect(progress.at(-1)).toBe(1);
    expect(ms).toBeLessThan(10000);
    const listed = listDatasets({ dataHome }).find((d) => d.id === 'fashion-mnist')!;
    expect(listed.available).toBe(true);
  });
  if (!present) it('is skipped: ' + FASHION_SYSTEM_DIR + ' is absent (apt-get install dataset-fashion-mnist)', () => undefined);

  it('takes data.path, reads plain and gzipped IDX files, and names a missing file', async () => {
    const dir = path.join(dataHome, 'mini-idx');
    fs.mkdirSync(dir);
    const img = (n: number, off: number) => Uint8Array.from({ length: n * 784 }, (_, i) => (i + off) % 256);
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), encodeIdx([6, 28, 28], img(6, 0)));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), encodeIdx([6], Uint8Array.from([0, 1, 2, 3, 4, 5])));
    const zlib = await import('node:zlib');
    fs.writeFileSync(path.join(dir, 't10k-images-idx3-ubyte.gz'), zlib.gzipSync(encodeIdx([2, 28, 28], img(2, 5))));
    fs.writeFileSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'), zlib.gzipSync(encodeIdx([2], Uint8Array.from([9, 8]))));
    const ds = await loadDataset(cfg({ dataset: 'mnist-full', path: dir }), { dataHome, seed: 1 });
    expect(ds.train.n).toBe(6);
    expect(ds.test.n).toBe(2);
    expect(Array.from(ds.test.y!)).toEqual([9, 8]);
    expect(ds.test.x[0]).toBeCloseTo(5 / 255, 6);
    expect(ds.train.x[255]).toBeCloseTo(1, 6);
    fs.rmSync(path.join(dir, 't10k-labels-idx1-ubyte.gz'));
    await expect(loadDataset(cfg({ dataset: 'fashion-mnist', path: dir }), { dataHome, seed: 1 })).rejects.toThrow(
      /t10k-labels-idx1-ubyte/,
    );
    await expect(loadDataset(cfg({ dataset: 'mnist-full', path: path.join(dataHome, 'nowhere') }), { dataHome, seed: 1 })).rejects.toThrow(
      /nowhere.*does not exist/,
    );
  });
});

describe('cifar10', () => {
  it('decodes the binary batches into height x width x RGB', async () => {
    const dir = path.join(dataHome, 'cifar', 'cifar-10-batches-bin');
    fs.mkdirSync(dir, { recursive: true });
    const record = (label: number, r: number, g: number, b: number) => {
      const rec = new Uint8Array(3073);
      rec[0] = label;
      rec.fill(r, 1, 1025);
      rec.fill(g, 1025, 2049);
      rec.fill(b, 2049, 3073);
      return Buffer.from(rec);
    };
    for (let i = 1; i <= 5; i++)
      fs.writeFileSync(path.join(dir, `data_batch_${i}.bin`), Buffer.concat([record(i, 255, 0, 51), record(0, 0, 255, 0)]));
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), record(9, 10, 20, 30));
    const ds = await loadDataset(cfg({ dataset: 'cifar10', path: path.dirname(dir) }), { dataHome, seed: 1 });
    expect(ds.d).toBe(3072);
    expect(ds.train.n).toBe(10);
    expect(ds.test.n).toBe(1);
    expect(Array.from(ds.train.y!.subarray(0, 4))).toEqual([1, 0, 2, 0]);
    expect(Array.from(ds.train.x.subarray(0, 6)).map((v) => Math.round(v * 255))).toEqual([255, 0, 51, 255, 0, 51]);
    expect(ds.descriptor.labels![9]).toBe('truck');
    fs.writeFileSync(path.join(dir, 'test_batch.bin'), record(9, 10, 20, 30).subarray(0, 3000));
    await expect(loadDataset(cfg({ dataset: 'cifar10', path: dir }), { dataHome, seed: 2 })).rejects.toThrow(
      /test_batch\.bin.*not a whole number/,
    );
  });
});

describe('ica-synthetic', () => {
  it('is deterministic in the seed and has the requested shape, in [0,1], without labels', async () => {
    const a = await loadDataset(cfg({ dataset: 'ica-synthetic', sources: 4, observedDim: 12 }), { dataHome, seed: 3 });
    expect(a.d).toBe(12);
    expect(a.descriptor.shape).toEqual([1, 12, 1]);
    expect(a.descriptor.kind).toBe('series');
    expect(a.descriptor.trueSources).toBe(4);
    expect(a.descriptor.description).toContain('true number of sources is 4');
    expect(a.train.y).toBeNull();
    expect(a.train.n + a.test.n).toBe(10000);
    expect(a.train.x.length).toBe(a.train.n * 12);
    expect(a.train.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    const again = generateIcaSynthetic(3, 4, 12);
    expect(sameValues(again.observations.subarray(0, a.train.n * 12), a.train.x)).toBe(true);
    const other = generateIcaSynthetic(4, 4, 12);
    expect(sameValues(other.observations, again.observations)).toBe(false);
    // the observations vary over time and are not a trivial copy of one source: rank > 1 spread per coordinate
    let spread = 0;
    for (let i = 0; i < 12; i++) {
      let min = 1;
      let max = 0;
      for (let t = 0; t < 1000; t++) {
        min = Math.min(min, again.observations[t * 12 + i]!);
        max = Math.max(max, again.observations[t * 12 + i]!);
      }
      spread += max - min;
    }
    expect(spread / 12).toBeGreaterThan(0.5);
    const src = again.sources;
    let mean = 0;
    for (let t = 0; t < 10000; t++) mean += src[t * 4 + 3]!;
    expect(Math.abs(mean / 10000)).toBeLessThan(1e-3);
    expect(again.sourceKinds).toEqual(['sine', 'sawtooth', 'square', 'laplace']);
  });
});
