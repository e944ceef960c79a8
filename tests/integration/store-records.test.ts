// Artifacts, checkpoints, log, deletion, export and the write-behind metric writer, on a real SQLite file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { PNG } from 'pngjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig, MetricWriter, RunStore } from '../built';

let dir: string;
let file: string;
let store: RunStore;

function newRun(name: string, latentDim = 20, parentId?: number) {
  const config = parseRunConfig({ name, model: { latentDim } });
  return store.createRun({
    name,
    configText: JSON.stringify({ name, model: { latentDim } }),
    config,
    dataset: 'mnist',
    seed: 1,
    appVersion: 't',
    parentId,
    tags: ['t1'],
  });
}

function png(width: number, height: number, shade: number): Buffer {
  const img = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    img.data[i * 4] = img.data[i * 4 + 1] = img.data[i * 4 + 2] = (shade + i) % 256;
    img.data[i * 4 + 3] = 255;
  }
  return PNG.sync.write(img);
}

const point = (name: string, step: number, value: number): MetricPoint => ({ name, step, epoch: step / 10, time: 1000 + step, value });

/** Minimal RFC 4180 parser (quoted fields with "" escapes, commas and newlines inside quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-rec-'));
  file = path.join(dir, 'runs.sqlite');
  store = RunStore.open(file);
});
afterEach(() => {
  if (store.isOpen) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('artifacts', () => {
  it('stores PNG images with meta and serves them back by id, filtered by kind and epoch', () => {
    const a = newRun('a');
    const b = newRun('b');
    const img1 = png(28, 28, 1);
    const m1 = store.addArtifact(a.id, {
      kind: 'prior-samples',
      epoch: 1,
      step: 100,
      mime: 'image/png',
      width: 28,
      height: 28,
      meta: { grid: 8 },
      data: img1,
    });
    store.addArtifact(a.id, { kind: 'prior-samples', epoch: 2, step: 200, mime: 'image/png', width: 28, height: 28, data: png(28, 28, 2) });
    store.addArtifact(a.id, {
      kind: 'reconstructions',
      epoch: 2,
      step: 200,
      mime: 'image/png',
      width: 28,
      height: 28,
      data: png(28, 28, 3),
    });
    store.addArtifact(b.id, {
      kind: 'prior-samples',
      epoch: 5,
      step: 500,
      mime: 'image/png',
      width: 28,
      height: 28,
      data: new Uint8Array(png(28, 28, 4)),
    });
    expect(m1).toMatchObject({ runId: a.id, kind: 'prior-samples', epoch: 1, meta: { grid: 8 } });
    expect(store.listArtifacts(a.id).map((x) => [x.kind, x.epoch])).toEqual([
      ['prior-samples', 1],
      ['prior-samples', 2],
      ['reconstructions', 2],
    ]);
    expect(store.listArtifacts(a.id, { kind: 'prior-samples' }).map((x) => x.epoch)).toEqual([1, 2]);
    expect(store.listArtifacts(a.id, { epoch: 2 }).map((x) => x.kind)).toEqual(['prior-samples', 'reconstructions']);
    expect(store.listArtifacts(a.id)[0]).toEqual(m1);
    const got = store.getArtifactData(m1.id)!;
    expect(got.mime).toBe('image/png');
    expect(Buffer.compare(got.data, img1)).toBe(0);
    const decoded = PNG.sync.read(got.data);
    expect([decoded.width, decoded.height, decoded.data[4]]).toEqual([28, 28, 2]);
    expect(store.getArtifactData(99999)).toBeNull();
    expect(store.artifactEpochs([a.id, b.id], 'prior-samples')).toEqual([1, 2, 5]);
    expect(store.artifactEpochs([a.id], 'reconstructions')).toEqual([2]);
  });
});

describe('checkpoints and log', () => {
  it('records checkpoints and removes one, returning its path', () => {
    const a = newRun('a');
    const c1 = store.addCheckpoint(a.id, { epoch: 1, step: 100, tag: 'interval', path: '/x/1', bytes: 10, metrics: { 'val/loss': 120 } });
    store.addCheckpoint(a.id, { epoch: 2, step: 200, tag: 'best', path: '/x/2', bytes: 11 });
    expect(store.listCheckpoints(a.id).map((c) => [c.tag, c.path, c.metrics])).toEqual([
      ['interval', '/x/1', { 'val/loss': 120 }],
      ['best', '/x/2', {}],
    ]);
    expect(store.removeCheckpoint(c1.id)).toEqual(c1);
    expect(store.removeCheckpoint(c1.id)).toBeNull();
    expect(store.listCheckpoints(a.id).map((c) => c.path)).toEqual(['/x/2']);
  });

  it('keeps a per-run log and returns the newest entries oldest first', () => {
    const a = newRun('a');
    const b = newRun('b');
    for (let i = 0; i < 10; i++) store.log(a.id, i === 9 ? 'error' : 'info', `line ${i}`, 5000 + i);
    store.log(b.id, 'warn', 'other run');
    const last3 = store.getLog(a.id, 3);
    expect(last3.map((l) => l.message)).toEqual(['line 7', 'line 8', 'line 9']);
    expect(last3[2]).toEqual({ runId: a.id, time: 5009, level: 'error', message: 'line 9' });
    expect(store.getLog(b.id).map((l) => l.level)).toEqual(['warn']);
  });
});

describe('deleteRun', () => {
  it('removes every row of the run in one go, returns checkpoint paths, and unlinks children', () => {
    const a = newRun('a');
    const keep = newRun('keep');
    const child = newRun('child', 20, a.id);
    expect(child.parentId).toBe(a.id);
    for (const id of [a.id, keep.id]) {
      store.appendMetrics(id, [point('train/loss', 1, 3), point('train/loss', 2, 2)]);
      store.addArtifact(id, { kind: 'manifold', epoch: 1, step: 1, mime: 'image/png', width: 2, height: 2, data: png(2, 2, 0) });
      store.addCheckpoint(id, { epoch: 1, step: 1, tag: 'last', path: `/ck/${id}`, bytes: 1 });
      store.log(id, 'info', 'hi');
    }
    const result = store.deleteRun(a.id);
    expect(result).toEqual({ deleted: true, removedPaths: [`/ck/${a.id}`] });
    expect(store.getRun(a.id)).toBeNull();
    expect(store.getRun(child.id)!.parentId).toBeNull();
    store.close();
    const db = new Database(file, { readonly: true });
    for (const table of ['run_tags', 'run_params', 'metrics', 'run_final', 'artifacts', 'checkpoints', 'run_log']) {
      const left = db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(a.id);
      const kept = db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(keep.id) as number;
      expect([table, left]).toEqual([table, 0]);
      expect(kept).toBeGreaterThan(0);
    }
    db.close();
    store = RunStore.open(file);
    expect(store.deleteRun(a.id)).toEqual({ deleted: false, removedPaths: [] });
  });
});

describe('transaction', () => {
  it('groups calls all or nothing', () => {
    expect(() =>
      store.transaction(() => {
        const r = newRun('half-imported');
        store.appendMetrics(r.id, [point('train/loss', 1, 1)]);
        throw new Error('bundle broken');
      }),
    ).toThrow('bundle broken');
    expect(store.listRuns().total).toBe(0);
    const id = store.transaction(() => {
      const r = newRun('imported');
      store.appendMetrics(r.id, [point('train/loss', 1, 1)]);
      return r.id;
    });
    expect(store.getRun(id)!.final).toEqual({ 'train/loss': 1 });
  });
});

describe('export', () => {
  it('exports runs as CSV and JSON that parse back, with params and final metrics', () => {
    const a = newRun('plain', 2);
    const b = newRun('tricky, "quoted"\nname', 5);
    store.setNotes(b.id, 'note with , comma');
    store.appendMetrics(a.id, [point('test/loss', 10, 101.25)]);
    store.appendMetrics(b.id, [point('test/loss', 10, 99.5), point('test/nll', 10, 95)]);

    const rows = parseCsv(store.exportRuns('csv'));
    const [header, ...body] = rows;
    expect(body).toHaveLength(2);
    const col = (k: string) => header!.indexOf(k);
    expect(col('params.model.latentDim')).toBeGreaterThan(0);
    expect(body.map((r) => r[col('name')])).toEqual(['plain', 'tricky, "quoted"\nname']);
    expect(body.map((r) => Number(r[col('params.model.latentDim')]))).toEqual([2, 5]);
    expect(body.map((r) => r[col('final.test/loss')])).toEqual(['101.25', '99.5']);
    expect(body.map((r) => r[col('final.test/nll')])).toEqual(['', '95']);
    expect(body[1]![col('notes')]).toBe('note with , comma');
    expect(body.every((r) => r.length === header!.length)).toBe(true);

    const json = JSON.parse(store.exportRuns('json', [b.id])) as Record<string, unknown>[];
    expect(json).toHaveLength(1);
    expect(json[0]).toMatchObject({
      id: b.id,
      name: 'tricky, "quoted"\nname',
      tags: ['t1'],
      'params.model.latentDim': 5,
      'final.test/nll': 95,
    });
  });

  it('exports raw series as CSV and JSON', () => {
    const a = newRun('a');
    const b = newRun('b');
    store.appendMetrics(a.id, [point('train/loss', 2, 1.5), point('train/loss', 1, 2.5), point('train/kl', 1, 0.25)]);
    store.appendMetrics(b.id, [point('train/loss', 1, 9)]);
    const [header, ...body] = parseCsv(store.exportSeries('csv', [a.id, b.id], ['train/loss']));
    expect(header).toEqual(['runId', 'runName', 'metric', 'step', 'epoch', 'time', 'value']);
    expect(body.map((r) => [Number(r[0]), r[2], Number(r[3]), Number(r[6])])).toEqual([
      [a.id, 'train/loss', 1, 2.5],
      [a.id, 'train/loss', 2, 1.5],
      [b.id, 'train/loss', 1, 9],
    ]);
    const all = JSON.parse(store.exportSeries('json', [a.id])) as { metric: string; value: number }[];
    expect(all.map((r) => [r.metric, r.value])).toEqual([
      ['train/kl', 0.25],
      ['train/loss', 2.5],
      ['train/loss', 1.5],
    ]);
  });
});

describe('MetricWriter', () => {
  it('buffers points from many runs and writes them in few transactions', async () => {
    const runs = [newRun('a'), newRun('b'), newRun('c')];
    const writer = new MetricWriter(store, { flushMs: 30, maxPoints: 2000 });
    // 3 runs x 300 points: under the size threshold, so nothing is written until the timer fires.
    for (let step = 0; step < 300; step++) for (const r of runs) writer.add(r.id, point('train/loss', step, step));
    expect(writer.pending).toBe(900);
    expect(store.countPoints(runs[0]!.id, 'train/loss')).toBe(0);
    const t0 = Date.now();
    while (writer.pending > 0 && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    expect(writer.pending).toBe(0);
    expect(writer.stats.flushes).toBe(1);
    for (const r of runs) expect(store.countPoints(r.id, 'train/loss')).toBe(300);
    // The size threshold flushes at once.
    const burst = Array.from({ length: 2500 }, (_, i) => point('train/kl', i, i));
    writer.add(runs[1]!.id, burst);
    expect(writer.pending).toBe(0);
    expect(store.countPoints(runs[1]!.id, 'train/kl')).toBe(2500);
    expect(store.getRun(runs[1]!.id)!.final['train/kl']).toBe(2499);
    writer.close();
    expect(() => writer.add(runs[0]!.id, point('x', 0, 0))).toThrow(/closed/);
  });

  it('keeps the other runs when one run was deleted meanwhile', () => {
    const a = newRun('a');
    const b = newRun('b');
    const errors: number[] = [];
    const writer = new MetricWriter(store, { flushMs: 10_000, onError: (_e, runId) => errors.push(runId) });
    writer.add(a.id, [point('train/loss', 1, 1)]);
    writer.add(b.id, [point('train/loss', 1, 2)]);
    store.deleteRun(a.id);
    expect(writer.flush()).toBe(1);
    expect(errors).toEqual([a.id]);
    expect(writer.stats.dropped).toBe(1);
    expect(store.countPoints(b.id, 'train/loss')).toBe(1);
    writer.close();
  });
});
