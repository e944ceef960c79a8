import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '@shared/model-types';
import type { RunConfigInput } from '@shared/run-config';
import type { NamedTensor } from '../../src-main/checkpoints/checkpoint-dir';
import { seededPng, seededValues } from '../unit/synthetic-data';
import {
  parseRunConfig,
  expectedWeightShapes,
  BundleError,
  parseBundle,
  buildBundle,
  prepareRunBundle,
  exportRunBundle,
  importRunBundle,
  readCheckpointDir,
  writeCheckpointDir,
  RunStore,
  initBackend,
  modelSpecFromConfig,
  VaeModel,
} from '../built';

interface Home {
  root: string;
  runsDir: string;
  store: RunStore;
}

function openHome(root: string): Home {
  const runsDir = path.join(root, 'runs');
  mkdirSync(runsDir, { recursive: true });
  return { root, runsDir, store: RunStore.open(path.join(root, 'runs.sqlite')) };
}

/** Everything a refused import must leave untouched: rows of every table we write, and the files under runsDir. */
function fingerprint(home: Home): string {
  const runs = home.store.listRuns({}).runs;
  const perRun = runs.map((r) => ({
    id: r.id,
    metrics: home.store.exportSeries('json', [r.id]),
    artifacts: home.store.listArtifacts(r.id).length,
    checkpoints: home.store.listCheckpoints(r.id).map((c) => c.path),
    log: home.store.getLog(r.id).length,
  }));
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      files.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  if (existsSync(home.runsDir)) walk(home.runsDir);
  return JSON.stringify({ runs: runs.map((r) => [r.id, r.name, r.status]), perRun, files });
}

/** A finished run in `home`: a real VaeModel's weights (randomized), Adam-like slots, metrics, two checkpoints, artifacts. */
function seedRun(home: Home, model: RunConfigInput['model']): { runId: number; weights: NamedTensor[]; slots: NamedTensor[] } {
  const configInput: RunConfigInput = { name: 'mnist small', seed: 5, model, data: { dataset: 'mnist' }, tags: ['seeded'] };
  const config = parseRunConfig(configInput);
  const run = home.store.createRun({
    name: 'mnist small',
    configText: JSON.stringify(configInput, null, 2),
    config,
    dataset: 'mnist',
    seed: 5,
    appVersion: '0.1.0',
    backend: 'wasm',
    tags: ['seeded', 'bundle-test'],
    notes: 'a note',
  });
  home.store.setStatus(run.id, 'running');
  const weights: NamedTensor[] = expectedWeightShapes(config, [28, 28, 1]).map((e, i) => ({
    ...e,
    data: seededValues(
      e.shape.reduce((a, b) => a * b, 1),
      10 + i,
    ),
  }));
  const slots = weights.flatMap((w, i) => [
    { name: `${w.name}/m`, shape: w.shape, data: seededValues(w.data.length, 500 + i) },
    { name: `${w.name}/v`, shape: w.shape, data: seededValues(w.data.length, 900 + i).map(Math.abs) },
  ]);
  const points: MetricPoint[] = [];
  for (let step = 0; step <= 200; step += 10)
    for (const name of ['train/loss', 'train/kl', 'val/loss'])
      points.push({ name, step, epoch: step / 100, time: 1_700_000_000_000 + step * 37, value: 250 - step / 3 + name.length });
  home.store.appendMetrics(run.id, points);
  for (const [tag, epoch, step, shift] of [
    ['best', 1, 100, 0],
    ['last', 2, 200, 0.25],
  ] as const) {
    const dir = path.join(home.runsDir, String(run.id), 'checkpoints', tag);
    const w = weights.map((t) => ({ ...t, data: t.data.map((v) => v + shift) }));
    const bytes = writeCheckpointDir(dir, {
      runId: run.id,
      epoch,
      step,
      config,
      weights: w,
      optimizer: { name: 'adam', iterations: step, slots },
      metrics: { 'val/loss': 180 + epoch },
      backend: 'wasm',
      createdAt: 1_700_000_050_000 + step,
    });
    home.store.addCheckpoint(run.id, { epoch, step, tag, path: dir, bytes, metrics: { 'val/loss': 180 + epoch } });
  }
  home.store.addArtifact(run.id, {
    kind: 'prior-samples',
    epoch: 1,
    step: 100,
    mime: 'image/png',
    width: 4,
    height: 3,
    meta: { grid: 2 },
    data: seededPng(4, 3, 1),
  });
  home.store.addArtifact(run.id, {
    kind: 'reconstructions',
    epoch: 2,
    step: 200,
    mime: 'image/png',
    width: 5,
    height: 2,
    meta: { labels: [3, 4] },
    data: seededPng(5, 2, 2),
  });
  home.store.setStatus(run.id, 'completed');
  return { runId: run.id, weights, slots };
}

function sameTensors(a: NamedTensor[], b: NamedTensor[]): void {
  expect(b.map((t) => t.name)).toEqual(a.map((t) => t.name));
  for (const [i, t] of a.entries()) {
    expect(b[i]!.shape).toEqual(t.shape);
    expect(
      Buffer.from(b[i]!.data.buffer, b[i]!.data.byteOffset, b[i]!.data.byteLength).equals(
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      ),
    ).toBe(true);
  }
}

describe('bundle service: export from a store, import into another', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'bundle-svc-'));
  let source: Home;
  let target: Home;
  let seeded: ReturnType<typeof seedRun>;

  beforeAll(async () => {
    await initBackend();
    source = openHome(path.join(tmp, 'source'));
    target = openHome(path.join(tmp, 'target'));
    seeded = seedRun(source, { hidden: [32], latentDim: 4 });
  });
  afterAll(() => {
    source?.store.close();
    target?.store.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('exports the best checkpoint by default, a chosen one on request', () => {
    const best = parseBundle(exportRunBundle(source.store, seeded.runId, { appVersion: '0.1.0' }).bytes);
    expect(best.checkpoint.tag).toBe('best');
    sameTensors(seeded.weights, best.weights);
    const lastMeta = source.store.listCheckpoints(seeded.runId).find((c) => c.tag === 'last')!;
    const out = exportRunBundle(source.store, seeded.runId, { appVersion: '0.1.0', checkpointId: lastMeta.id });
    expect(out.filename).toBe('mnist-small-last-epoch2.vae-bundle.zip');
    const last = parseBundle(out.bytes);
    expect(last.checkpoint).toMatchObject({ tag: 'last', epoch: 2, step: 200 });
    expect(last.weights[0]!.data[0]).toBeCloseTo(seeded.weights[0]!.data[0]! + 0.25, 6);
    expect(last.run.dataset).toEqual({ id: 'mnist', shape: [28, 28, 1], kind: 'image' });
    expect(last.metrics.length).toBe(21 * 3);
    expect(last.snapshots.map((s) => s.kind)).toEqual(['prior-samples', 'reconstructions']);
    expect(() => exportRunBundle(source.store, seeded.runId, { appVersion: '0.1.0', checkpointId: 9999 })).toThrow(
      /no checkpoint with id 9999/,
    );
    expect(() => exportRunBundle(source.store, 4242, { appVersion: '0.1.0' })).toThrow(/no run with id 4242/);
  });

  it('export -> import into a fresh data home gives identical weights, optimizer, metrics and snapshots', async () => {
    const { bytes } = exportRunBundle(source.store, seeded.runId, { appVersion: '0.1.0' });
    const { runId } = importRunBundle(target.store, bytes, { dataHome: target.root, runsDir: target.runsDir });
    const run = target.store.getRun(runId)!;
    const orig = source.store.getRun(seeded.runId)!;
    expect(run.status).toBe('imported');
    expect(run.name).toBe(orig.name);
    expect(run.configText).toBe(orig.configText);
    expect(run.config).toEqual(orig.config);
    expect(run.tags).toEqual(orig.tags);
    expect(run.notes).toBe('a note');
    expect(run.seed).toBe(5);
    expect(run.dataset).toBe('mnist');
    expect(run.createdAt).toBe(orig.createdAt);
    expect(run.final).toEqual(orig.final);
    expect(run.params).toEqual(orig.params);

    const cps = target.store.listCheckpoints(runId);
    expect(cps).toHaveLength(1);
    expect(cps[0]!.path.startsWith(path.join(target.runsDir, String(runId)))).toBe(true);
    const contents = readCheckpointDir(cps[0]!.path);
    expect(contents.runId).toBe(runId);
    sameTensors(seeded.weights, contents.weights);
    expect(contents.optimizer!.iterations).toBe(100);
    sameTensors(seeded.slots, contents.optimizer!.slots);

    const strip = (json: string) => (JSON.parse(json) as Record<string, unknown>[]).map(({ runId: _r, runName: _n, ...p }) => p);
    expect(strip(target.store.exportSeries('json', [runId]))).toEqual(strip(source.store.exportSeries('json', [seeded.runId])));
    const arts = target.store.listArtifacts(runId);
    const origArts = source.store.listArtifacts(seeded.runId);
    expect(arts.map(({ id: _i, runId: _r, createdAt: _c, ...a }) => a)).toEqual(
      origArts.map(({ id: _i, runId: _r, createdAt: _c, ...a }) => a),
    );
    for (const [i, a] of arts.entries())
      expect(target.store.getArtifactData(a.id)!.data.equals(source.store.getArtifactData(origArts[i]!.id)!.data)).toBe(true);

    // the imported checkpoint loads into the real model
    const model = new VaeModel(modelSpecFromConfig(parseRunConfig(run.config), [28, 28, 1], 'image'));
    model.loadNamedWeights(contents.weights);
    sameTensors(seeded.weights, model.namedWeights());
    model.dispose();

    // and re-exporting the imported run gives the same tensors again
    const again = parseBundle(exportRunBundle(target.store, runId, { appVersion: '0.1.0' }).bytes);
    sameTensors(seeded.weights, again.weights);
    expect(again.run.status).toBe('imported');
  });

  it("carries the run's log and identity: a second import is refused naming the run, `again` imports a copy", () => {
    source.store.log(seeded.runId, 'info', 'data: mnist, 1000 train');
    source.store.log(seeded.runId, 'warn', 'health: Loss diverging: train loss 900 against its best 140', 1_700_000_000_000);
    const { bytes } = exportRunBundle(source.store, seeded.runId, { appVersion: '0.1.0' });
    const parsed = parseBundle(bytes);
    expect(parsed.manifest.formatVersion).toBe(2);
    expect(parsed.run.uid).toBe(source.store.runUid(seeded.runId));
    expect(parsed.log!.map((l) => l.message)).toEqual(source.store.getLog(seeded.runId, 1000).map((l) => l.message));
    const fresh = openHome(path.join(tmp, 'log-target'));
    try {
      const opts = { dataHome: fresh.root, runsDir: fresh.runsDir };
      const { runId } = importRunBundle(fresh.store, bytes, opts);
      const log = fresh.store.getLog(runId, 1000);
      expect(log.map((l) => l.message).slice(0, -1)).toEqual(parsed.log!.map((l) => l.message));
      expect(log.find((l) => l.level === 'warn')!.time).toBe(1_700_000_000_000);
      expect(log[log.length - 1]!.message).toMatch(/^imported from a bundle/);
      const before = fingerprint(fresh);
      let refused: unknown;
      try {
        importRunBundle(fresh.store, bytes, opts);
      } catch (err) {
        refused = err;
      }
      expect((refused as { code: string }).code).toBe('already_imported');
      expect((refused as Error).message).toContain(`as run ${runId}`);
      expect((refused as { issues: unknown }).issues).toEqual([{ path: 'existingRunId', message: String(runId) }]);
      expect(fingerprint(fresh)).toEqual(before);
      const copy = importRunBundle(fresh.store, bytes, { ...opts, again: true });
      expect(copy.runId).not.toBe(runId);
      // a re-export of the imported run keeps the identity: importing it here is refused too
      const reexported = exportRunBundle(fresh.store, runId, { appVersion: '0.1.0' }).bytes;
      expect(() => importRunBundle(fresh.store, reexported, opts)).toThrow(`as run ${runId}`);
    } finally {
      fresh.store.close();
    }
  });

  it('a version 1 bundle (no uid, no log) imports, and is known again by the hash of its config and metrics', () => {
    const input = prepareRunBundle(source.store, seeded.runId, { appVersion: '0.1.0' }).input;
    const v1 = buildBundle({ ...input, run: { ...input.run, uid: undefined }, log: undefined });
    const fresh = openHome(path.join(tmp, 'v1-target'));
    try {
      const opts = { dataHome: fresh.root, runsDir: fresh.runsDir };
      const { runId } = importRunBundle(fresh.store, v1, opts);
      expect(fresh.store.getLog(runId, 10).map((l) => l.message)).toEqual([expect.stringMatching(/^imported from a bundle/)]);
      expect(fresh.store.runUid(runId)).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(() => importRunBundle(fresh.store, v1, opts)).toThrow(`as run ${runId}`);
    } finally {
      fresh.store.close();
    }
  });

  it('refuses damaged or foreign files and leaves the store and the files unchanged', () => {
    const { bytes } = exportRunBundle(source.store, seeded.runId, { appVersion: '0.1.0' });
    const before = fingerprint(target);
    const flipped = bytes.slice();
    flipped[Math.floor(bytes.byteLength / 2)] ^= 0x40;
    let s = 3;
    const random = new Uint8Array(4096).map(() => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s >>> 24));
    const foreign = zipSync({ 'data.csv': new Uint8Array(Buffer.from('a,b\n1,2\n')) });
    const cases: [Uint8Array, RegExp][] = [
      [flipped, /^damaged bundle/],
      [bytes.subarray(0, bytes.byteLength - 100), /^damaged bundle: .*truncated/],
      [bytes.subarray(0, 1000), /^damaged bundle: .*truncated/],
      [random, /^not a zip file/],
      [foreign, /^not a VAE Workbench bundle: no manifest\.json/],
    ];
    for (const [b, message] of cases) {
      expect(() => importRunBundle(target.store, b, { dataHome: target.root, runsDir: target.runsDir })).toThrow(message);
      expect(() => importRunBundle(target.store, b, { dataHome: target.root, runsDir: target.runsDir })).toThrow(BundleError);
    }
    expect(fingerprint(target)).toBe(before);
  });

  it('rolls back rows and files when writing fails after verification', () => {
    const { bytes } = exportRunBundle(source.store, seeded.runId, { appVersion: '0.1.0' });
    const broken = openHome(path.join(tmp, 'broken'));
    try {
      // runsDir is a file: the checkpoint directory cannot be created, after the run and its rows were inserted
      const runsFile = path.join(broken.root, 'runs-file');
      writeFileSync(runsFile, 'not a directory');
      const before = fingerprint(broken);
      expect(() => importRunBundle(broken.store, bytes, { dataHome: broken.root, runsDir: runsFile })).toThrow(/ENOTDIR|EEXIST/);
      expect(fingerprint(broken)).toBe(before);
      expect(broken.store.listRuns({}).total).toBe(0);
    } finally {
      broken.store.close();
    }
  });
});
