// Issue 23 cases 3 and 4: a sweep folder on a shared file system is written by anyone. A FIFO as a task log, a
// `runs` VIEW over 3e7 generated rows, a checkpoint path pointing outside the task home, a 20 MB run name and deeply
// nested artifact meta must each be refused with a reason on the task, quickly, with nothing copied into the data
// home, and the web host (a real socket) keeps answering.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../../../src-main/hosts/web/server';
import { callApi, startTestHost, type TestHost } from './web-host-fixture';
import { RunStore, type WorkbenchService } from '../../built';

let home: string;
let service: WorkbenchService;
let host: WebHost;

const api = (name: string, body: unknown, timeoutMs = 10_000) => callApi(host, name, body, { timeoutMs });
async function stillServing() {
  const r = await api('app.info', {}, 3000);
  expect(r.status).toBe(200);
}

/** A sweep of `tasks` tasks whose folder is `root` (no Slurm job: sync reads only the folder). */
function makeSweep(name: string, tasks: number): { id: number; root: string } {
  const root = path.join(home, 'shared', name);
  for (const d of ['logs', 'configs', 'tasks']) mkdirSync(path.join(root, d), { recursive: true });
  const repo = service.cluster.repo;
  const id = repo.create({ name, target: 'slurm', options: {}, spec: {}, configs: Array.from({ length: tasks }, () => ({})) });
  repo.setFolder(id, root);
  return { id, root };
}
const taskHome = (root: string, i: number) => path.join(root, 'tasks', String(i), 'home');
const finished = (root: string, i: number) => {
  mkdirSync(path.join(root, 'tasks', String(i)), { recursive: true });
  writeFileSync(path.join(root, 'tasks', String(i), 'exit'), '0\n');
};

/** A completed run in a task home, made by the real store; `edit` changes it afterwards with raw SQL. */
function completedTask(root: string, i: number, edit?: (db: Database.Database, runId: number) => void): string {
  const h = taskHome(root, i);
  const store = RunStore.open(path.join(h, 'workbench.sqlite'));
  const run = store.createRun({ name: `task ${i}`, configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't' });
  store.setStatus(run.id, 'running', { backend: 'wasm' });
  store.appendMetrics(run.id, [{ name: 'train/loss', step: 1, epoch: 1, time: 1, value: 2 }]);
  store.setStatus(run.id, 'completed');
  store.close();
  if (edit) {
    const db = new Database(path.join(h, 'workbench.sqlite'));
    edit(db, run.id);
    db.close();
  }
  finished(root, i);
  return h;
}
const importedRuns = () => service.store.listRuns({}).total;
const runDirs = () => (existsSync(path.join(home, 'data', 'runs')) ? readdirSync(path.join(home, 'data', 'runs')) : []);

let fixture: TestHost;
beforeAll(async () => {
  fixture = await startTestHost('vae-hostile-sweep-');
  ({ home, service, host } = fixture);
});
afterAll(() => fixture?.close());

describe('a hostile sweep folder', () => {
  it('a FIFO as a task log does not block the host: sync answers at once and says what the log is', async () => {
    const { id, root } = makeSweep('fifo', 1);
    execFileSync('mkfifo', [path.join(root, 'logs', '0.log')]);
    mkdirSync(path.join(root, 'tasks', '0'), { recursive: true });
    execFileSync('mkfifo', [path.join(root, 'tasks', '0', 'exit')]);
    const r = await api('sweeps.sync', { sweepId: id }, 5000);
    expect(r.status).toBe(200);
    expect(r.json.result.tasks[0].logTail).toContain('is a FIFO (named pipe), not a regular file');
    expect(r.ms).toBeLessThan(3000);
    await stillServing();
  });

  it('a runs VIEW over 3e7 generated rows is refused as not a table, without stalling sweeps.list', async () => {
    const { id, root } = makeSweep('view', 1);
    const h = taskHome(root, 0);
    mkdirSync(h, { recursive: true });
    const db = new Database(path.join(h, 'workbench.sqlite'));
    db.exec(`CREATE TABLE metrics (run_id, name, step, epoch, time, value);
      CREATE VIEW runs AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000000)
      SELECT i AS id, 'r' AS name, 'completed' AS status, 0 AS last_step, 0 AS last_epoch FROM n;`);
    db.close();
    finished(root, 0);
    const s = await api('sweeps.sync', { sweepId: id });
    expect(s.status).toBe(200);
    expect(s.json.result.tasks[0].reason).toContain('"runs" in the task\'s database is a view, not a table');
    expect(s.json.result.done).toBe(true);
    const l = await api('sweeps.list', {});
    expect(l.status).toBe(200);
    expect(l.ms, 'sweeps.list time').toBeLessThan(1500);
    expect((await api('sweeps.sync', { sweepId: id })).status).toBe(200); // and again: not failing forever
    await stillServing();
  });

  it('a checkpoint path pointing outside the task home is refused; nothing is copied into the data home', async () => {
    const outside = path.join(home, 'outside-secret');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'id_rsa'), 'secret');
    const { id, root } = makeSweep('ckpt', 1);
    completedTask(root, 0, (db, runId) =>
      db
        .prepare(
          "INSERT INTO checkpoints (run_id, epoch, step, tag, path, bytes, metrics, created_at) VALUES (?, 1, 1, 'last', ?, 6, '{}', 1)",
        )
        .run(runId, outside),
    );
    const before = importedRuns();
    const s = await api('sweeps.sync', { sweepId: id });
    expect(s.status).toBe(200);
    expect(s.json.result.tasks[0].reason).toMatch(/not imported: .*outside-secret is outside/);
    expect(importedRuns()).toBe(before);
    expect(runDirs().filter((d) => !d.startsWith('.'))).toEqual([]);
    expect(runDirs().join()).not.toContain('import-sweep');
    await stillServing();
  });

  it('a 20 MB run name and artifact meta nested 5,000 deep are refused naming the limit; a good task beside them comes home', async () => {
    const { id, root } = makeSweep('names', 3);
    completedTask(root, 0, (db, runId) => db.prepare('UPDATE runs SET name = ? WHERE id = ?').run('n'.repeat(20_000_000), runId));
    completedTask(root, 1, (db, runId) =>
      db
        .prepare(
          "INSERT INTO artifacts (run_id, kind, epoch, step, mime, width, height, meta, data, created_at) VALUES (?, 'prior-samples', 1, 1, 'image/png', 1, 1, ?, x'00', 1)",
        )
        .run(runId, '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)),
    );
    completedTask(root, 2);
    const s = await api('sweeps.sync', { sweepId: id }, 20_000);
    expect(s.status).toBe(200);
    const [t0, t1, t2] = s.json.result.tasks;
    expect(t0.reason).toContain('RUN_NAME_MAX_CHARS');
    expect(t1.reason).toContain('UNTRUSTED_MAX_DEPTH');
    expect(t2.runId).toBeGreaterThan(0);
    // Imported by this sync, or a moment before by the host's own sweep follower (its timer races this call).
    expect([[], [t2.runId]]).toContainEqual(s.json.result.importedNow);
    expect((await api('runs.list', {})).json.result.runs.map((r: { name: string }) => r.name.length)).toEqual([6]);
    await stillServing();
  });

  it('a task home that is a symbolic link to a data home outside the sweep folder is refused', async () => {
    const elsewhere = makeSweep('elsewhere', 1); // a completed run in some other folder
    const outsideHome = completedTask(elsewhere.root, 0);
    const { id, root } = makeSweep('linked', 1);
    mkdirSync(path.join(root, 'tasks', '0'), { recursive: true });
    symlinkSync(outsideHome, taskHome(root, 0));
    finished(root, 0);
    const before = importedRuns();
    const s = await api('sweeps.sync', { sweepId: id });
    expect(s.status).toBe(200);
    expect(s.json.result.tasks[0].reason).toMatch(/not imported: .*leads outside/);
    expect(importedRuns()).toBe(before);
    await stillServing();
  });
});
