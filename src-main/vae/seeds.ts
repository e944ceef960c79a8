import { permutation } from '@shared/rng';

// Seed arithmetic for reproducible runs: every random draw in training (initial weights, data order,
// reparameterization noise, corruption, dynamic binarization) gets a 31-bit seed derived from the run seed
// and a small tuple (stream, step, ...), so one run seed fixes the whole run on a given backend.

/** Mix integers into one well-spread non-negative 31-bit seed (murmur3-style finalizer per input). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9 | 0;
  for (const p of parts) {
    let k = Math.floor(p) | 0;
    k = Math.imul(k ^ (k >>> 16), 0x85ebca6b);
    k = Math.imul(k ^ (k >>> 13), 0xc2b2ae35);
    k ^= k >>> 16;
    h = Math.imul(h ^ k, 0x01000193) + 0x6b43a9b5;
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h ^= h >>> 15;
  return (h >>> 1) & 0x7fffffff;
}

/** Streams that keep different kinds of noise apart. */
export const SEED_STREAM = {
  init: 1,
  shuffle: 2,
  eps: 3,
  corruption: 4,
  binarize: 5,
  eval: 6,
  split: 7,
} as const;

export { mulberry32 } from '@shared/rng';

/** A Fisher-Yates permutation of 0..n-1 fixed by the seed (data/rng's, viewed as int32 for tf.gather). */
export function seededPermutation(n: number, seed: number): Int32Array {
  const p = permutation(n, seed);
  return new Int32Array(p.buffer, p.byteOffset, p.length);
}
