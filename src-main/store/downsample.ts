// Min/max bucket downsampling of one metric series. The raw points (ordered by x) are cut into buckets; from each
// bucket the point with the smallest and the one with the largest value are kept (in x order), so a single spike
// survives any reduction. The first and the last point are always kept. The output never exceeds maxPoints.
//
// Two ways to cut buckets, both used by RunStore.series:
//  - equal-count buckets over an array of values (minMaxIndices), for any x;
//  - equal-width step ranges (stepBuckets), for x = step, where SQLite finds each bucket's min and max row through
//    the (run_id, name, step) primary key without handing every row to JavaScript.
import type { SeriesPoint } from '@shared/model-types';

/** A raw row as the store reads it: [x, step, epoch, time, value]. */
export type RawRow = [number, number, number, number, number];

export function toPoint(r: RawRow): SeriesPoint {
  return { x: r[0], y: r[4], step: r[1], epoch: r[2], time: r[3] };
}

/** All rows as points (no reduction). */
export function allPoints(rows: Iterable<RawRow>): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const r of rows) out.push(toPoint(r));
  return out;
}

/** Number of min/max buckets that fit in maxPoints besides the first and last point. */
export function bucketCount(maxPoints: number): number {
  return Math.max(0, Math.floor((maxPoints - 2) / 2));
}

/**
 * Indices (ascending, distinct) of the points to keep from `values` (ordered by x): 0, n-1 and the min and max of
 * each of up to bucketCount(maxPoints) equal-count buckets of the points in between. At most maxPoints indices
 * (maxPoints 1 keeps only the last point).
 */
export function minMaxIndices(values: ArrayLike<number>, maxPoints: number): number[] {
  const n = values.length;
  if (n === 0) return [];
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  if (maxPoints <= 1) return [n - 1];
  const inner = n - 2;
  const buckets = Math.min(inner, bucketCount(maxPoints));
  const out: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * inner) / buckets);
    const end = 1 + Math.floor(((b + 1) * inner) / buckets);
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      const v = values[i]!;
      if (v < values[lo]!) lo = i;
      if (v > values[hi]!) hi = i;
    }
    if (lo === hi) out.push(lo);
    else if (lo < hi) out.push(lo, hi);
    else out.push(hi, lo);
  }
  out.push(n - 1);
  return out;
}

/**
 * Equal-width integer step ranges [lo, hi) covering the steps strictly between `first` and `last`, at most
 * bucketCount(maxPoints) of them (fewer when there are fewer steps than buckets).
 */
export function stepBuckets(first: number, last: number, maxPoints: number): [number, number][] {
  const span = last - first - 1; // integer steps strictly inside
  if (span <= 0) return [];
  const buckets = Math.min(span, bucketCount(maxPoints));
  const out: [number, number][] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = first + 1 + Math.floor((b * span) / buckets);
    const hi = first + 1 + Math.floor(((b + 1) * span) / buckets);
    if (hi > lo) out.push([lo, hi]);
  }
  return out;
}
