// Deterministic synthetic tensors and images for the checkpoint and bundle tests (no tfjs needed).
import { PNG } from 'pngjs';

/** n values in [-0.5, 0.5) from a linear congruential generator fixed by the seed. */
export function seededValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** A grey PNG of seeded noise. */
export function seededPng(width: number, height: number, seed: number): Buffer {
  const img = new PNG({ width, height });
  const v = seededValues(width * height, seed);
  for (let i = 0; i < width * height; i++) {
    const g = Math.round((v[i]! + 0.5) * 255);
    img.data.set([g, g, g, 255], i * 4);
  }
  return PNG.sync.write(img);
}
