import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint, Series } from '@shared/model-types';
import { bucketCount, minMaxIndices, stepBuckets, RunStore, mulberry32 } from '../built';

describe('minMaxIndices', () => {
  it('keeps everything that fits', () => {
    expect(minMaxIndices([3, 1, 2], 3)).toEqual([0, 1, 2]);
    expect(minMaxIndices([], 10)).toEqual([]);
  });
  it('keeps first, last and each bucket min and max, ascending, within maxPoints', () => {
    const rand = mulberry32(3);
    const values = Array.from({ length: 1000 }, () => rand());
    values[500] = 50;
    values[700] = -50;
    for (const maxPoints of [1, 2, 3, 4, 5, 10, 101, 999]) {
      const idx = minMaxIndices(values, maxPoints);
      expect(idx.length).toBeLessThanOrEqual(maxPoints);
      expect(idx.at(-1)).toBe(999);
      if (maxPoints >= 2) expect(idx[0]).toBe(0);
      for (let i = 1; i < idx.length; i++) expect(idx[i]!).toBeGreaterThan(idx[i - 1]!);
      if (maxPoints >= 4) expect(idx).toEqual(expect.arrayContaining([500, 700]));
    }
    // Each bucket's min and max: with 2 buckets over 998 inner points, the global min/max of each half are kept.
    const idx = minMaxIndices(values, 6);
    const inner = values.slice(1, 999);
    const half1 = inner.slice(0, 499);
    const half2 = inner.slice(499);
    const kept = idx.map((i) => values[i]);
    expect(kept).toEqual(expect.arrayContaining([Math.min(...half1), Math.max(...half1), Math.min(...half2), Math.max(...half2)]));
  });
});

describe('stepBuckets', () => {
  it('covers the steps strictly between first and last with at most bucketCount ranges', () => {
    expect(bucketCount(500)).toBe(249);
    const b = stepBuckets(0, 1000, 12);
    expect(b).toHaveLength(5);
    expect(b[0]![0]).toBe(1);
    expect(b.at(-1)![1]).toBe(1000);
    for (let i = 1; i < b.length; i++) expect(b[i]![0]).toBe(b[i - 1]![1]);
    expect(stepBuckets(5, 8, 100)).toEqual([
      [6, 7],
      [7, 8],
    ]);
    expect(stepBuckets(5, 6, 100)).toEqual([]);
  });
});

describe('RunStore.series downsampling on irregular data', () => {
  let dir: string;
  let store: RunStore;
  let runId: number;
  const n = 20_000;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'store-ds-'));
    store = RunStore.open(path.join(dir, 'runs.sqlite'));
    runId = store.createRun({ name: 'irregular', configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't' }).id;
    const rand = mulberry32(7);
    const points: MetricPoint[] = [];
    let step = 0;
    let time = 1_700_000_000_000;
    for (let i = 0; i < n; i++) {
      // Irregular gaps: mostly 10 steps, sometimes a long pause; time jitters.
      step += i % 997 === 0 ? 5000 : 10;
      time += 20 + Math.floor(rand() * 30);
      points.push({ name: 'train/loss', step, epoch: step / 4690, time, value: 100 * Math.exp(-i / 5000) + rand() });
    }
    points[12_345]!.value = 1e9; // spike
    points[15_000]!.value = -1e9; // dip
    store.appendMetrics(runId, points);
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const check = (s: Series, maxPoints: number) => {
    expect(s.downsampled).toBe(true);
    expect(s.points.length).toBeLessThanOrEqual(maxPoints);
    const xs = s.points.map((p) => p.x);
    for (let i = 1; i < xs.length; i++) expect(xs[i]!).toBeGreaterThan(xs[i - 1]!);
    expect(s.points.some((p) => p.y === 1e9)).toBe(true);
    expect(s.points.some((p) => p.y === -1e9)).toBe(true);
  };

  // inMemoryFactor 0 forces the SQL paths (per-bucket queries for step, plucked columns for epoch/time);
  // a huge factor forces reading every row and bucketing in JavaScript.
  for (const [x, factor] of [
    ['step', 0],
    ['epoch', 0],
    ['time', 0],
    ['step', 1e9],
    ['time', 1e9],
  ] as const) {
    it(`x = ${x}, ${factor ? 'in memory' : 'in SQL'}: first, last, spike and dip kept; at most maxPoints; ordered`, () => {
      store.inMemoryFactor = factor;
      const [s] = store.series([runId], 'train/loss', { x, maxPoints: 300 });
      store.inMemoryFactor = 3;
      check(s!, 300);
      expect(s!.total).toBe(n);
      const [all] = store.series([runId], 'train/loss', { x, maxPoints: n });
      expect(all!.downsampled).toBe(false);
      expect(s!.points[0]).toEqual(all!.points[0]);
      expect(s!.points.at(-1)).toEqual(all!.points.at(-1));
      // Every kept point is a real point.
      const byStep = new Map(all!.points.map((p) => [p.step, p]));
      for (const p of s!.points) expect(byStep.get(p.step)).toEqual(p);
    });
  }

  it('restricts to an x range before downsampling', () => {
    const [all] = store.series([runId], 'train/loss', { x: 'time', maxPoints: n });
    const from = all!.points[5000]!.time;
    const to = all!.points[14_999]!.time;
    const [s] = store.series([runId], 'train/loss', { x: 'time', from, to, maxPoints: 200 });
    expect(s!.total).toBe(10_000);
    expect(s!.points[0]!.time).toBe(from);
    expect(s!.points.at(-1)!.time).toBe(to);
    expect(s!.points.length).toBeLessThanOrEqual(200);
    expect(s!.points.some((p) => p.y === 1e9)).toBe(true);
    expect(s!.points.some((p) => p.y === -1e9)).toBe(false); // index 15,000 is outside
  });
});
