// Cluster sweeps against a real one-node Slurm on this machine (scripts/slurm-local.sh): a 4-configuration sweep
// submitted through the service, one task cancelled while pending and one failing on purpose (its data folder is
// gone by the time it runs, as when a file is not on the shared file system), watched by the CLI's `sweep sync
// --wait`, which is killed after the first import and started again: every finished run lands in the local store
// exactly once, with its config, metrics, samples and checkpoints; the failed and cancelled tasks show their state
// and log tail. A second sweep is cancelled while it trains: live progress and curves come from the task's home,
// scancel ends it with its completion marker, and its (cancelled) run comes home with the curves so far.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalSlurm } from './slurm-env';
import { WorkbenchService, RunStore } from '../built';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'bin', 'vae-workbench.js');
const skip = ensureLocalSlurm();
if (skip) console.warn(`cluster-slurm tests skipped: ${skip}`);

let home: string;
let service: WorkbenchService;

const tiny = {
  name: 'slurm-tiny',
  data: { dataset: 'mnist', trainLimit: 300, testLimit: 100 },
  model: { hidden: [32], latentDim: 2 },
  training: { batchSize: 100, epochs: 1 },
  eval: { iwSamples: 5, fid: false },
  snapshots: { everyEpochs: 1 },
};

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/** What the last sync saw, for a timeout's message. */
let lastSeen = '';

async function until<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 100_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${lastSeen}`);
    await sleep(300);
  }
}

function cliEnv() {
  return { ...process.env, VAE_WORKBENCH_HOME: home, VAE_WORKBENCH_SWEEP_POLL_MS: '300' };
}

function syncWait(id: number) {
  return spawnSync(process.execPath, [cli, 'sweep', 'sync', String(id), '--wait'], { env: cliEnv(), encoding: 'utf8', timeout: 300_000 });
}

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-slurm-'));
  service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
});
afterAll(async () => {
  for (const s of service ? await service.call('sweeps.list', {}) : []) if (!s.done && s.jobId) spawnSync('scancel', [s.jobId]);
  await service?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!!skip)('sweeps on a local Slurm cluster', () => {
  it('runs a 4-task grid with a cancelled and a failing task, and imports each finished run exactly once across a killed watcher', async () => {
    const dirs = ['a', 'b', 'gone', 'd'].map((d) => path.join(home, 'data', d));
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const submitted = await service.call('sweeps.submit', {
      config: tiny,
      axes: [{ key: 'data.path', values: dirs }],
      on: 'slurm',
      slurm: { cpus: 1, mem: '1G', time: '10:00' },
    });
    expect(submitted.total).toBe(4);
    expect(submitted.jobId).toMatch(/^\d+$/);
    // Task 3 never starts: cancelled while pending (two CPUs, tasks 0 and 1 take them). Task 2 fails: its folder is gone.
    await service.call('sweeps.cancel', { sweepId: submitted.id, tasks: [3] });
    rmSync(dirs[2]!, { recursive: true });

    // The watcher: `sweep sync --wait` in its own process, killed as soon as a first task is imported.
    const watcher = spawn(process.execPath, [cli, 'sweep', 'sync', String(submitted.id), '--wait'], { env: cliEnv(), stdio: 'ignore' });
    const probe = RunStore.open(path.join(home, 'workbench.sqlite'));
    try {
      await until(
        'a first import',
        () =>
          (probe.connection.prepare('SELECT count(*) AS n FROM sweep_tasks WHERE imported_at IS NOT NULL').get() as { n: number }).n > 0,
      );
    } finally {
      probe.close();
    }
    watcher.kill('SIGKILL');
    await new Promise((r) => watcher.once('exit', r));

    const again = syncWait(submitted.id);
    expect(again.stdout).toContain('done');
    const final = await service.call('sweeps.sync', { sweepId: submitted.id }); // a third watcher: nothing new
    expect(final.importedNow).toEqual([]);
    expect(final.done).toBe(true);
    expect(final.tasks.map((t) => t.state)).toEqual(['completed', 'completed', 'failed', 'cancelled']);
    expect(again.status).toBe(1); // not every task completed

    const { runs } = await service.call('runs.list', { tag: `sweep-${submitted.id}` });
    // Tasks 0 and 1 came home once each; task 2 failed before creating a run (its data.path is gone), task 3 never ran.
    expect(runs.map((r) => r.id).sort()).toEqual([final.tasks[0]!.runId, final.tasks[1]!.runId].sort());
    expect(final.tasks[2]!.runId).toBeNull();
    expect(final.tasks[2]!.exitCode).toBe(2);
    expect(final.tasks[2]!.logTail).toContain('does not exist');
    expect(final.tasks[3]!.runId).toBeNull();

    const layoutDir = final.dir;
    for (const t of final.tasks.slice(0, 2)) {
      const run = await service.call('runs.get', { runId: t.runId! });
      expect(run.status).toBe('completed');
      expect(JSON.parse(run.configText)).toEqual(JSON.parse(readFileSync(path.join(layoutDir, 'configs', `${t.index}.json`), 'utf8')));
      // Metrics, samples and checkpoints match the task's own store on the shared folder.
      const src = RunStore.open(path.join(layoutDir, 'tasks', String(t.index), 'home', 'workbench.sqlite'));
      try {
        const srcRun = src.listRuns({}).runs[0]!;
        expect(run.final).toEqual(srcRun.final);
        for (const name of src.metricNames([srcRun.id]))
          expect(service.store.countPoints(run.id, name)).toBe(src.countPoints(srcRun.id, name));
        expect((await service.call('runs.artifacts', { runId: run.id })).length).toBe(src.listArtifacts(srcRun.id).length);
        expect(src.listArtifacts(srcRun.id).length).toBeGreaterThan(0);
      } finally {
        src.close();
      }
      const checkpoints = await service.call('runs.checkpoints', { runId: run.id });
      expect(checkpoints.length).toBeGreaterThan(0);
      for (const c of checkpoints) {
        expect(c.path.startsWith(path.join(home, 'runs', String(run.id)))).toBe(true);
        expect(existsSync(c.path)).toBe(true);
      }
    }
  });

  it('follows a running task live, cancels it with scancel and brings its cancelled run home', { timeout: 240_000 }, async () => {
    const long = {
      ...tiny,
      name: 'slurm-long',
      data: { dataset: 'mnist', trainLimit: 2000, testLimit: 100 },
      training: { batchSize: 50, epochs: 200, logEverySteps: 5 },
    };
    const d = await service.call('sweeps.submit', {
      config: long,
      axes: [{ key: 'seed', values: [1] }],
      on: 'slurm',
      slurm: { mem: '1G' },
    });
    const series = await until('live curves from the task home', async () => {
      const now = await service.call('sweeps.sync', { sweepId: d.id });
      const s = await service.call('sweeps.series', { sweepId: d.id, metric: 'train/loss' });
      lastSeen = JSON.stringify({ tasks: now.tasks, points: s[0]?.points.length, warning: now.warning });
      return s[0]!.points.length >= 3 ? s : null;
    });
    expect(series[0]!.points.every((p) => Number.isFinite(p.value))).toBe(true);
    const status = await service.call('sweeps.status', { sweepId: d.id });
    expect(status.tasks[0]!.state).toBe('running');
    expect(status.tasks[0]!.step).toBeGreaterThan(0);

    const cancel = spawnSync(process.execPath, [cli, 'sweep', 'cancel', String(d.id)], { env: cliEnv(), encoding: 'utf8' });
    expect(cancel.status).toBe(0);
    const done = await until('the cancelled task to come home', async () => {
      const s = await service.call('sweeps.sync', { sweepId: d.id });
      lastSeen = JSON.stringify({
        tasks: s.tasks,
        warning: s.warning,
        squeue: spawnSync('squeue', ['-h', '-r'], { encoding: 'utf8' }).stdout,
      });
      return s.done ? s : null;
    });
    expect(done.tasks[0]!.state).toBe('cancelled');
    expect(done.tasks[0]!.exitCode).toBe(130);
    const run = await service.call('runs.get', { runId: done.tasks[0]!.runId! });
    expect(run.status).toBe('cancelled');
    expect(service.store.countPoints(run.id, 'train/loss')).toBeGreaterThanOrEqual(3);
    expect(readFileSync(path.join(done.dir, 'tasks', '0', 'exit'), 'utf8').trim()).toBe('130');
  });

  it('shows a task that hits its time limit as timeout, with the log line that says so', async () => {
    // Slurm counts time limits in minutes and checks them about every 30 s: this takes one to two minutes.
    const long = {
      ...tiny,
      name: 'slurm-timeout',
      data: { dataset: 'mnist', trainLimit: 2000, testLimit: 100 },
      training: { batchSize: 50, epochs: 1000 },
    };
    const d = await service.call('sweeps.submit', {
      config: long,
      axes: [{ key: 'seed', values: [7] }],
      on: 'slurm',
      slurm: { mem: '1G', time: '1' },
    });
    const done = await until(
      'the time limit',
      async () => {
        const s = await service.call('sweeps.sync', { sweepId: d.id });
        return s.done ? s : null;
      },
      240_000,
    );
    expect(done.tasks[0]!.state).toBe('timeout');
    expect(done.tasks[0]!.reason).toBe('DUE TO TIME LIMIT');
    expect(done.tasks[0]!.logTail).toMatch(/CANCELLED AT .* DUE TO TIME LIMIT/);
  }, 300_000);

  it('refuses a sweep with an invalid configuration or options before anything is submitted', async () => {
    const before = (await service.call('sweeps.list', {})).length;
    await expect(
      service.call('sweeps.submit', { config: tiny, axes: [{ key: 'model.latentDim', values: [2, -1] }], on: 'slurm' }),
    ).rejects.toThrow(/model\.latentDim/);
    await expect(
      service.call('sweeps.submit', { config: tiny, axes: [{ key: 'seed', values: [1] }], on: 'slurm', slurm: { time: 'an hour' } }),
    ).rejects.toThrow(/time/);
    await expect(
      service.call('sweeps.submit', { config: tiny, axes: [{ key: 'seed', values: [1] }], on: 'slurm', slurm: { partition: 'nosuch' } }),
    ).rejects.toThrow(/sbatch failed.*partition/i);
    expect((await service.call('sweeps.list', {})).length).toBe(before);
  });
});
