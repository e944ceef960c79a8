// Issue 23 cases 2, 6 and 12 (the upload): a 460 KB bundle nested 5,000 deep, a bundle of 1.5 M metric points or
// 100k metric names of 1 KB, and an upload that stalls. Each is refused naming the limit, quickly; the heavy slot
// is freed (the next heavy call runs); the web host (a real socket) keeps serving; runs.list stays bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../../../src-main/hosts/web/server';
import { callApi, startTestHost, type TestHost } from './web-host-fixture';
import { repack, smallBundle } from './bundle-fixture';
import { rawRequest, trickleRequest } from './raw-http';
import { HeavyWork, type WorkbenchService } from '../../built';

let service: WorkbenchService;
let host: WebHost;

const api = (name: string, body: unknown, timeoutMs = 30_000) => callApi(host, name, body, { timeoutMs });
async function importBundle(bytes: Uint8Array, timeoutMs?: number) {
  // Building a large bundle blocks this (shared) event loop for seconds: let the server's keep-alive timers close
  // their idle sockets first, so fetch does not reuse one the server is closing (ECONNRESET).
  await new Promise((r) => setTimeout(r, 50));
  return api('bundles.import', { filename: 'b.zip', dataBase64: Buffer.from(bytes).toString('base64'), again: true }, timeoutMs);
}
async function stillServing() {
  expect((await api('app.info', {}, 3000)).status).toBe(200);
  const ok = await importBundle(smallBundle(), 10_000); // the heavy slot is free
  expect(ok.status).toBe(200);
  await api('runs.delete', { runIds: [ok.json.result.runId] });
}

let fixture: TestHost;
beforeAll(async () => {
  fixture = await startTestHost('vae-hostile-bundles-', { web: { bodyIdleMs: 2000 } });
  ({ service, host } = fixture);
});
afterAll(() => fixture?.close());

const deepMeta = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('hostile bundles', () => {
  it('snapshot meta nested 5,000 deep is refused naming UNTRUSTED_MAX_DEPTH, and the heavy slot is free again', async () => {
    const bytes = repack(
      smallBundle(),
      (files, m) => {
        files['snapshots/s.png'] = new Uint8Array([1, 2, 3]);
        m.snapshots = [
          { path: 'snapshots/s.png', kind: 'prior-samples', epoch: 1, step: 1, mime: 'image/png', width: 1, height: 1, meta: 'DEEP' },
        ];
      },
      undefined,
      (json) => json.replace('"DEEP"', deepMeta(5000)),
    );
    expect(bytes.byteLength).toBeLessThan(500_000);
    const r = await importBundle(bytes);
    expect(r.status).toBe(400);
    expect(r.json.error!.message).toContain('UNTRUSTED_MAX_DEPTH');
    expect(service.store.listRuns({}).total).toBe(0);
    await stillServing();
  });

  it('1.5 M metric points are refused naming RUN_MAX_METRIC_POINTS, before anything is written', async () => {
    const bytes = repack(
      smallBundle(),
      (files, m) => {
        const points = Array.from({ length: 1_500_000 }, (_, i) => ({ name: 'l', step: i, epoch: 0, time: 0, value: 0 }));
        files['metrics.json'] = new Uint8Array(Buffer.from(JSON.stringify(points)));
        m.metrics.points = points.length;
      },
      (p) => p === 'metrics.json',
    );
    expect(bytes.byteLength).toBeLessThan(12_000_000);
    const r = await importBundle(bytes);
    expect(r.status).toBe(400);
    expect(r.json.error!.message).toContain('RUN_MAX_METRIC_POINTS');
    expect(service.store.listRuns({}).total).toBe(0);
    await stillServing();
  }, 60_000);

  it('20k metric names of 1 KB are refused naming NAME_MAX_CHARS; 2,000 short names naming RUN_MAX_METRIC_NAMES', async () => {
    for (const [n, len, limit] of [
      [20_000, 1000, 'NAME_MAX_CHARS'],
      [2_000, 8, 'RUN_MAX_METRIC_NAMES'],
    ] as const) {
      const bytes = repack(
        smallBundle(),
        (files, m) => {
          const points = Array.from({ length: n }, (_, i) => ({
            name: String(i).padStart(len, 'm'),
            step: 1,
            epoch: 0,
            time: 0,
            value: 0,
          }));
          files['metrics.json'] = new Uint8Array(Buffer.from(JSON.stringify(points)));
          m.metrics.points = points.length;
        },
        (p) => p === 'metrics.json',
      );
      const r = await importBundle(bytes);
      expect(r.status).toBe(400);
      expect(r.json.error!.message).toContain(limit);
    }
    expect(service.store.listRuns({}).total).toBe(0);
    await stillServing();
  }, 60_000);

  it('a heavy call past its deadline fails, its worker is ended and the next call runs', async () => {
    const heavy = new HeavyWork(undefined, 1);
    await expect(heavy.parseBundle(smallBundle())).rejects.toThrow('HEAVY_CALL_DEADLINE_MS');
    const ok = new HeavyWork();
    await expect(ok.parseBundle(smallBundle())).resolves.toMatchObject({ run: { name: 'small' } });
    await heavy.close();
    await ok.close();
  });

  it('an upload that stalls is dropped after bodyIdleMs and does not hold the heavy slot', async () => {
    const stalled = rawRequest(
      host.port,
      `POST /api/bundles.import HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nAuthorization: Bearer ${host.token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"filename":"x.zip","dataBase64":"AAAA`,
      5000,
    );
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    await stillServing(); // waits for the slot the stalled upload holds, at most ~2 s
    expect(performance.now() - t0).toBeLessThan(6000);
    const r = await stalled;
    expect(r.status).toBe(408);
    expect(r.text).toContain('WEB_BODY_IDLE_MS');
  });

  it('an upload trickling 2 bytes a second (never idle) holds no heavy slot: another import succeeds at once', async () => {
    const head = `POST /api/bundles.import HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nAuthorization: Bearer ${host.token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"filename":"x.zip","dataBase64":"`;
    const slow = trickleRequest(host.port, head, 500); // a byte each 500 ms: under the 2 s idle timeout
    try {
      await new Promise((r) => setTimeout(r, 3000)); // the slow upload is well under way, past one idle period
      const t0 = performance.now();
      const ok = await importBundle(smallBundle(), 8000);
      expect(ok.status).toBe(200);
      expect(performance.now() - t0, 'second import while the slow upload trickles (ms)').toBeLessThan(5000);
      const again = await importBundle(smallBundle(), 8000); // and again: the slot is not held
      expect(again.status).toBe(200);
      expect(slow.answer()).toBe(''); // the slow upload is still being received, not refused
      await api('runs.delete', { runIds: [ok.json.result.runId, again.json.result.runId] });
    } finally {
      slow.stop();
    }
  });
});

describe('runs.list stays bounded', () => {
  it('a page is capped in bytes; total still counts every run', async () => {
    const names = Array.from({ length: 1000 }, (_, i) => `m/${i}`.padEnd(200, 'x'));
    for (let k = 0; k < 3; k++) {
      const bytes = repack(smallBundle({ name: `wide ${k}` }), (files, m) => {
        const points = names.map((name) => ({ name, step: 1, epoch: 0, time: 0, value: 0 }));
        files['metrics.json'] = new Uint8Array(Buffer.from(JSON.stringify(points)));
        m.metrics.points = points.length;
      });
      expect((await importBundle(bytes)).status).toBe(200);
    }
    const r = await api('runs.list', {});
    expect(r.json.result.total).toBe(3);
    expect(r.json.result.runs).toHaveLength(3);
    const { capPageBytes } = await import('../../../src-main/api/list-page');
    const capped = capPageBytes(r.json.result, 300_000);
    expect(capped.runs).toHaveLength(1);
    expect(capped.total).toBe(3);
  });
});
