// Issue 23 cases 1, 5 and 7: datasets that are small on disk and huge once read. A gzip CSV of "0\n" lines
// (50 M lines from 100 KB) named by an imported run's config is refused by `runs.generate` naming CSV_MAX_ROWS,
// on the heavy worker, while the web host keeps answering; a CSV of 100k columns or an IDX of 2 x 4096 x 4096 with
// hidden [300] is refused by runs.start on its real shape (read from the header), and a trainer refuses a model that
// outgrew its data between the service's check and its start.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../../../src-main/hosts/web/server';
import { callApi, startTestHost, type TestHost } from './web-host-fixture';
import { smallBundle } from './bundle-fixture';
import type { WorkbenchService } from '../../built';

let home: string;
let service: WorkbenchService;
let host: WebHost;

const api = (name: string, body: unknown, timeoutMs = 60_000) => callApi(host, name, body, { timeoutMs });

let fixture: TestHost;
beforeAll(async () => {
  fixture = await startTestHost('vae-hostile-data-', { service: { concurrency: 1 } });
  ({ home, service, host } = fixture);
});
afterAll(() => fixture?.close());

describe('hostile datasets', () => {
  it('runs.generate on a run whose CSV inflates to 50 M lines is refused on the worker; the host answers meanwhile', async () => {
    const csv = path.join(home, 'zeros.csv.gz');
    writeFileSync(csv, gzipSync(Buffer.alloc(100 * 1024 * 1024, '0\n'), { level: 9 }));
    const bundle = smallBundle({ dataPath: csv, format: 'csv' });
    const { json } = await api('bundles.import', { filename: 'b.zip', dataBase64: Buffer.from(bundle).toString('base64') });
    const runId = json.result.runId as number;
    const pending = api('runs.generate', { runId, kind: 'reconstruct', n: 4 });
    let slowest = 0;
    let answered = 0;
    for (let i = 0; i < 20; i++) {
      const r = await api('app.info', {}, 5000);
      expect(r.status).toBe(200);
      slowest = Math.max(slowest, r.ms);
      answered++;
      await new Promise((res) => setTimeout(res, 50));
    }
    const g = await pending;
    expect(g.status).toBe(400);
    expect(g.json.error!.message).toContain('CSV_MAX_ROWS');
    expect(answered).toBe(20);
    expect(slowest, 'slowest app.info while generate ran (ms)').toBeLessThan(1000);
    expect((await api('runs.generate', { runId, kind: 'prior', n: 4, seed: 1 })).status).toBe(200); // and it still works
  }, 120_000);

  it('a CSV of 100k columns with hidden [300] is refused by runs.start on its real shape', async () => {
    const csv = path.join(home, 'wide.csv');
    const row = Array(100_000).fill('0.5').join(',');
    writeFileSync(csv, `${row}\n${row}\n${row}\n`);
    const r = await api('runs.start', { config: { data: { dataset: 'import', path: csv }, model: { hidden: [300] } } });
    expect(r.status).toBe(400);
    expect(r.json.error!.message).toContain('MODEL_MAX_PARAMETERS');
    expect(r.json.error!.message).toContain('[1, 99999, 1]');
  });

  it('an IDX of 2 x 4096 x 4096 (gzip) with hidden [300] is refused from its header alone', async () => {
    const idx = path.join(home, 'big-idx3-ubyte.gz');
    const header = Buffer.from([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 16, 0, 0, 0, 16, 0]);
    writeFileSync(idx, gzipSync(Buffer.concat([header, Buffer.alloc(2 * 4096 * 4096)])));
    const r = await api('runs.start', { config: { data: { dataset: 'import', path: idx }, model: { hidden: [300] } } });
    expect(r.status).toBe(400);
    expect(r.json.error!.message).toContain('[4096, 4096, 1], more than the limit');
    expect(service.store.listRuns({ status: ['queued', 'running'] } as never).total).toBe(0);
  });

  it('a trainer refuses a model too big for the data it really loads (the file changed after the check)', async () => {
    const csv = path.join(home, 'changing.csv');
    writeFileSync(csv, Array.from({ length: 20 }, (_, i) => `${i % 2},0.5,0.25,${i % 3}`).join('\n') + '\n');
    const r = await api('runs.start', {
      config: { data: { dataset: 'import', path: csv }, model: { hidden: [300] }, training: { epochs: 1 } },
    });
    expect(r.status).toBe(200);
    const row = Array(100_000).fill('0.5').join(',');
    writeFileSync(csv, `${row}\n${row}\n${row}\n`); // before the trainer process has started
    const run = await service.waitForRun(r.json.result.runId);
    expect(run.status).toBe('failed');
    expect(run.error).toContain('MODEL_MAX_PARAMETERS');
    expect((await api('app.info', {})).status).toBe(200);
  }, 60_000);
});
