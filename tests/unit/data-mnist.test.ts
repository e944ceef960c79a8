import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataSchema, parseRunConfig } from '@shared/run-config';
import { clearDatasetMemo, listDatasets, loadDataset } from '../../src-main/data/registry';
import { DatasetError } from '../../src-main/data/types';
import { prepareData } from '../../src-main/train/process/prepare-data';

const dataHome = fs.mkdtempSync(path.join(os.tmpdir(), 'vaew-data-mnist-'));
afterAll(() => fs.rmSync(dataHome, { recursive: true, force: true }));
const cfg = (over: Record<string, unknown> = {}) => dataSchema.parse(over);

/** Byte-for-byte equality of two typed arrays (vitest's deep equality is slow on big arrays). */
function sameValues(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

function mean(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

describe('mnist (bundled)', () => {
  it('loads 10,000 labelled digits in [0,1] with a plausible mean intensity', async () => {
    const ds = await loadDataset(cfg(), { dataHome, seed: 1 });
    expect(ds.d).toBe(784);
    expect(ds.train.n).toBe(8000);
    expect(ds.test.n).toBe(2000);
    expect(ds.train.x.length).toBe(8000 * 784);
    expect(ds.descriptor.shape).toEqual([28, 28, 1]);
    const counts = new Array(10).fill(0);
    for (const split of [ds.train, ds.test]) for (const label of split.y!) counts[label]++;
    expect(counts.every((c) => c > 800)).toBe(true);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10000);
    let min = Infinity;
    let max = -Infinity;
    for (const v of ds.train.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBeGreaterThan(0.99);
    expect(max).toBeLessThanOrEqual(1);
    const m = mean(ds.train.x);
    expect(m).toBeGreaterThan(0.11);
    expect(m).toBeLessThan(0.15);
    // the first examples of a split cover many classes (fixed interleaved order)
    expect(new Set(ds.train.y!.subarray(0, 100)).size).toBe(10);
  });

  it('writes a binary cache and reads the same values back in a fresh process state', async () => {
    const first = await loadDataset(cfg(), { dataHome, seed: 1 });
    expect(fs.existsSync(path.join(dataHome, 'cache', 'mnist-bundled.f32'))).toBe(true);
    clearDatasetMemo();
    const t0 = performance.now();
    const second = await loadDataset(cfg(), { dataHome, seed: 1 });
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(1000);
    expect(second.train.x === first.train.x).toBe(false);
    expect(sameValues(second.test.x, first.test.x)).toBe(true);
    expect(sameValues(second.train.x, first.train.x)).toBe(true);
    expect(sameValues(second.train.y!, first.train.y!)).toBe(true);
    // a second load in the same process is the memoised one
    const t1 = performance.now();
    const third = await loadDataset(cfg(), { dataHome, seed: 1 });
    expect(performance.now() - t1).toBeLessThan(50);
    expect(third.train.x === second.train.x).toBe(true);
  });

  it('rebuilds a corrupt cache instead of failing', async () => {
    const file = path.join(dataHome, 'cache', 'mnist-bundled.f32');
    await loadDataset(cfg(), { dataHome, seed: 1 });
    fs.truncateSync(file, 1000);
    clearDatasetMemo();
    const ds = await loadDataset(cfg(), { dataHome, seed: 1 });
    expect(ds.train.n).toBe(8000);
    expect(fs.statSync(file).size).toBeGreaterThan(30_000_000);
  });

  it('applies trainLimit, testLimit and static binarization', async () => {
    const ds = await loadDataset(cfg({ trainLimit: 500, testLimit: 100, binarize: 'static' }), { dataHome, seed: 7 });
    expect(ds.train.n).toBe(500);
    expect(ds.train.x.length).toBe(500 * 784);
    expect(ds.test.n).toBe(100);
    expect(ds.train.y!.length).toBe(500);
    expect(ds.train.x.every((v) => v === 0 || v === 1)).toBe(true);
    const again = await loadDataset(cfg({ trainLimit: 500, binarize: 'static' }), { dataHome, seed: 7 });
    expect(sameValues(again.train.x, ds.train.x)).toBe(true);
    const grey = await loadDataset(cfg(), { dataHome, seed: 7 });
    expect(grey.train.x.some((v) => v > 0 && v < 1)).toBe(true); // the cached grey values were not mutated
    expect(Math.abs(mean(ds.train.x) - mean(grey.train.x.subarray(0, 500 * 784)))).toBeLessThan(0.01);
  });

  it('data.trainOnTest trains on train + test (the keras.io example), still evaluating on the test split', async () => {
    const plain = await loadDataset(cfg(), { dataHome, seed: 1 });
    const both = await loadDataset(cfg({ trainOnTest: true }), { dataHome, seed: 1 });
    expect(both.train.n).toBe(10_000);
    expect(both.test.n).toBe(2000);
    expect(sameValues(both.train.x.subarray(0, 8000 * 784), plain.train.x)).toBe(true);
    expect(sameValues(both.train.x.subarray(8000 * 784), plain.test.x)).toBe(true);
    expect(Array.from(both.train.y!.subarray(8000, 8010))).toEqual(Array.from(plain.test.y!.subarray(0, 10)));
    // with limits: the limited training split followed by the limited test split (the one evaluated)
    const small = await loadDataset(cfg({ trainOnTest: true, trainLimit: 300, testLimit: 100, binarize: 'static' }), { dataHome, seed: 2 });
    expect([small.train.n, small.test.n, small.train.y!.length]).toEqual([400, 100, 400]);
    expect(small.train.x.every((v) => v === 0 || v === 1)).toBe(true);
    expect(sameValues((await loadDataset(cfg(), { dataHome, seed: 1 })).train.x, plain.train.x)).toBe(true); // cache untouched
  });

  it('holds out a seeded random data.validationFraction of train for validation (the training loop)', async () => {
    const ds = await loadDataset(cfg(), { dataHome, seed: 1 });
    const config = (seed: number, validationFraction: number) => parseRunConfig({ seed, data: { dataset: 'mnist', validationFraction } });
    const a = prepareData(ds, config(1, 0.1));
    expect([a.train.n, a.val!.n]).toEqual([7200, 800]);
    expect(sameValues(prepareData(ds, config(1, 0.1)).val!.x, a.val!.x)).toBe(true); // the same for the same seed
    expect(sameValues(prepareData(ds, config(2, 0.1)).val!.x, a.val!.x)).toBe(false);
    expect(sameValues(a.val!.x, ds.train.x.subarray(7200 * 784))).toBe(false); // not the last fraction
    const counts = (y: Int32Array) => Array.from({ length: 10 }, (_, k) => y.filter((v) => v === k).length);
    const both = counts(a.train.y!).map((c, k) => c + counts(a.val!.y!)[k]!);
    expect(both).toEqual(counts(ds.train.y!)); // every training example is in exactly one of the two
    expect(prepareData(ds, config(1, 0)).val).toBeNull();
  });

  it('lists mnist as available and refuses an unknown id naming it and the known ids', async () => {
    const list = listDatasets({ dataHome });
    const mnist = list.find((d) => d.id === 'mnist')!;
    expect(mnist.available).toBe(true);
    expect(mnist.splits).toEqual({ train: 8000, test: 2000 });
    await expect(loadDataset(cfg({ dataset: 'mnist-xl' }), { dataHome, seed: 1 })).rejects.toThrow(DatasetError);
    await expect(loadDataset(cfg({ dataset: 'mnist-xl' }), { dataHome, seed: 1 })).rejects.toThrow(/"mnist-xl".*mnist/);
  });
});
