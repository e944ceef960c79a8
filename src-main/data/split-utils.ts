// Helpers that build and reshape splits: gathering rows, limits, binarization, value normalisation.
import fs from 'node:fs';
import type { Split } from './types';
import { mulberry32 } from '@shared/rng';

/** Copy the rows `indices` of an n x d matrix (and its labels) into a new split. */
export function gatherRows(x: Float32Array, y: Int32Array | null, d: number, indices: ArrayLike<number>): Split {
  const n = indices.length;
  const gx = new Float32Array(n * d);
  const gy = y ? new Int32Array(n) : null;
  for (let i = 0; i < n; i++) {
    const src = indices[i]!;
    gx.set(x.subarray(src * d, (src + 1) * d), i * d);
    if (gy && y) gy[i] = y[src]!;
  }
  return { x: gx, y: gy, n };
}

/** The first `limit` examples of a split as views (no copy); limit 0 = all. */
export function limitSplit(split: Split, d: number, limit: number): Split {
  if (!limit || limit >= split.n) return split;
  return { x: split.x.subarray(0, limit * d), y: split.y ? split.y.subarray(0, limit) : null, n: limit };
}

/** Split a followed by split b (a copy; labels only when both have them). */
export function concatSplits(a: Split, b: Split, d: number): Split {
  const x = new Float32Array((a.n + b.n) * d);
  x.set(a.x.subarray(0, a.n * d));
  x.set(b.x.subarray(0, b.n * d), a.n * d);
  let y: Int32Array | null = null;
  if (a.y && b.y) {
    y = new Int32Array(a.n + b.n);
    y.set(a.y.subarray(0, a.n));
    y.set(b.y.subarray(0, b.n), a.n);
  }
  return { x, y, n: a.n + b.n };
}

/** Rows [start, end) of a split as views (no copy). */
export function sliceSplit(split: Split, d: number, start: number, end: number): Split {
  return {
    x: split.x.subarray(start * d, end * d),
    y: split.y ? split.y.subarray(start, end) : null,
    n: end - start,
  };
}

/** Binarize grey values in [0,1] by sampling x ~ Bernoulli(value) with a seeded generator (a new array). */
export function binarizeStatic(x: Float32Array, seed: number): Float32Array {
  return binarizeWith(x, mulberry32(seed ^ 0x5eed_b1a5));
}

/** Binarize grey values in [0,1] by sampling x ~ Bernoulli(value), drawing from `rand` (a new array). */
export function binarizeWith(x: Float32Array, rand: () => number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = rand() < x[i]! ? 1 : 0;
  return out;
}

/** Minimum and maximum of an array, ignoring nothing (NaN makes both NaN). */
export function minMax(values: ArrayLike<number>): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (v !== v) return { min: NaN, max: NaN };
  }
  return { min, max };
}

export type Normalisation = 'none' | 'divide-255' | 'min-max';

/**
 * Bring values into [0, 1] in place: values already in [0,1] are kept; values in [0,255] with a maximum
 * above 1 are divided by 255; anything else is rescaled linearly from [min, max] to [0, 1].
 * Returns which rule applied.
 */
export function normaliseInPlace(x: Float32Array): Normalisation {
  const { min, max } = minMax(x);
  if (!(min === min)) throw new Error('the values contain NaN');
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    if (x.length === 0) return 'none';
    throw new Error('the values contain an infinite number');
  }
  if (min >= 0 && max <= 1) return 'none';
  if (min >= 0 && max <= 255) {
    for (let i = 0; i < x.length; i++) x[i] = x[i]! / 255;
    return 'divide-255';
  }
  const span = max - min || 1;
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - min) / span;
  return 'min-max';
}

/** Size and modification time of files, for cache keys that notice a changed file ('-' for a missing one). */
export function fileStamp(files: (string | null)[]): string {
  return files
    .map((f) => {
      if (!f) return '-';
      try {
        const st = fs.statSync(f);
        return `${f}:${st.size}:${st.mtimeMs}`;
      } catch {
        return `${f}:-`;
      }
    })
    .join('|');
}

/**
 * Shape of a flat feature vector of length d: s x s x 1 when d = s*s (s >= 2), s x s x 3 when d = 3*s*s with
 * s >= 8, else a series [1, d, 1].
 */
export function inferShape(d: number): { shape: [number, number, number]; kind: 'image' | 'series' } {
  const s = Math.round(Math.sqrt(d));
  if (s >= 2 && s * s === d) return { shape: [s, s, 1], kind: 'image' };
  const s3 = Math.round(Math.sqrt(d / 3));
  if (s3 >= 8 && s3 * s3 * 3 === d) return { shape: [s3, s3, 3], kind: 'image' };
  return { shape: [1, d, 1], kind: 'series' };
}
