// runs.sweep through the real service and SQLite: every combination is validated before anything is queued,
// list-valued keys (model.hidden) sweep too, and each run records its own hyperparameters.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchService } from '../built';

let home: string;
let service: WorkbenchService;

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-sweep-'));
  // concurrency 1 and every run cancelled at once: the test is about what is queued and recorded
  service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
});
afterAll(async () => {
  await service.close();
  rmSync(home, { recursive: true, force: true });
});

const base = {
  name: 'grid',
  data: { trainLimit: 256, testLimit: 64 },
  training: { epochs: 1, maxSteps: 1 },
  eval: { iwSamples: 2, fid: false },
};

describe('runs.sweep', () => {
  it('queues every combination, list values included, each with its own hyperparameters', async () => {
    const { runIds } = await service.call('runs.sweep', {
      config: base,
      axes: [
        { key: 'model.hidden', values: [[32], [16, 16]] },
        { key: 'model.latentDim', values: [2, 3] },
      ],
    });
    expect(runIds).toHaveLength(4);
    for (const id of runIds) await service.call('runs.cancel', { runId: id });
    const runs = await Promise.all(runIds.map((runId) => service.call('runs.get', { runId })));
    const combos = runs.map((r) => `${r.params['model.hidden']}|${r.params['model.latentDim']}`).sort();
    expect(combos).toEqual(['[16,16]|2', '[16,16]|3', '[32]|2', '[32]|3']);
    expect(runs.map((r) => r.name)).toContain('grid hidden=[16,16] latentDim=3');
  });

  it('refuses the whole sweep, writing nothing, when one combination is invalid', async () => {
    const before = (await service.call('runs.list', {})).total;
    await expect(service.call('runs.sweep', { config: base, axes: [{ key: 'model.latentDim', values: [2, -1] }] })).rejects.toThrow(
      /model\.latentDim/,
    );
    expect((await service.call('runs.list', {})).total).toBe(before);
  });
});
