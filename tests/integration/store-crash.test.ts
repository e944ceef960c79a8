// A writer process is killed with SIGKILL in the middle of its batches: the file must stay sound and every batch
// the writer reported committed must be there, complete; the batch in flight is all or nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunStore, TESTKIT } from '../built';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BATCH = 500;

const writerSource = (storeModule: string) => `
import { RunStore } from ${JSON.stringify(storeModule)};
const file = process.argv[2];
const runId = Number(process.argv[3]);
const store = RunStore.open(file);
const BATCH = ${BATCH};
for (let b = 0; ; b++) {
  const points = [];
  for (let i = 0; i < BATCH; i++) {
    const step = b * BATCH + i;
    points.push({ name: 'train/loss', step, epoch: step / 1000, time: Date.now(), value: Math.sin(step) });
    points.push({ name: 'train/kl', step, epoch: step / 1000, time: Date.now(), value: Math.cos(step) });
  }
  store.appendMetrics(runId, points);
  store.updateProgress(runId, (b + 1) * BATCH - 1, ((b + 1) * BATCH - 1) / 1000);
  process.stdout.write('committed ' + b + '\\n');
}
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-crash-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('store crash safety', () => {
  it('survives SIGKILL of the writer mid-batch with every reported batch intact', async () => {
    const file = path.join(dir, 'runs.sqlite');
    const setup = RunStore.open(file);
    const run = setup.createRun({ name: 'victim', configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't' });
    setup.setStatus(run.id, 'running');
    setup.close();

    // The writer is plain Node on the built store (out/main/testkit.js), as the app and the CLI run it.
    const script = path.join(dir, 'writer.mjs');
    writeFileSync(script, writerSource(pathToFileURL(TESTKIT).href));
    const child = spawn(process.execPath, [script, file, String(run.id)], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const target = 40;
    const lastReported = await new Promise<number>((resolve, reject) => {
      let buffer = '';
      let last = -1;
      child.stdout.on('data', (d: Buffer) => {
        buffer += d.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop()!;
        for (const line of lines) {
          const m = /^committed (\d+)$/.exec(line);
          if (m) last = Number(m[1]);
        }
        if (last >= target && child.exitCode === null && !child.killed) {
          child.kill('SIGKILL');
        }
      });
      child.on('exit', (code, signal) => {
        if (signal === 'SIGKILL') resolve(last);
        else reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
      });
    });
    expect(lastReported).toBeGreaterThanOrEqual(target);

    const store = RunStore.open(file);
    expect(store.integrityCheck()).toEqual(['ok']);
    expect(store.markInterrupted()).toBe(1);
    expect(store.getRun(run.id)!.status).toBe('interrupted');
    const loss = store.countPoints(run.id, 'train/loss');
    const kl = store.countPoints(run.id, 'train/kl');
    // Every reported batch is there; beyond them only whole batches (the writer may have committed more before the
    // kill landed, never a part of one).
    expect(loss).toBeGreaterThanOrEqual((lastReported + 1) * BATCH);
    expect(loss % BATCH).toBe(0);
    expect(kl).toBe(loss);
    const [s] = store.series([run.id], 'train/loss', { x: 'step', maxPoints: 1_000_000 });
    expect(s!.points.map((p) => p.step)).toEqual(Array.from({ length: loss }, (_, i) => i));
    expect(store.getRun(run.id)!.final['train/loss']).toBeCloseTo(Math.sin(loss - 1), 12);
    store.close();
  });
});
