// Issue 11: heavy work (bundle import and export, series export) runs on a worker thread, so the host's event loop
// keeps turning while a large bundle is verified. Compared within one run: the longest event-loop stall with the
// worker must be a small fraction of the stall when the same work runs inline (ratios, not absolute times).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repack, smallBundle } from './bundle-fixture';
import { HeavyWork, heavyWorkerEntry, WorkbenchService } from '../../built';

let home: string;
let service: WorkbenchService;
beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-heavy-'));
  service = new WorkbenchService({ host: 'web', dataHome: path.join(home, 'data') });
});
afterAll(async () => {
  await service?.close();
  rmSync(home, { recursive: true, force: true });
});

async function withLoopWatch<T>(fn: () => Promise<T>): Promise<{ value: T; durationMs: number; maxGapMs: number }> {
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 5);
  const t0 = performance.now();
  try {
    const value = await fn();
    return { value, durationMs: performance.now() - t0, maxGapMs: Math.max(maxGap, performance.now() - last) };
  } finally {
    clearInterval(timer);
  }
}

describe('heavy work off the event loop', () => {
  it('the worker entry is built', () => {
    expect(heavyWorkerEntry()).toMatch(/out[\\/]main[\\/]heavy-worker\.js$/);
  });

  it('a large bundle import leaves the event loop free; errors keep their message', async () => {
    // About 60 MB of snapshot entries that must all be inflated and hashed.
    const big = repack(smallBundle({ shape: [28, 28, 1], dataset: 'mnist' }), (files, m) => {
      for (let i = 0; i < 6; i++) {
        const p = `snapshots/pad-${i}.bin`;
        files[p] = new Uint8Array(10 * 1024 * 1024).map((_, j) => (j * 2654435761 + i) >>> 24);
        m.snapshots.push({
          path: p,
          kind: 'prior-samples',
          epoch: 1,
          step: 1,
          mime: 'application/octet-stream',
          width: 0,
          height: 0,
          meta: {},
        });
      }
    });
    const b64 = Buffer.from(big).toString('base64');
    // Verification (inflate, sha256, every check) is the heavy part: inline it stalls the loop for its whole
    // duration, on the worker only for the hand-over. Same bundle, same run: compare the two stalls.
    const inline = await withLoopWatch(() => new HeavyWork(null).parseBundle(big.slice()));
    const worker = new HeavyWork();
    await worker.parseBundle(smallBundle()); // start the thread first: its start-up is not the point
    const off = await withLoopWatch(() => worker.parseBundle(big.slice()));
    await worker.close();
    expect(off.maxGapMs, `longest stall ${off.maxGapMs.toFixed(0)} ms on the worker, ${inline.maxGapMs.toFixed(0)} ms inline`).toBeLessThan(
      inline.maxGapMs / 2,
    );
    // Through the service (the writes themselves stay on the service's thread).
    const r = await withLoopWatch(() => service.call('bundles.import', { filename: 'big.zip', dataBase64: b64 }));
    expect(r.value.runId).toBeGreaterThan(0);
    const exported = await withLoopWatch(() => service.call('bundles.export', { runId: r.value.runId }));
    expect(exported.value.bytes).toBeGreaterThan(100_000);
    const series = await service.call('runs.export', { format: 'csv', what: 'series' });
    expect(series.text).toContain('train/loss');
    await expect(
      service.call('bundles.import', { filename: 'x.zip', dataBase64: Buffer.from('not a zip at all, no').toString('base64') }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
      message: 'not a zip file (20 bytes)',
    });
  }, 120_000);
});
