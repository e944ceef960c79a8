// The pure logic behind Compare: smoothing on raw points, grouping with bands, brushing, importance.
import { describe, expect, it } from 'vitest';
import { smoothValues } from '@shared/smoothing';
import { minMaxIndices } from '../../src-main/store/downsample';
import { joinOnStep } from '../../src-main/store/smoothed-series';
import { bandOf, differingKeys, groupBySeed, groupRuns, interpolate, summarize } from '../../src-renderer/src/lib/groups';
import { brushed, moveItem, setBrush, type Brush } from '../../src-renderer/src/lib/brush';
import { forestImportance, importanceOf, pearson, ranks, spearman } from '../../src-renderer/src/lib/importance';
import { mulberry32 } from '@shared/rng';
import type { RunSummary } from '@shared/model-types';

function run(id: number, params: Record<string, string | number | null>, final: Record<string, number> = {}): RunSummary {
  return {
    id,
    name: `r${id}`,
    status: 'completed',
    createdAt: 0,
    startedAt: null,
    finishedAt: null,
    dataset: 'mnist',
    backend: null,
    appVersion: 't',
    seed: Number(params.seed ?? 0),
    error: null,
    tags: [],
    notes: '',
    parentId: null,
    configText: '{}',
    config: {},
    params,
    final,
    step: 0,
    epoch: 0,
  };
}

describe('smoothing on raw points (window in steps)', () => {
  const steps = Array.from({ length: 1000 }, (_, i) => i + 1);
  const rand = mulberry32(3);
  const values = steps.map((s) => 100 * Math.exp(-s / 300) + 10 * (rand() - 0.5));

  it('EMA: first point is itself, constant series stays constant, noise shrinks', () => {
    const s = smoothValues(steps, values, { kind: 'ema', window: 50 });
    expect(s[0]).toBe(values[0]);
    const flat = smoothValues([1, 2, 5, 9], [3, 3, 3, 3], { kind: 'ema', window: 4 });
    for (const v of flat) expect(v).toBeCloseTo(3, 12);
    const roughness = (a: ArrayLike<number>) => {
      let r = 0;
      for (let i = 1; i < a.length; i++) r += Math.abs(a[i]! - a[i - 1]!);
      return r;
    };
    expect(roughness(s)).toBeLessThan(roughness(values) / 5);
  });

  it('moving average over (step - window, step]: exact values, gaps in steps respected', () => {
    const m = smoothValues([1, 2, 3, 10, 11], [1, 2, 3, 10, 20], { kind: 'mean', window: 3 });
    expect([...m]).toEqual([1, 1.5, 2, 10, 15]);
    const nan = smoothValues([1, 2, 3], [1, Number.NaN, 3], { kind: 'mean', window: 10 });
    expect(nan[1]).toBeNaN();
    expect(nan[2]).toBe(2);
    expect(() => smoothValues([1], [1], { kind: 'ema', window: 0 })).toThrow(/window must be > 0/);
  });

  it('smoothing then downsampling gives the same value at a kept step whatever the point budget', () => {
    const s = smoothValues(steps, values, { kind: 'ema', window: 40 });
    const at = (budget: number) => new Map(minMaxIndices(s, budget).map((i) => [steps[i]!, s[i]!]));
    const a = at(100);
    const b = at(333);
    const common = [...a.keys()].filter((k) => b.has(k));
    expect(common.length).toBeGreaterThan(2);
    for (const k of common) expect(a.get(k)).toBe(b.get(k));
  });

  it('joins a metric against another on step', () => {
    const p = (step: number, y: number) => ({ x: step, y, step, epoch: 0, time: 0 });
    expect(joinOnStep([p(1, 10), p(2, 20), p(3, 30)], [p(1, 0.5), p(3, 0.7)]).map((q) => [q.x, q.y])).toEqual([
      [0.5, 10],
      [0.7, 30],
    ]);
  });
});

describe('groups', () => {
  const runs = [
    run(1, { seed: 1, lr: 0.001, z: 2 }, { 'test/loss': 100 }),
    run(2, { seed: 2, lr: 0.001, z: 2 }, { 'test/loss': 104 }),
    run(3, { seed: 1, lr: 0.01, z: 2 }, { 'test/loss': 90 }),
    run(4, { seed: 2, lr: 0.01, z: 2 }, { 'test/loss': 92 }),
    run(5, { seed: 3, lr: 0.01, z: 2 }, { 'test/loss': 94 }),
  ];
  it('by default groups runs that differ only by seed', () => {
    expect(differingKeys(runs)).toEqual(['lr']);
    expect(groupBySeed(runs).map((g) => g.runIds)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    expect(groupRuns(runs, ['z']).map((g) => g.runIds)).toEqual([[1, 2, 3, 4, 5]]);
    expect(groupBySeed(runs)[1]!.label).toBe('lr=0.01');
  });
  it('summarises mean ± sample std and n', () => {
    const s = summarize([90, 92, 94, undefined])!;
    expect(s).toEqual({ n: 3, mean: 92, std: 2, min: 90, max: 94 });
    expect(summarize([5])!.std).toBe(0);
    expect(summarize([])).toBeNull();
  });
  it('interpolates and builds bands on a common grid (only covering curves count)', () => {
    expect(interpolate({ xs: [0, 10], ys: [0, 100] }, 2.5)).toBe(25);
    expect(interpolate({ xs: [0, 10], ys: [0, 100] }, 11)).toBeUndefined();
    const b = bandOf(
      [
        { xs: [0, 10], ys: [0, 10] },
        { xs: [0, 10], ys: [2, 12] },
        { xs: [0, 5], ys: [4, 9] },
      ],
      'minmax',
      11,
    );
    expect(b.xs).toHaveLength(11);
    expect(b.n[0]).toBe(3);
    expect(b.n[10]).toBe(2);
    expect(b.mean[0]).toBe(2);
    expect(b.lo[0]).toBe(0);
    expect(b.hi[0]).toBe(4);
    const sd = bandOf(
      [
        { xs: [0, 1], ys: [1, 1] },
        { xs: [0, 1], ys: [3, 3] },
      ],
      'std',
      2,
    );
    expect(sd.lo[0]).toBeCloseTo(2 - Math.SQRT2);
    expect(sd.hi[0]).toBeCloseTo(2 + Math.SQRT2);
  });
});

describe('brushing', () => {
  const runs = [
    run(1, { lr: 0.001, kind: 'vae' }, { 'test/loss': 100 }),
    run(2, { lr: 0.01, kind: 'iwae' }, { 'test/loss': 90 }),
    run(3, { lr: 0.1, kind: 'vae' }, { 'test/loss': 95 }),
  ];
  it('keeps runs inside every brush, numeric ranges and categories, on params and final metrics', () => {
    let b: Brush[] = setBrush([], 'lr', { key: 'lr', min: 0.005, max: 1 });
    expect(brushed(runs, b).map((r) => r.id)).toEqual([2, 3]);
    b = setBrush(b, 'kind', { key: 'kind', values: ['vae'] });
    expect(brushed(runs, b).map((r) => r.id)).toEqual([3]);
    b = setBrush(b, 'test/loss', { key: 'test/loss', min: 0, max: 94 });
    expect(brushed(runs, b)).toEqual([]);
    b = setBrush(setBrush(b, 'test/loss', null), 'kind', null);
    expect(brushed(runs, b).map((r) => r.id)).toEqual([2, 3]);
    expect(brushed(runs, []).length).toBe(3);
  });
  it('moves axes', () => {
    expect(moveItem(['a', 'b', 'c'], 0, 2)).toEqual(['b', 'c', 'a']);
    expect(moveItem(['a', 'b', 'c'], 2, 5)).toEqual(['a', 'b', 'c']);
  });
});

describe('importance', () => {
  it('Pearson and Spearman on known data, ties ranked by average', () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 1000])).toBeCloseTo(1);
  });
  it('the forest finds the feature that drives the metric, even a non-monotone one correlation misses', () => {
    const rand = mulberry32(11);
    const rows = Array.from({ length: 120 }, () => {
      const a = rand() * 2 - 1; // drives y as a^2 (zero correlation)
      const b = rand(); // weak linear effect
      const c = rand(); // noise
      return { features: { a, b, c }, y: 10 * a * a + 1 * b + 0.1 * (rand() - 0.5) };
    });
    const { n, items } = importanceOf(rows, ['a', 'b', 'c'], { trees: 60, seed: 2 });
    expect(n).toBe(120);
    expect(items[0]!.key).toBe('a');
    expect(items[0]!.forest).toBeGreaterThan(0.5);
    expect(Math.abs(items.find((i) => i.key === 'a')!.pearson!)).toBeLessThan(0.3);
    expect(items.find((i) => i.key === 'c')!.forest).toBeLessThan(items[0]!.forest / 3);
    expect(items.reduce((s, i) => s + i.forest, 0)).toBeCloseTo(1);
    // deterministic for a seed
    expect(
      forestImportance(
        rows.map((r) => [r.features.a, r.features.b]),
        rows.map((r) => r.y),
        { seed: 5, trees: 10 },
      ),
    ).toEqual(
      forestImportance(
        rows.map((r) => [r.features.a, r.features.b]),
        rows.map((r) => r.y),
        { seed: 5, trees: 10 },
      ),
    );
  });
  it('drops rows missing the metric or a key, encodes categories', () => {
    const rows = [
      { features: { k: 'x', lr: 0.001 }, y: 1 },
      { features: { k: 'y', lr: 0.1 }, y: 5 },
      { features: { k: 'x', lr: 0.01 }, y: undefined },
      { features: { k: 'y', lr: null }, y: 3 },
      { features: { k: 'x', lr: 0.0001 }, y: 0 },
    ];
    const r = importanceOf(rows, ['k', 'lr']);
    expect(r.n).toBe(3);
  });
});
