import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricPoint } from '@shared/model-types';
import type { RunConfigInput } from '@shared/run-config';
import { processStartToken, parseRunConfig, SCHEMA_VERSION, RunNotFoundError, RunStore } from '../built';

let dir: string;
let store: RunStore;

function makeRun(s: RunStore, input: RunConfigInput, extra: { tags?: string[]; name?: string; status?: 'queued' | 'imported' } = {}) {
  const config = parseRunConfig(input);
  return s.createRun({
    name: extra.name ?? config.name,
    configText: JSON.stringify(input),
    config,
    dataset: config.data.dataset,
    seed: config.seed,
    appVersion: '0.1.0-test',
    tags: extra.tags ?? config.tags,
    status: extra.status,
  });
}

function pts(name: string, values: number[], startStep = 0, stepEvery = 1): MetricPoint[] {
  return values.map((value, i) => ({
    name,
    step: startStep + i * stepEvery,
    epoch: (startStep + i * stepEvery) / 100,
    time: 1_700_000_000_000 + i,
    value,
  }));
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-test-'));
  store = RunStore.open(path.join(dir, 'runs.sqlite'));
});
afterEach(() => {
  if (store.isOpen) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('RunStore: runs', () => {
  it('opens a WAL database with foreign keys on, at the current schema version', () => {
    store.close();
    const db = new Database(path.join(dir, 'runs.sqlite'));
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
    store = RunStore.open(path.join(dir, 'runs.sqlite'));
    expect(store.integrityCheck()).toEqual(['ok']);
  });

  it('refuses a file that is not a database with a message naming it', () => {
    const junk = path.join(dir, 'junk.sqlite');
    writeFileSync(junk, 'this is not a database, just some text that is long enough to look like a header '.repeat(20));
    expect(() => RunStore.open(junk)).toThrow(/cannot open the run database .*junk\.sqlite: file is not a database/);
  });

  it('loads the addon from an explicit nativeBinding path (Electron)', () => {
    const addon = path.resolve('node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    const other = RunStore.open(path.join(dir, 'other.sqlite'), { nativeBinding: addon });
    expect(other.integrityCheck()).toEqual(['ok']);
    other.close();
    expect(() => RunStore.open(path.join(dir, 'third.sqlite'), { nativeBinding: path.join(dir, 'missing.node') })).toThrow();
  });

  it('creates a run keeping the config text verbatim and the filled config, params flattened', () => {
    const text = '{ "model": { "latentDim": 2 },   "seed": 7 }';
    const config = parseRunConfig(JSON.parse(text));
    const run = store.createRun({
      name: 'two-d',
      configText: text,
      config,
      dataset: 'mnist',
      seed: 7,
      appVersion: '0.1.0',
      tags: ['a', 'b', 'a', ' '],
    });
    expect(run.id).toBeGreaterThan(0);
    expect(run.status).toBe('queued');
    expect(run.configText).toBe(text);
    expect((run.config as { model: { latentDim: number; hidden: number[] } }).model.hidden).toEqual([400]);
    expect(run.params['model.latentDim']).toBe(2);
    expect(run.params['eval.fid']).toBe(true);
    expect(run.params['model.hidden']).toBe('[400]');
    expect(run.tags).toEqual(['a', 'b']);
    expect(run.final).toEqual({});
    expect(store.getRun(run.id)).toEqual(run);
    expect(store.getRun(9999)).toBeNull();
  });

  it('names an unnamed run after its id and marks imports', () => {
    const run = makeRun(store, {}, { name: '', status: 'imported' });
    expect(run.name).toBe(`run-${run.id}`);
    expect(run.status).toBe('imported');
  });

  it('sets status with start and finish times, error and backend', () => {
    const run = makeRun(store, {});
    const r1 = store.setStatus(run.id, 'running', { backend: 'wasm' });
    expect(r1.status).toBe('running');
    expect(r1.startedAt).not.toBeNull();
    expect(r1.finishedAt).toBeNull();
    expect(r1.backend).toBe('wasm');
    store.updateProgress(run.id, 120, 2.5);
    const r2 = store.setStatus(run.id, 'failed', { error: 'out of memory' });
    expect(r2.finishedAt).not.toBeNull();
    expect(r2.error).toBe('out of memory');
    expect(r2.step).toBe(120);
    expect(r2.epoch).toBe(2.5);
    expect(() => store.setStatus(4242, 'running')).toThrow(RunNotFoundError);
  });

  it('marks runs left running or queued as interrupted', () => {
    const a = makeRun(store, {});
    const b = makeRun(store, {});
    const c = makeRun(store, {});
    store.setStatus(a.id, 'running');
    store.setStatus(c.id, 'completed');
    store.close();
    store = RunStore.open(path.join(dir, 'runs.sqlite'));
    expect(store.markInterrupted()).toBe(2);
    const ra = store.getRun(a.id)!;
    expect(ra.status).toBe('interrupted');
    expect(ra.error).toMatch(/interrupted/);
    expect(ra.finishedAt).not.toBeNull();
    expect(store.getRun(b.id)!.status).toBe('interrupted');
    expect(store.getRun(c.id)!.status).toBe('completed');
    expect(store.getRun(c.id)!.error).toBeNull();
    expect(store.markInterrupted()).toBe(0);
  });

  it('leaves runs owned by another live process alone', async () => {
    const mine = makeRun(store, {});
    const theirs = makeRun(store, {});
    store.setStatus(mine.id, 'running');
    store.setStatus(theirs.id, 'running');
    // Another process (standing in for the app while the command line opens the same file) owns `theirs`.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await new Promise((r) => other.once('spawn', r));
    const db = new Database(path.join(dir, 'runs.sqlite'));
    // An owner is its pid plus its start time (a pid alone could be a zombie or reused).
    db.prepare('UPDATE runs SET owner_pid = ?, owner_start = ? WHERE id = ?').run(other.pid, processStartToken(other.pid!), theirs.id);
    db.close();
    try {
      expect(store.markInterrupted()).toBe(1);
      expect(store.getRun(mine.id)!.status).toBe('interrupted');
      expect(store.getRun(theirs.id)!.status).toBe('running');
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    // Once the owner is gone, its runs are orphans.
    expect(store.markInterrupted()).toBe(1);
    expect(store.getRun(theirs.id)!.status).toBe('interrupted');
    const q = makeRun(store, {});
    expect(store.markInterrupted({ all: true })).toBe(1);
    expect(store.getRun(q.id)!.status).toBe('interrupted');
  });

  it('renames, tags and annotates; refuses unknown runs', () => {
    const run = makeRun(store, {});
    store.rename(run.id, 'renamed');
    store.setTags(run.id, ['x', 'y']);
    store.setNotes(run.id, 'a note');
    const r = store.getRun(run.id)!;
    expect([r.name, r.tags, r.notes]).toEqual(['renamed', ['x', 'y'], 'a note']);
    expect(() => store.rename(777, 'n')).toThrow(RunNotFoundError);
    expect(() => store.setTags(777, ['n'])).toThrow(RunNotFoundError);
    expect(() => store.setNotes(777, 'n')).toThrow(RunNotFoundError);
    expect(store.allTags()).toEqual([
      { tag: 'x', count: 1 },
      { tag: 'y', count: 1 },
    ]);
  });
});

describe('RunStore: listing, filtering and sorting', () => {
  // Six runs with known latent sizes, learning rates, tags, statuses and final losses.
  const specs = [
    { name: 'alpha', latentDim: 2, lr: 0.001, tags: ['sweep'], status: 'completed', loss: 150 },
    { name: 'beta', latentDim: 5, lr: 0.01, tags: ['sweep', 'best'], status: 'completed', loss: 110 },
    { name: 'gamma', latentDim: 10, lr: 0.0003, tags: [], status: 'failed', loss: 130 },
    { name: 'delta', latentDim: 20, lr: 0.001, tags: ['sweep'], status: 'completed', loss: 98 },
    { name: 'epsilon', latentDim: 50, lr: 0.003, tags: [], status: 'running', loss: 120 },
    { name: 'zeta', latentDim: 20, lr: 0.001, tags: [], status: 'queued', loss: null },
  ] as const;
  let ids: Record<string, number>;

  beforeEach(() => {
    ids = {};
    for (const [i, s] of specs.entries()) {
      const run = store.createRun({
        name: s.name,
        configText: '{}',
        config: parseRunConfig({ model: { latentDim: s.latentDim }, optimizer: { learningRate: s.lr } }),
        dataset: 'mnist',
        seed: i + 1,
        appVersion: 't',
        tags: [...s.tags],
      });
      ids[s.name] = run.id;
      if (s.status !== 'queued') store.setStatus(run.id, s.status);
      if (s.loss !== null) {
        // The last point (largest step) is the final value, even though a lower value came earlier.
        store.appendMetrics(run.id, [...pts('test/loss', [s.loss + 50, s.loss - 5], 0, 100), ...pts('test/loss', [s.loss], 200)]);
      }
      store.setNotes(run.id, s.name === 'gamma' ? 'diverged after lr warmup' : '');
    }
  });

  const names = (r: { runs: { name: string }[] }) => r.runs.map((x) => x.name);

  it('lists all runs newest first by default, with totals and paging', () => {
    const all = store.listRuns();
    expect(all.total).toBe(6);
    expect(names(all)).toEqual(['zeta', 'epsilon', 'delta', 'gamma', 'beta', 'alpha']);
    const page = store.listRuns({ limit: 2, offset: 2 });
    expect(page.total).toBe(6);
    expect(names(page)).toEqual(['delta', 'gamma']);
  });

  it('keeps the final value of each metric (the value at the largest step)', () => {
    expect(store.getRun(ids.delta!)!.final).toEqual({ 'test/loss': 98 });
  });

  it('filters by status, tag and text', () => {
    expect(names(store.listRuns({ status: ['completed'], sort: { key: 'name', dir: 'asc' } }))).toEqual(['alpha', 'beta', 'delta']);
    expect(names(store.listRuns({ status: ['failed', 'running'], sort: { key: 'name', dir: 'asc' } }))).toEqual(['epsilon', 'gamma']);
    expect(names(store.listRuns({ tag: 'sweep', sort: { key: 'name', dir: 'asc' } }))).toEqual(['alpha', 'beta', 'delta']);
    expect(names(store.listRuns({ tag: 'best' }))).toEqual(['beta']);
    expect(names(store.listRuns({ text: 'LTA' }))).toEqual(['delta']);
    expect(names(store.listRuns({ text: 'warmup' }))).toEqual(['gamma']);
    expect(names(store.listRuns({ text: `#${ids.beta}` }))).toEqual(['beta']);
    expect(store.listRuns({ text: '%' }).total).toBe(0);
  });

  it('filters by param range and equality', () => {
    const r = store.listRuns({
      params: [{ key: 'model.latentDim', min: 5, max: 20 }],
      sort: { key: 'params.model.latentDim', dir: 'asc' },
    });
    expect(names(r)).toEqual(['beta', 'gamma', 'delta', 'zeta']);
    expect(r.total).toBe(4);
    const both = store.listRuns({
      params: [
        { key: 'model.latentDim', equals: 20 },
        { key: 'optimizer.learningRate', equals: 0.001 },
      ],
      sort: { key: 'name', dir: 'asc' },
    });
    expect(names(both)).toEqual(['delta', 'zeta']);
    expect(names(store.listRuns({ params: [{ key: 'model.latentDim', equals: '50' }] }))).toEqual(['epsilon']);
    expect(store.listRuns({ params: [{ key: 'model.kind', equals: 'vae' }] }).total).toBe(6);
    expect(store.listRuns({ params: [{ key: 'eval.fid', equals: true }] }).total).toBe(6);
    expect(store.listRuns({ params: [{ key: 'eval.fid', equals: false }] }).total).toBe(0);
  });

  it('filters by final metrics ({key, op, value}), in SQL, ANDed with the other filters', () => {
    const m = (metrics: { key: string; op: '<' | '<=' | '>' | '>=' | '=' | '!='; value: number }[], extra = {}) =>
      names(store.listRuns({ metrics, sort: { key: 'name', dir: 'asc' }, ...extra }));
    expect(m([{ key: 'test/loss', op: '<', value: 130 }])).toEqual(['beta', 'delta', 'epsilon']);
    expect(m([{ key: 'test/loss', op: '<=', value: 130 }])).toEqual(['beta', 'delta', 'epsilon', 'gamma']);
    // the final value (largest step) counts, not an earlier point: alpha went through 145 and ended at 150
    expect(m([{ key: 'test/loss', op: '<=', value: 145 }])).not.toContain('alpha');
    expect(m([{ key: 'test/loss', op: '>', value: 130 }])).toEqual(['alpha']);
    expect(m([{ key: 'test/loss', op: '=', value: 98 }])).toEqual(['delta']);
    // a run without the metric (zeta) is left out, even by !=
    expect(m([{ key: 'test/loss', op: '!=', value: 98 }])).toEqual(['alpha', 'beta', 'epsilon', 'gamma']);
    expect(
      m(
        [
          { key: 'test/loss', op: '>=', value: 100 },
          { key: 'test/loss', op: '<', value: 140 },
        ],
        { params: [{ key: 'model.latentDim', max: 10 }], tag: 'sweep' },
      ),
    ).toEqual(['beta']);
    expect(m([{ key: 'test/activeUnits', op: '>=', value: 0 }])).toEqual([]);
    expect(() => store.listRuns({ metrics: [{ key: 'test/loss', op: 'LIKE' as never, value: 1 }] })).toThrow(/unknown operator "LIKE"/);
  });

  it('sorts by a param and by a final metric, missing values last', () => {
    expect(names(store.listRuns({ sort: { key: 'params.optimizer.learningRate', dir: 'desc' } }))).toEqual([
      'beta',
      'epsilon',
      'zeta', // ties (lr 0.001) follow the id in the same direction
      'delta',
      'alpha',
      'gamma',
    ]);
    expect(names(store.listRuns({ sort: { key: 'final.test/loss', dir: 'asc' } }))).toEqual([
      'delta',
      'beta',
      'epsilon',
      'gamma',
      'alpha',
      'zeta',
    ]);
    expect(names(store.listRuns({ sort: { key: 'final.test/loss', dir: 'desc' } }))).toEqual([
      'alpha',
      'gamma',
      'epsilon',
      'beta',
      'delta',
      'zeta',
    ]);
    expect(names(store.listRuns({ status: ['completed'], sort: { key: 'final.test/loss', dir: 'asc' }, limit: 1 }))).toEqual(['delta']);
    expect(() => store.listRuns({ sort: { key: 'bogus', dir: 'asc' } })).toThrow(/bogus/);
  });

  it('diffs params across runs', () => {
    const diff = store.paramDiff([ids.alpha!, ids.delta!, 99999]);
    const byKey = Object.fromEntries(diff.map((d) => [d.key, d]));
    expect(byKey['model.latentDim']).toEqual({ key: 'model.latentDim', values: [2, 20, null], differs: true });
    const two = store.paramDiff([ids.alpha!, ids.delta!]);
    const twoByKey = Object.fromEntries(two.map((d) => [d.key, d]));
    expect(twoByKey['optimizer.learningRate']).toEqual({ key: 'optimizer.learningRate', values: [0.001, 0.001], differs: false });
    expect(twoByKey['model.latentDim']!.differs).toBe(true);
    expect(twoByKey['seed']!.values).toEqual([1, 1]); // the config's seed (defaulted), not the column
    expect(two.filter((d) => d.differs).map((d) => d.key)).toEqual(['model.latentDim']);
  });

  it('lists metric names of runs', () => {
    store.appendMetrics(ids.alpha!, pts('train/loss', [1, 2]));
    expect(store.metricNames([ids.alpha!, ids.beta!])).toEqual(['test/loss', 'train/loss']);
    expect(store.metricNames([ids.zeta!])).toEqual([]);
  });
});

describe('RunStore: series', () => {
  it('returns all points when they fit, ordered by x', () => {
    const run = makeRun(store, {});
    // Inserted out of order on purpose.
    store.appendMetrics(run.id, [...pts('train/loss', [5, 6], 10), ...pts('train/loss', [1, 2, 3], 0)]);
    const [s] = store.series([run.id], 'train/loss', { x: 'step', maxPoints: 100 });
    expect(s!.downsampled).toBe(false);
    expect(s!.total).toBe(5);
    expect(s!.points.map((p) => [p.x, p.y])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [10, 5],
      [11, 6],
    ]);
  });

  it('downsamples keeping first, last and a spike, within maxPoints, respecting an x range', () => {
    const run = makeRun(store, {});
    const n = 10_000;
    const values = Array.from({ length: n }, (_, i) => 100 * Math.exp(-i / 2000) + Math.sin(i) * 0.5);
    values[6543] = 1e6; // a spike
    values[7001] = -1e6; // a dip
    store.appendMetrics(run.id, pts('train/loss', values));
    for (const maxPoints of [500, 37, 4, 3, 2]) {
      const [s] = store.series([run.id], 'train/loss', { x: 'step', maxPoints });
      expect(s!.total).toBe(n);
      expect(s!.downsampled).toBe(true);
      expect(s!.points.length).toBeLessThanOrEqual(maxPoints);
      expect(s!.points[0]!.step).toBe(0);
      expect(s!.points.at(-1)!.step).toBe(n - 1);
      const xs = s!.points.map((p) => p.x);
      expect(xs).toEqual([...xs].sort((a, b) => a - b));
      expect(new Set(xs).size).toBe(xs.length);
      if (maxPoints >= 6) {
        expect(s!.points.some((p) => p.y === 1e6 && p.step === 6543)).toBe(true);
        expect(s!.points.some((p) => p.y === -1e6 && p.step === 7001)).toBe(true);
      }
    }
    const [r] = store.series([run.id], 'train/loss', { x: 'step', from: 2000, to: 2999, maxPoints: 100 });
    expect(r!.total).toBe(1000);
    expect(r!.points[0]!.step).toBe(2000);
    expect(r!.points.at(-1)!.step).toBe(2999);
    expect(r!.points.every((p) => p.x >= 2000 && p.x <= 2999)).toBe(true);
    expect(r!.points.length).toBeLessThanOrEqual(100);
    expect(r!.points.length).toBeGreaterThan(90);
    // x = epoch (step / 100 here): the range applies to epochs.
    const [e] = store.series([run.id], 'train/loss', { x: 'epoch', from: 10, to: 20, maxPoints: 5000 });
    expect(e!.total).toBe(1001);
    expect(e!.downsampled).toBe(false);
    expect(e!.points[0]!.x).toBe(10);
    expect(e!.points.at(-1)!.x).toBe(20);
  });

  it('returns an empty series for a run without the metric; several runs at once', () => {
    const a = makeRun(store, {});
    const b = makeRun(store, {});
    store.appendMetrics(a.id, pts('val/loss', [3, 2, 1]));
    const out = store.series([a.id, b.id], 'val/loss', { x: 'time', maxPoints: 10 });
    expect(out.map((s) => [s.runId, s.total, s.points.length])).toEqual([
      [a.id, 3, 3],
      [b.id, 0, 0],
    ]);
    expect(out[0]!.points[0]!.x).toBe(1_700_000_000_000);
    expect(() => store.series([a.id], 'val/loss', { x: 'step', maxPoints: 0 })).toThrow(/maxPoints/);
  });

  it('keeps one value per step: a re-reported step replaces the old value', () => {
    const run = makeRun(store, {});
    store.appendMetrics(run.id, pts('train/loss', [5, 4, 3]));
    store.appendMetrics(run.id, [{ name: 'train/loss', step: 1, epoch: 0.01, time: 5, value: 40 }]);
    const [s] = store.series([run.id], 'train/loss', { x: 'step', maxPoints: 10 });
    expect(s!.points.map((p) => p.y)).toEqual([5, 40, 3]);
    expect(store.getRun(run.id)!.final['train/loss']).toBe(3);
    store.appendMetrics(run.id, [{ name: 'train/loss', step: 2, epoch: 0.02, time: 6, value: 30 }]);
    expect(store.getRun(run.id)!.final['train/loss']).toBe(30);
  });

  it('skips non-finite values and refuses points of unknown runs', () => {
    const run = makeRun(store, {});
    expect(store.appendMetrics(run.id, pts('train/loss', [1, Number.NaN, Infinity, 4]))).toBe(2);
    expect(store.countPoints(run.id, 'train/loss')).toBe(2);
    expect(() => store.appendMetrics(4242, pts('train/loss', [1]))).toThrow(/FOREIGN KEY/);
  });
});
