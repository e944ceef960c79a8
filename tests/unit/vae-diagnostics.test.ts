// The pure diagnostics: Hungarian matching, the mean correlation coefficient, Burda et al.'s active units.
import { describe, expect, it } from 'vitest';
import { activeUnitsCov, meanCorrelationCoefficient } from '../../src-main/vae/diagnostics';
import { bestMatching } from '../../src-main/vae/matching';
import { mulberry32 } from '@shared/rng';

function exhaustiveBest(cost: number[][]): number {
  const rows = cost.length;
  const cols = cost[0]!.length;
  let best = Infinity;
  const used = new Array(cols).fill(false);
  const go = (r: number, acc: number) => {
    if (r === rows) return void (best = Math.min(best, acc));
    for (let c = 0; c < cols; c++)
      if (!used[c]) {
        used[c] = true;
        go(r + 1, acc + cost[r]![c]!);
        used[c] = false;
      }
  };
  go(0, 0);
  return best;
}

describe('bestMatching', () => {
  it('finds the minimum-cost assignment (against exhaustive search on random matrices)', () => {
    const rand = mulberry32(7);
    for (let t = 0; t < 30; t++) {
      const rows = 1 + Math.floor(rand() * 4);
      const cols = rows + Math.floor(rand() * 4);
      const cost = Array.from({ length: rows }, () => Array.from({ length: cols }, () => rand()));
      const m = bestMatching(cost);
      expect(new Set(m).size).toBe(rows);
      const total = m.reduce((s, c, r) => s + cost[r]![c]!, 0);
      expect(total).toBeCloseTo(exhaustiveBest(cost), 10);
    }
  });
  it('leaves extra rows unmatched when there are more rows than columns', () => {
    const m = bestMatching([
      [5, 1],
      [1, 5],
      [0, 0],
    ]);
    expect(m.filter((c) => c >= 0)).toHaveLength(2);
    expect(m.filter((c) => c === -1)).toHaveLength(1);
  });
});

describe('mean correlation coefficient', () => {
  const n = 500;
  const rand = mulberry32(3);
  const k = 2;
  const sources = Float32Array.from({ length: n * k }, () => rand() * 2 - 1);
  it('is 1 for latents that are permuted, scaled, sign-flipped sources plus an unused dimension', () => {
    const D = 3;
    const means = new Float32Array(n * D);
    for (let i = 0; i < n; i++) {
      means[i * D + 0] = 0.3 * rand(); // noise dimension
      means[i * D + 1] = -2 * sources[i * k + 1]!;
      means[i * D + 2] = 5 * sources[i * k + 0]! + 1;
    }
    const r = meanCorrelationCoefficient(means, D, sources, k, n);
    expect(r.mcc).toBeCloseTo(1, 5);
    expect(r.matching).toEqual([2, 1]);
  });
  it('is near 0 for latents independent of the sources', () => {
    const means = Float32Array.from({ length: n * 2 }, () => rand());
    expect(meanCorrelationCoefficient(means, 2, sources, k, n).mcc).toBeLessThan(0.15);
  });
});

describe("Burda et al.'s active units", () => {
  it('counts dimensions whose posterior mean varies over the data by more than 0.01', () => {
    const n = 400;
    const rand = mulberry32(5);
    const means = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      means[i * 3] = rand() * 2; // variance 1/3
      means[i * 3 + 1] = 0.1 * (rand() - 0.5); // variance 1/1200 < 0.01
      means[i * 3 + 2] = rand(); // 1/12
    }
    const r = activeUnitsCov(means, n, 3);
    expect(r.count).toBe(2);
    expect(r.variances[0]).toBeCloseTo(1 / 3, 1);
    expect(r.variances[1]).toBeLessThan(0.01);
  });
});
