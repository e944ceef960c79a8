// Which checkpoint the service takes when none is named (checkpoints/checkpoint-rules.ts), through the real
// service on a real store and real checkpoint directories: generate and export use best, else last, else the
// NEWEST (generate used to take the oldest); resume's rule is tested in tests/unit/checkpoint-rules.test.ts.
// The checkpoint a call must not take is left broken (its weights file removed), so taking it fails the call.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunConfigInput } from '@shared/run-config';
import { seededValues } from '../unit/synthetic-data';
import { expectedWeightShapes, parseRunConfig, WorkbenchService, writeCheckpointDir } from '../built';

let tmp = '';
let service: WorkbenchService;

/** A finished run with checkpoints [tag, step] in that order; the ones in `broken` lose their weights file. */
function seedRun(checkpoints: [string, number][], broken: string[]): number {
  const input: RunConfigInput = { name: 'choice', seed: 3, model: { latentDim: 2, hidden: [16] }, training: { epochs: 3 } };
  const config = parseRunConfig(input);
  const store = service.store;
  const run = store.createRun({ name: 'choice', configText: JSON.stringify(input), config, dataset: 'mnist', seed: 3, appVersion: 'test' });
  store.setStatus(run.id, 'running');
  const weights = expectedWeightShapes(config, [28, 28, 1]).map((e, i) => ({
    ...e,
    data: seededValues(
      e.shape.reduce((a, b) => a * b, 1),
      20 + i,
    ).map((v) => v * 0.05),
  }));
  for (const [tag, step] of checkpoints) {
    const dir = path.join(service.layout.runsDir, String(run.id), 'checkpoints', `${tag}-${step}`);
    const bytes = writeCheckpointDir(dir, {
      runId: run.id,
      epoch: step / 100,
      step,
      config,
      optimizer: null,
      weights,
      metrics: {},
      backend: 'cpu',
      createdAt: step,
    });
    if (broken.includes(`${tag}-${step}`)) rmSync(path.join(dir, 'tensors.bin'));
    store.addCheckpoint(run.id, { epoch: step / 100, step, tag, path: dir, bytes });
  }
  store.setStatus(run.id, 'completed');
  return run.id;
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'vae-choice-'));
  service = new WorkbenchService({ host: 'cli', dataHome: tmp, concurrency: 1 });
});
afterAll(async () => {
  await service?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the checkpoint a call takes when none is named', () => {
  it('generate: the newest interval checkpoint when there is no best or last, not the oldest', async () => {
    const runId = seedRun(
      [
        ['interval', 100],
        ['interval', 200],
      ],
      ['interval-100'],
    );
    const out = await service.call('runs.generate', { runId, kind: 'prior', n: 4 });
    expect(out.width).toBeGreaterThan(0);
  });

  it('generate and export: best before last and before a newer interval checkpoint', async () => {
    const runId = seedRun(
      [
        ['best', 100],
        ['interval', 200],
        ['last', 300],
      ],
      ['interval-200', 'last-300'],
    );
    expect((await service.call('runs.generate', { runId, kind: 'prior', n: 4 })).width).toBeGreaterThan(0);
    const bundle = await service.call('bundles.export', { runId });
    expect(bundle.filename).toMatch(/\.zip$/);
  });
});
