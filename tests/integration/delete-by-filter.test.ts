// A selection "every matching run" at the service: runs.export and runs.delete take a runs filter (`matching`) that the
// service resolves with the same query as runs.list, for any number of runs; a deletion by filter carries the count the
// user confirmed and deletes nothing when the filter matches another number of runs by then (a run arrived live).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, RunStore, WorkbenchService } from '../built';

let home: string;
let service: WorkbenchService;

function seed(tags: string[][]): void {
  const store = RunStore.open(path.join(home, 'workbench.sqlite'));
  try {
    const input = { model: { latentDim: 2 }, training: { epochs: 1 } };
    const config = parseRunConfig(input);
    store.transaction(() => {
      tags.forEach((t, i) =>
        store.createRun({
          name: `r${i}`,
          configText: JSON.stringify(input),
          config,
          dataset: 'mnist',
          seed: i,
          appVersion: 'test',
          tags: t,
        }),
      );
    });
  } finally {
    store.close();
  }
}

beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), 'vae-delete-filter-'));
  seed(Array.from({ length: 450 }, (_, i) => (i < 30 ? ['keep'] : ['bulk'])));
  service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
});
afterAll(async () => {
  await service.close();
  rmSync(home, { recursive: true, force: true });
});

describe('runs by filter', () => {
  it('exports every matching run (more than runIds may name)', async () => {
    const res = await service.call('runs.export', { format: 'json', what: 'runs', matching: { tag: 'bulk' } });
    const runs = JSON.parse(res.text) as { name: string; tags: string[] }[];
    expect(runs).toHaveLength(420);
    expect(runs.every((r) => r.tags.includes('bulk'))).toBe(true);
  });

  it('refuses a deletion by filter without a count, or whose count is no longer true, deleting nothing', async () => {
    await expect(service.call('runs.delete', { matching: { tag: 'bulk' } })).rejects.toThrow(/count/);
    await expect(service.call('runs.delete', { matching: { tag: 'bulk' }, count: 419 })).rejects.toThrow(
      /now matches 420 runs, not the 419 confirmed; nothing was deleted/,
    );
    await expect(service.call('runs.delete', { runIds: [1], matching: { tag: 'bulk' }, count: 420 })).rejects.toThrow(/either/);
    expect((await service.call('runs.list', {})).total).toBe(450);
  });

  it('deletes every matching run (420, more than 200 ids) and keeps the others', async () => {
    expect(await service.call('runs.delete', { matching: { tag: 'bulk' }, count: 420 })).toEqual({ deleted: 420 });
    const left = await service.call('runs.list', {});
    expect(left.total).toBe(30);
    expect(left.runs.every((r) => r.tags.includes('keep'))).toBe(true);
  });
});
