// Live from any process, at the service level: a service as the web host runs it (host 'web', so it watches the
// store) follows a run that ANOTHER process (the built CLI, `train`) trains on the same data home: run.created, the
// run's metric points, its log and images and its final status arrive as the same events as for its own runs, each
// within 2 s of the write. A deletion and an import by another process (the CLI) arrive too. A one-shot CLI service
// (host 'cli') does not watch.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '@shared/contract';
import { ROOT, WorkbenchService } from '../built';

const bin = path.join(ROOT, 'bin', 'vae-workbench.js');
let work: string;
let home: string;
let service: WorkbenchService;
const events: { at: number; e: WorkbenchEvent }[] = [];

const CONFIG = {
  name: 'from another process',
  seed: 5,
  data: { dataset: 'mnist', trainLimit: 2000, testLimit: 200 },
  model: { hidden: [64], latentDim: 2 },
  training: { batchSize: 50, epochs: 3, logEverySteps: 5 },
  eval: { iwSamples: 5, fid: false },
  snapshots: { everyEpochs: 1 },
};

function cli(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: work, env: { ...process.env, VAE_WORKBENCH_HOME: home }, encoding: 'utf8' });
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vae-live-'));
  home = path.join(work, 'home');
  service = new WorkbenchService({ host: 'web', dataHome: home, concurrency: 1 });
  service.onEvent((e) => events.push({ at: Date.now(), e }));
});
afterAll(async () => {
  await service.close();
  rmSync(work, { recursive: true, force: true });
});

/** The metric points of a run as the store has them, each with the time its write was committed (approximately: its time). */
function storedPoints(runId: number): { name: string; step: number; time: number }[] {
  const db = new Database(path.join(home, 'workbench.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT name, step, time FROM metrics WHERE run_id = ? ORDER BY step').all(runId) as {
      name: string;
      step: number;
      time: number;
    }[];
  } finally {
    db.close();
  }
}

describe('live from any process', () => {
  it('follows a run the CLI trains on the same data home: created, points, log, images, status, each within 2 s', async () => {
    const file = path.join(work, 'run.json');
    writeFileSync(file, JSON.stringify(CONFIG));
    const child = spawn(process.execPath, [bin, 'train', '--config', file, '--json'], {
      cwd: work,
      env: { ...process.env, VAE_WORKBENCH_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    const runId = (JSON.parse(stdout.trim().split('\n').pop()!) as { runId: number }).runId;
    await new Promise((r) => setTimeout(r, 1500)); // the last tick after the CLI's last write

    const mine = events.filter(({ e }) => 'payload' in e && (e.payload as { runId?: number; id?: number }).runId === runId);
    const created = events.find(({ e }) => e.event === 'run.created' && e.payload.id === runId);
    expect(created, 'run.created of the CLI run').toBeDefined();
    const pointsSeen = mine.flatMap(({ at, e }) => (e.event === 'run.metrics' ? e.payload.points.map((p) => ({ ...p, at })) : []));
    const stored = storedPoints(runId);
    expect(stored.length).toBeGreaterThan(20);
    // every point the CLI stored arrived, exactly once
    const key = (p: { name: string; step: number }) => `${p.name}@${p.step}`;
    expect(new Set(pointsSeen.map(key)).size).toBe(pointsSeen.length);
    expect(new Set(pointsSeen.map(key))).toEqual(new Set(stored.map(key)));
    // training points arrive within 2 s of being made (time = when the trainer measured them, before the write)
    const lags = pointsSeen.filter((p) => p.name === 'train/loss').map((p) => p.at - p.time);
    expect(Math.max(...lags)).toBeLessThan(2000);
    expect(mine.some(({ e }) => e.event === 'run.log')).toBe(true);
    expect(mine.some(({ e }) => e.event === 'run.artifact')).toBe(true);
    expect(mine.some(({ e }) => e.event === 'run.progress')).toBe(true);
    const statuses = mine.flatMap(({ e }) => (e.event === 'run.status' ? [e.payload.status] : []));
    expect(statuses[statuses.length - 1]).toBe('completed');
    // and the list answers it (the view's reload after run.created)
    expect((await service.call('runs.list', {})).runs.map((r) => r.id)).toContain(runId);
  }, 240_000);

  it('hears an import and a deletion made by another process', async () => {
    const { runs } = await service.call('runs.list', {});
    const runId = runs[0]!.id;
    const bundle = path.join(work, 'run.vaewb.zip');
    expect(cli(['export', String(runId), '--out', bundle]).status).toBe(0);
    const before = events.length;
    const imported = cli(['import', bundle, '--again', '--json']);
    expect(imported.status, imported.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    const created = events.slice(before).filter(({ e }) => e.event === 'run.created');
    expect(created).toHaveLength(1);
    const newId = (created[0]!.e.payload as { id: number }).id;
    expect(newId).not.toBe(runId);

    // delete through a second connection of another process (sqlite3 through node), as a CLI of a later release would
    const del = spawnSync(
      process.execPath,
      [
        '-e',
        `const D=require('better-sqlite3');const d=new D(process.argv[1]);d.pragma('foreign_keys=ON');d.prepare('DELETE FROM runs WHERE id=?').run(${newId});`,
        path.join(home, 'workbench.sqlite'),
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(del.status, del.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 1000));
    expect(events.some(({ e }) => e.event === 'run.deleted' && e.payload.runId === newId)).toBe(true);
  }, 120_000);

  it("does not repeat its own runs' events while other processes write (each point of its own run once)", async () => {
    const before = events.length;
    const { runId } = await service.call('runs.start', { config: { ...CONFIG, name: 'own run' } });
    const bundle = path.join(work, 'run.vaewb.zip');
    const finished = new Promise<void>((resolve) => {
      const off = service.onEvent((e) => {
        if (e.event === 'run.status' && e.payload.runId === runId && !['queued', 'running'].includes(e.payload.status)) {
          off();
          resolve();
        }
      });
    });
    // foreign writes while it trains: every one moves data_version, so the watcher looks each time
    let foreign = 0;
    let done = false;
    void finished.then(() => (done = true));
    while (!done) {
      // spawned without blocking: this very process runs the service that trains the run
      const child = spawn(process.execPath, [bin, 'import', bundle, '--again'], {
        cwd: work,
        env: { ...process.env, VAE_WORKBENCH_HOME: home },
        stdio: 'ignore',
      });
      expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
      foreign++;
    }
    await new Promise((r) => setTimeout(r, 800));
    expect(foreign).toBeGreaterThan(1);
    const mine = events.slice(before).filter(({ e }) => e.event === 'run.metrics' && e.payload.runId === runId);
    const keys = mine.flatMap(({ e }) => (e.event === 'run.metrics' ? e.payload.points.map((p) => `${p.name}@${p.step}`) : []));
    expect(new Set(keys).size).toBe(keys.length);
    expect(events.slice(before).filter(({ e }) => e.event === 'run.created' && e.payload.id === runId)).toHaveLength(1);
    expect(events.slice(before).filter(({ e }) => e.event === 'run.created')).toHaveLength(foreign + 1);
  }, 240_000);

  it('a one-shot CLI service does not watch', async () => {
    const quiet = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
    const seen: WorkbenchEvent[] = [];
    quiet.onEvent((e) => seen.push(e));
    const bundle = path.join(work, 'run.vaewb.zip');
    expect(cli(['import', bundle, '--again']).status).toBe(0);
    await new Promise((r) => setTimeout(r, 800));
    await quiet.close();
    expect(seen).toEqual([]);
  }, 60_000);
});
