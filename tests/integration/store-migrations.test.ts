import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseRunConfig, MIGRATIONS, SCHEMA_VERSION, SchemaVersionError, migrate, RunStore } from '../built';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-mig-'));
  file = path.join(dir, 'runs.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function tables(db: Database.Database): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
}
function indexes(db: Database.Database): string[] {
  return db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];
}

/** A database as release 1 of the schema left it, with one finished run and its data, written by plain SQL. */
function writeV1Database(target: string): void {
  const db = new Database(target);
  db.pragma('journal_mode = WAL');
  expect(migrate(db, target, 1)).toEqual([1]);
  expect(db.pragma('user_version', { simple: true })).toBe(1);
  const config = parseRunConfig({ model: { latentDim: 3 }, seed: 11 });
  db.prepare(
    `INSERT INTO runs (id, name, status, created_at, started_at, finished_at, config_text, config_json, dataset, backend, app_version, seed, notes, last_step, last_epoch)
     VALUES (1, 'old run', 'completed', 1000, 1001, 2000, '{"model":{"latentDim":3},"seed":11}', ?, 'mnist', 'cpu', '0.0.9', 11, 'from v1', 300, 3)`,
  ).run(JSON.stringify(config));
  db.prepare(
    `INSERT INTO runs (id, name, status, created_at, config_text, config_json, dataset, app_version, seed)
     VALUES (2, 'was running when v1 crashed', 'running', 1500, '{}', '{}', 'mnist', '0.0.9', 1)`,
  ).run();
  db.prepare("INSERT INTO run_tags (run_id, tag) VALUES (1, 'legacy')").run();
  db.prepare("INSERT INTO run_params (run_id, key, value_num, value_text) VALUES (1, 'model.latentDim', 3, '3')").run();
  const ins = db.prepare('INSERT INTO metrics (run_id, name, step, epoch, time, value) VALUES (1, ?, ?, ?, ?, ?)');
  for (let step = 0; step <= 300; step++) ins.run('train/loss', step, step / 100, 1000 + step, 200 - step / 3);
  // v1 allowed two rows at one step; since v3 a step has one value and the later row wins.
  ins.run('train/loss', 150, 1.5, 1150, 42);
  // Inserted out of step order: the final value must be the one at step 3, not the last inserted.
  ins.run('test/loss', 3, 3, 1900, 101.5);
  ins.run('test/loss', 1, 1, 1500, 140);
  db.prepare(
    "INSERT INTO artifacts (run_id, kind, epoch, step, mime, width, height, meta, data, created_at) VALUES (1, 'prior-samples', 3, 300, 'image/png', 2, 2, '{\"grid\":8}', ?, 1999)",
  ).run(Buffer.from([137, 80, 78, 71]));
  db.prepare(
    "INSERT INTO checkpoints (run_id, epoch, step, tag, path, bytes, metrics, created_at) VALUES (1, 3, 300, 'last', '/ckpt/1/last', 1234, '{\"val/loss\":102}', 1998)",
  ).run();
  db.prepare("INSERT INTO run_log (run_id, time, level, message) VALUES (1, 1500, 'info', 'epoch 1 done')").run();
  db.close();
}

describe('store migrations', () => {
  it('has numbered, consecutive migrations', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
  });

  it('creates the full schema from an empty file', () => {
    RunStore.open(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(tables(db)).toEqual(
      expect.arrayContaining(['runs', 'run_tags', 'run_params', 'metrics', 'run_final', 'artifacts', 'checkpoints', 'run_log']),
    );
    expect(indexes(db)).toEqual(expect.arrayContaining(['run_params_key_num', 'run_final_name_value']));
    // metrics is clustered on its primary key (run_id, name, step): no rowid, no separate index.
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'metrics'").pluck().get()).toMatch(/WITHOUT ROWID/);
    db.close();
  });

  it('upgrades a v1 database with data to the current version, data intact and run_final backfilled', () => {
    writeV1Database(file);
    const store = RunStore.open(file);
    expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
    const run = store.getRun(1)!;
    expect(run).toMatchObject({
      id: 1,
      name: 'old run',
      status: 'completed',
      createdAt: 1000,
      startedAt: 1001,
      finishedAt: 2000,
      dataset: 'mnist',
      backend: 'cpu',
      appVersion: '0.0.9',
      seed: 11,
      notes: 'from v1',
      tags: ['legacy'],
      step: 300,
      epoch: 3,
      configText: '{"model":{"latentDim":3},"seed":11}',
    });
    expect(run.params['model.latentDim']).toBe(3);
    expect(run.final).toEqual({ 'train/loss': 100, 'test/loss': 101.5 });
    expect(store.countPoints(1, 'train/loss')).toBe(301);
    const [mid] = store.series([1], 'train/loss', { x: 'step', from: 150, to: 150, maxPoints: 10 });
    expect(mid!.points.map((p) => [p.step, p.y, p.time])).toEqual([[150, 42, 1150]]);
    const [s] = store.series([1], 'train/loss', { x: 'step', maxPoints: 50 });
    expect(s!.total).toBe(301);
    expect(s!.points[0]!.y).toBe(200);
    expect(store.listArtifacts(1)[0]).toMatchObject({ kind: 'prior-samples', meta: { grid: 8 } });
    expect(store.getArtifactData(store.listArtifacts(1)[0]!.id)!.data).toEqual(Buffer.from([137, 80, 78, 71]));
    expect(store.listCheckpoints(1)[0]).toMatchObject({ path: '/ckpt/1/last', metrics: { 'val/loss': 102 } });
    expect(store.getLog(1, 10).map((l) => l.message)).toEqual(['epoch 1 done']);
    // The upgraded store works for new writes: filtering by the new params index, final maintained on insert.
    expect(store.listRuns({ params: [{ key: 'model.latentDim', min: 3, max: 3 }] }).total).toBe(1);
    store.appendMetrics(1, [{ name: 'test/loss', step: 400, epoch: 4, time: 3000, value: 99 }]);
    expect(store.getRun(1)!.final['test/loss']).toBe(99);
    // A run a v1 app left running has no owner process: it is an orphan.
    expect(store.markInterrupted()).toBe(1);
    expect(store.getRun(2)!.status).toBe('interrupted');
    expect(store.integrityCheck()).toEqual(['ok']);
    store.close();
    // Reopening an up-to-date file applies nothing.
    const db = new Database(file);
    expect(migrate(db, file)).toEqual([]);
    db.close();
  });

  it('upgrades from every earlier version', () => {
    for (let v = 0; v < SCHEMA_VERSION; v++) {
      const f = path.join(dir, `v${v}.sqlite`);
      const db = new Database(f);
      migrate(db, f, v);
      expect(db.pragma('user_version', { simple: true })).toBe(v);
      db.close();
      const store = RunStore.open(f);
      expect(store.schemaVersion()).toBe(SCHEMA_VERSION);
      const run = store.createRun({ name: 'n', configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't' });
      store.appendMetrics(run.id, [{ name: 'a', step: 1, epoch: 0, time: 0, value: 2 }]);
      expect(store.getRun(run.id)!.final).toEqual({ a: 2 });
      store.close();
    }
  });

  it("shows an old run's test/fid (a classifier Fréchet distance) as test/fdClassifier, renamed once at open", () => {
    const store = RunStore.open(file);
    const a = store.createRun({ name: 'old', configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't' });
    const b = store.createRun({ name: 'both', configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't' });
    store.close();
    // rows as an earlier release wrote them
    const db = new Database(file);
    const ins = db.prepare('INSERT INTO metrics (run_id, name, step, epoch, time, value) VALUES (?, ?, ?, ?, ?, ?)');
    const fin = db.prepare('INSERT INTO run_final (run_id, name, value, step) VALUES (?, ?, ?, ?)');
    ins.run(a.id, 'test/fid', 100, 10, 5, 11.5);
    fin.run(a.id, 'test/fid', 11.5, 100);
    ins.run(b.id, 'test/fid', 100, 10, 5, 20);
    fin.run(b.id, 'test/fid', 20, 100);
    ins.run(b.id, 'test/fdClassifier', 100, 10, 5, 9);
    fin.run(b.id, 'test/fdClassifier', 9, 100);
    db.close();
    const again = RunStore.open(file);
    try {
      expect(again.getRun(a.id)!.final).toEqual({ 'test/fdClassifier': 11.5 });
      expect(again.getRun(b.id)!.final).toEqual({ 'test/fdClassifier': 9 }); // the current name wins
      expect(again.series([a.id], 'test/fdClassifier', { x: 'step', maxPoints: 10 })[0]!.points.map((p) => p.y)).toEqual([11.5]);
      // an older client asking for test/fid, and an old bundle's points written under it, meet the new name
      expect(again.series([a.id], 'test/fid', { x: 'step', maxPoints: 10 })[0]!.points.map((p) => p.y)).toEqual([11.5]);
      again.appendMetrics(a.id, [{ name: 'test/fid', step: 200, epoch: 20, time: 6, value: 8 }]);
      expect(again.getRun(a.id)!.final).toEqual({ 'test/fdClassifier': 8 });
      expect(again.metricNames([a.id, b.id])).toEqual(['test/fdClassifier']);
    } finally {
      again.close();
    }
  });

  it('refuses a database written by a newer release, naming both versions, and leaves it untouched', () => {
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.exec('CREATE TABLE future_table (x)');
    db.close();
    let error: unknown;
    try {
      RunStore.open(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaVersionError);
    const message = (error as Error).message;
    expect(message).toContain(`schema version ${SCHEMA_VERSION + 5}`);
    expect(message).toContain(`up to ${SCHEMA_VERSION}`);
    expect(message).toContain(file);
    const after = new Database(file, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    expect(tables(after)).toEqual(['future_table']);
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
  });
});
