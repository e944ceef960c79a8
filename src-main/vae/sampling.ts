// What the model shows: reconstructions, decoded prior samples from FIXED noise, the 2-D manifold,
// interpolations in latent space and the latent means. Decoded means (not sampled pixels) everywhere.
import * as tf from '@tensorflow/tfjs';
import { analyticKlPerDim } from './estimators';
import { decoderMean } from './likelihood';
import { linspace, probit } from './probit';
import type { LatentModel } from './types';

/** Seed of the fixed prior noise: depends on the latent size only, so every epoch and every run with the same latentDim decodes the same eps. */
export function fixedNoiseSeed(latentDim: number): number {
  return 12345 + latentDim;
}

/** n x latentDim standard normal draws, the same for every call with the same (n, latentDim). */
export function fixedPriorNoise(n: number, latentDim: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n, latentDim], 0, 1, 'float32', fixedNoiseSeed(latentDim)).dataSync() as Float32Array).slice();
}

function run<T extends tf.Tensor>(f: () => T): Float32Array {
  const t = tf.tidy(f);
  const out = Float32Array.from(t.dataSync() as Float32Array);
  t.dispose();
  return out;
}

/** Decoder means for latent codes z (n x latentDim). */
export function decodeMeans(model: LatentModel, z: Float32Array, n: number): Float32Array {
  return run(() => decoderMean(model.decode(tf.tensor2d(z, [n, model.latentDim]))));
}

/** Encoder means for inputs x (n x d), batched. */
export function encodeMeans(model: LatentModel, x: Float32Array, n: number, batchSize = 500): Float32Array {
  const out = new Float32Array(n * model.latentDim);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    out.set(
      run(() => {
        const enc = model.encode(tf.tensor2d(x.subarray(s * model.d, e * model.d), [e - s, model.d]));
        if (enc.logvar) enc.logvar.dispose();
        return enc.mu;
      }),
      s * model.latentDim,
    );
  }
  return out;
}

/** Reconstructions through the encoder mean: decoder mean of mu(x). */
export function reconstruct(model: LatentModel, x: Float32Array, n: number): Float32Array {
  return decodeMeans(model, encodeMeans(model, x, n), n);
}

/** Decoded prior samples from the fixed noise: gridSize^2 images. */
export function priorSamples(model: LatentModel, count: number): Float32Array {
  return decodeMeans(model, fixedPriorNoise(count, model.latentDim), count);
}

/**
 * Latent codes of the 2-D manifold: z = (probit(u_col), probit(u_row)) for u in linspace(0.05, 0.95, size);
 * row-major, the first row has the largest z2 (so "up" is positive as in a plot).
 */
export function manifoldCodes(size: number): Float32Array {
  const grid = linspace(0.05, 0.95, size).map(probit);
  const z = new Float32Array(size * size * 2);
  for (let r = 0; r < size; r++)
    for (let c = 0; c < size; c++) {
      z[(r * size + c) * 2] = grid[c]!;
      z[(r * size + c) * 2 + 1] = grid[size - 1 - r]!;
    }
  return z;
}

/** Linear interpolation between two latent codes, `steps` points including both ends. */
export function interpolateCodes(a: ArrayLike<number>, b: ArrayLike<number>, steps: number): Float32Array {
  const D = a.length;
  const out = new Float32Array(steps * D);
  for (let s = 0; s < steps; s++) {
    const t = steps === 1 ? 0 : s / (steps - 1);
    for (let j = 0; j < D; j++) out[s * D + j] = (1 - t) * a[j]! + t * b[j]!;
  }
  return out;
}

/** KL(q(z|x) || p(z)) per latent dimension averaged over the n examples (empty for deterministic encoders). */
export function klPerDimension(model: LatentModel, x: Float32Array, n: number, batchSize = 500): number[] {
  if (!model.stochastic || n === 0) return [];
  const sum = new Float64Array(model.latentDim);
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    const part = run(() => {
      const enc = model.encode(tf.tensor2d(x.subarray(s * model.d, e * model.d), [e - s, model.d]));
      return tf.sum(analyticKlPerDim(enc.mu, enc.logvar!), 0);
    });
    part.forEach((v, j) => (sum[j]! += v));
  }
  return Array.from(sum, (v) => v / n);
}
