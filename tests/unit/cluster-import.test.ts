// Importing a task's run from its own data home into the local store, on real SQLite files: everything comes
// home (config, status, metrics, images, log, checkpoint files), a second import is a no-op, a task whose run is
// not final is refused, and a failure in the middle of the import leaves no run, no files and no record.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importTask, TaskImportError } from '../../src-main/cluster/task-import';
import { RunStore } from '../../src-main/store/run-store';
import { SweepRepo } from '../../src-main/store/sweep-repo';

let dir: string;
let local: RunStore;
let repo: SweepRepo;
let sweepId: number;

function taskHome(name: string, status: 'completed' | 'running'): string {
  const home = path.join(dir, name);
  const src = RunStore.open(path.join(home, 'workbench.sqlite'));
  try {
    const config = { name: `task ${name}`, model: { latentDim: 3 } };
    const run = src.createRun({
      name: `task ${name}`,
      configText: JSON.stringify(config),
      config,
      dataset: 'mnist',
      seed: 4,
      appVersion: 'test',
    });
    src.setStatus(run.id, 'running', { backend: 'wasm' });
    src.appendMetrics(
      run.id,
      [1, 2, 3].map((step) => ({ name: 'train/loss', step, epoch: step / 3, time: 1000 + step, value: 200 - step })),
    );
    src.addArtifact(run.id, {
      kind: 'prior-samples',
      epoch: 1,
      step: 3,
      mime: 'image/png',
      width: 2,
      height: 2,
      meta: { grid: 1 },
      data: Buffer.from([1, 2, 3]),
    });
    src.log(run.id, 'info', 'hello from the node');
    const ck = path.join(home, 'runs', String(run.id), 'checkpoints', 'last');
    mkdirSync(ck, { recursive: true });
    writeFileSync(path.join(ck, 'weights.bin'), 'weights');
    src.addCheckpoint(run.id, { epoch: 1, step: 3, tag: 'last', path: ck, bytes: 7, metrics: { 'test/loss': 197 } });
    if (status === 'completed') src.setStatus(run.id, 'completed');
  } finally {
    src.close();
  }
  return home;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vae-task-import-'));
  local = RunStore.open(path.join(dir, 'local', 'workbench.sqlite'));
  repo = new SweepRepo(local.connection);
  sweepId = repo.create({ name: 's', target: 'slurm', options: {}, spec: {}, configs: [{ name: 'a' }, { name: 'b' }] });
});
afterEach(() => {
  local.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('importing a task home', () => {
  it('brings the whole run home once; a second import does nothing', () => {
    const home = taskHome('a', 'completed');
    const runsDir = path.join(dir, 'local', 'runs');
    const runId = importTask(home, { store: local, repo, runsDir, sweepId, index: 0 })!;
    expect(runId).toBeGreaterThan(0);
    const run = local.getRun(runId)!;
    expect(run).toMatchObject({ name: 'task a', status: 'completed', backend: 'wasm', seed: 4 });
    expect(run.tags).toContain(`sweep-${sweepId}`);
    expect(local.countPoints(runId, 'train/loss')).toBe(3);
    expect(local.listArtifacts(runId)).toHaveLength(1);
    expect(local.getLog(runId).map((l) => l.message)).toContain('hello from the node');
    const [ck] = local.listCheckpoints(runId);
    expect(ck!.path).toBe(path.join(runsDir, String(runId), 'checkpoints', 'last'));
    expect(readFileSync(path.join(ck!.path, 'weights.bin'), 'utf8')).toBe('weights');
    expect(repo.tasks(sweepId)[0]).toMatchObject({ runId, importedAt: expect.any(Number) });

    expect(importTask(home, { store: local, repo, runsDir, sweepId, index: 0 })).toBeNull();
    expect(local.listRuns({}).total).toBe(1);
  });

  it('refuses a task whose run has not reached a final status', () => {
    const home = taskHome('b', 'running');
    expect(() => importTask(home, { store: local, repo, runsDir: path.join(dir, 'local', 'runs'), sweepId, index: 1 })).toThrow(
      TaskImportError,
    );
    expect(local.listRuns({}).total).toBe(0);
    expect(repo.tasks(sweepId)[1]!.importedAt).toBeNull();
  });

  it('leaves nothing behind when the import fails: before the transaction (no runs folder) or inside it', () => {
    const home = taskHome('a', 'completed');
    const blocked = path.join(dir, 'not-a-dir');
    writeFileSync(blocked, 'a file where the runs folder should be');
    expect(() => importTask(home, { store: local, repo, runsDir: path.join(blocked, 'runs'), sweepId, index: 0 })).toThrow();
    expect(local.listRuns({}).total).toBe(0);
    expect(repo.tasks(sweepId)[0]!.importedAt).toBeNull();
    // A failure inside the transaction, after the run row is written: rolled back with the imported record.
    expect(() =>
      repo.importOnce(sweepId, 0, () => {
        local.createRun({ name: 'half', configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 'test', status: 'imported' });
        throw new Error('the process dies here');
      }),
    ).toThrow('the process dies here');
    expect(local.listRuns({}).total).toBe(0);
    expect(repo.tasks(sweepId)[0]!.importedAt).toBeNull();
    // and it works once the folder is there
    const runsDir = path.join(dir, 'local', 'runs');
    expect(importTask(home, { store: local, repo, runsDir, sweepId, index: 0 })).toBeGreaterThan(0);
    expect(existsSync(path.join(runsDir))).toBe(true);
  });
});
