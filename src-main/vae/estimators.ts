// The objectives of Kingma & Welling (SGVB-A and SGVB-B), the importance-weighted bound (IWAE) and the
// plain reconstruction loss of (denoising) autoencoders. Everything is per example, in nats; the
// reparameterization noise is made in-graph by tf.randomNormal with an explicit seed.
import * as tf from '@tensorflow/tfjs';
import { logLikelihood, logLikelihoodSamples } from './likelihood';
import type { EncoderOutput, LatentModel } from './types';

const LOG_2PI = Math.log(2 * Math.PI);

export type Estimator = 'analytic' | 'monte-carlo';

/** KL(N(mu, exp(logvar)) || N(0, 1)) per latent dimension: 0.5 * (mu^2 + exp(logvar) - 1 - logvar), [n, D]. */
export function analyticKlPerDim(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar))) as tf.Tensor2D);
}

/** The closed-form KL of SGVB-B, -1/2 * sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)), per example [n]. */
export function analyticKl(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(analyticKlPerDim(mu, logvar), 1) as tf.Tensor1D);
}

/** log N(z; 0, I) per row. */
export function logStandardNormal(z: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(-0.5, tf.sum(tf.add(tf.square(z), LOG_2PI), 1)) as tf.Tensor1D);
}

/** log N(z; mu, exp(logvar)) per row, written with the standardized noise eps = (z - mu) / sigma. */
export function logDiagonalNormalFromEps(eps: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(-0.5, tf.sum(tf.add(tf.add(tf.square(eps), logvar), LOG_2PI), 1)) as tf.Tensor1D);
}

/** log mean exp along an axis, stable. */
export function logMeanExp(t: tf.Tensor, axis = 0): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.logSumExp(t, axis), Math.log(t.shape[axis]!)));
}

/**
 * Where a batch's rows sit in a larger batch (a shard of a data-parallel step): rows [from, from + n) of `total`.
 * Noise is then drawn for the whole batch with the step's seed and this block's rows are used, so the shards of a
 * step see exactly the noise of the unsharded step.
 */
export interface RowBlock {
  total: number;
  from: number;
}

/**
 * Standard normal noise [samples, n, D] for rows [from, from + n) of a batch of `block.total` (sample-major, the
 * draw of tf.randomNormal([samples * total, D], seed) reshaped); without a block, the draw for these n rows.
 */
export function blockNormal(samples: number, n: number, D: number, seed: number, block?: RowBlock): tf.Tensor3D {
  return tf.tidy(() => {
    if (!block || (block.from === 0 && block.total === n))
      return tf.reshape(tf.randomNormal([samples * n, D], 0, 1, 'float32', seed), [samples, n, D]) as tf.Tensor3D;
    const all = tf.reshape(tf.randomNormal([samples * block.total, D], 0, 1, 'float32', seed), [samples, block.total, D]);
    return tf.slice(all, [0, block.from, 0], [samples, n, D]) as tf.Tensor3D;
  });
}

/** Repeat the rows of t `times` times as whole blocks: [n, D] -> [times * n, D] (sample-major). */
function tileRows(t: tf.Tensor2D, times: number): tf.Tensor2D {
  return times === 1 ? t : tf.tile(t, [times, 1]);
}

interface Draw {
  z: tf.Tensor2D;
  eps: tf.Tensor2D;
  logvar: tf.Tensor2D;
}

/**
 * z = mu + exp(logvar / 2) * eps for `samples` draws per row, sample-major: row s*n + i is draw s of example i.
 * `block`: these rows are a block of a larger batch, whose noise they take (RowBlock).
 */
export function reparameterize(enc: EncoderOutput, samples: number, seed: number, block?: RowBlock): Draw {
  return tf.tidy(() => {
    if (!enc.logvar) throw new Error('reparameterize needs a stochastic encoder');
    const mu = tileRows(enc.mu, samples);
    const logvar = tileRows(enc.logvar, samples);
    const [n, D] = enc.mu.shape;
    const eps = tf.reshape(blockNormal(samples, n, D, seed, block), [samples * n, D]) as tf.Tensor2D;
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D;
    return { z, eps, logvar };
  });
}

export interface ElboTerms {
  /** -E_q[log p(x|z)] per example, [n]. */
  recon: tf.Tensor1D;
  /** KL(q(z|x) || p(z)) per example (analytic or sampled), [n]; zeros for deterministic encoders. */
  kl: tf.Tensor1D;
}

/**
 * The two terms of the negative ELBO per example. `input` is what the encoder sees (possibly corrupted),
 * `target` what the decoder must explain. analytic = SGVB-B (closed-form KL + Monte-Carlo reconstruction);
 * monte-carlo = SGVB-A (log q(z|x) - log p(z) sampled). L = samples draws per example.
 * `encoded`: model.encode(input) when the caller already has it (evaluation reuses it for the KL per dimension).
 */
export function elboTerms(
  model: LatentModel,
  input: tf.Tensor2D,
  target: tf.Tensor2D,
  opts: { estimator: Estimator; samples: number; seed: number; block?: RowBlock },
  encoded?: EncoderOutput,
): ElboTerms {
  return tf.tidy(() => {
    const enc = encoded ?? model.encode(input);
    const n = input.shape[0];
    if (!enc.logvar) {
      const recon = tf.neg(logLikelihood(target, model.decode(enc.mu))) as tf.Tensor1D;
      return { recon, kl: tf.zeros([n]) as tf.Tensor1D };
    }
    const L = Math.max(1, opts.samples);
    const { z, eps, logvar } = reparameterize(enc, L, opts.seed, opts.block);
    const logPx = logLikelihood(tileRows(target, L), model.decode(z));
    const recon = tf.neg(tf.mean(tf.reshape(logPx, [L, n]), 0)) as tf.Tensor1D;
    let kl: tf.Tensor1D;
    if (opts.estimator === 'analytic') kl = analyticKl(enc.mu, enc.logvar);
    else {
      const klSamples = tf.sub(logDiagonalNormalFromEps(eps, logvar), logStandardNormal(z));
      kl = tf.mean(tf.reshape(klSamples, [L, n]), 0) as tf.Tensor1D;
    }
    return { recon, kl };
  });
}

export interface ImportanceTerms {
  /** log p(x|z_s), log p(z_s), log q(z_s|x): each [k, n]. */
  logPxGivenZ: tf.Tensor2D;
  logPz: tf.Tensor2D;
  logQz: tf.Tensor2D;
}

/**
 * The pieces of the importance weights w_s = p(x|z_s) p(z_s) / q(z_s|x) for k samples per example.
 * The k draws per example are one [k * n, D] batch (the same noise as reparameterize's) decoded in one
 * pass; mu, sigma and x are broadcast over the samples instead of repeated. `inference`: no gradient
 * will be taken (evaluation), so the fused likelihood may be used.
 */
export function importanceTerms(
  model: LatentModel,
  input: tf.Tensor2D,
  target: tf.Tensor2D,
  k: number,
  seed: number,
  inference = false,
  block?: RowBlock,
): ImportanceTerms {
  return tf.tidy(() => {
    const enc = model.encode(input);
    if (!enc.logvar) throw new Error('importance weights need a stochastic encoder');
    const [n, D] = enc.mu.shape;
    const eps = blockNormal(k, n, D, seed, block);
    const z = tf.reshape(tf.add(enc.mu, tf.mul(tf.exp(tf.mul(0.5, enc.logvar)), eps)), [k * n, D]) as tf.Tensor2D;
    const logPxGivenZ = logLikelihoodSamples(target, model.decode(z), k, inference);
    const logPz = tf.reshape(logStandardNormal(z), [k, n]) as tf.Tensor2D;
    // log q(z|x) = -1/2 sum_j (eps_j^2 + logvar_j + log 2 pi), the logvar sum shared by the k samples.
    const logQz = tf.mul(-0.5, tf.add(tf.sum(tf.square(eps), 2), tf.add(tf.sum(enc.logvar, 1), D * LOG_2PI))) as tf.Tensor2D;
    return { logPxGivenZ, logPz, logQz };
  });
}

/** log w = log p(x|z) + log p(z) - log q(z|x), [k, n]. */
export function logImportanceWeights(
  model: LatentModel,
  input: tf.Tensor2D,
  target: tf.Tensor2D,
  k: number,
  seed: number,
  inference = false,
): tf.Tensor2D {
  return tf.tidy(() => {
    const t = importanceTerms(model, input, target, k, seed, inference);
    return tf.sub(tf.add(t.logPxGivenZ, t.logPz), t.logQz) as tf.Tensor2D;
  });
}

/**
 * The importance-weighted bound log (1/k) sum_s w_s per example, [n]. With k = 1 it is a one-sample ELBO;
 * it increases toward log p(x) as k grows. Samples are drawn in chunks of at most `chunk` to bound memory.
 */
export function importanceWeightedBound(
  model: LatentModel,
  input: tf.Tensor2D,
  target: tf.Tensor2D,
  k: number,
  seed: number,
  chunk = k,
): tf.Tensor1D {
  return tf.tidy(() => importanceWeighted(model, input, target, k, seed, chunk).bound);
}

/**
 * The importance-weighted bound per example and, from the same k samples, the k-sample Monte Carlo ELBO
 * mean_s log w_s per example (both [n]): their difference is the inference gap on these examples, never
 * negative (Jensen), at no extra decoder pass.
 */
export function importanceWeighted(
  model: LatentModel,
  input: tf.Tensor2D,
  target: tf.Tensor2D,
  k: number,
  seed: number,
  chunk = k,
): { bound: tf.Tensor1D; elbo: tf.Tensor1D } {
  return tf.tidy(() => {
    const parts: tf.Tensor1D[] = [];
    const sums: tf.Tensor1D[] = [];
    for (let start = 0, c = 0; start < k; start += chunk, c++) {
      const kc = Math.min(chunk, k - start);
      const logw = logImportanceWeights(model, input, target, kc, seed + c * 7919, true);
      parts.push(tf.logSumExp(logw, 0) as tf.Tensor1D);
      sums.push(tf.sum(logw, 0) as tf.Tensor1D);
    }
    const bound = tf.sub(tf.logSumExp(tf.stack(parts, 0), 0), Math.log(k)) as tf.Tensor1D;
    const elbo = tf.div(sums.length === 1 ? sums[0]! : tf.addN(sums), k) as tf.Tensor1D;
    return { bound, elbo };
  });
}

export interface ObjectiveOptions {
  kind: 'vae' | 'ae' | 'dae' | 'iwae';
  estimator: Estimator;
  /** L: samples per datapoint for the ELBO. */
  samples: number;
  /** k for iwae. */
  iwSamples: number;
  /** Weight on the KL (beta times the warm-up factor). */
  klWeight: number;
  seed: number;
  /** These rows are a shard of a larger batch: draw the batch's noise and use theirs. */
  block?: RowBlock;
}

/** Minibatch means: the loss to minimize and the (unweighted) reconstruction and KL terms reported with it. */
export interface ObjectiveValue {
  loss: tf.Scalar;
  recon: tf.Scalar;
  kl: tf.Scalar;
}

export function trainingObjective(model: LatentModel, input: tf.Tensor2D, target: tf.Tensor2D, opts: ObjectiveOptions): ObjectiveValue {
  return tf.tidy(() => {
    if (opts.kind === 'iwae') {
      const k = Math.max(1, opts.iwSamples);
      const t = importanceTerms(model, input, target, k, opts.seed, false, opts.block);
      const logw = tf.sub(tf.add(t.logPxGivenZ, t.logPz), t.logQz);
      const loss = tf.neg(tf.mean(logMeanExp(logw, 0))) as tf.Scalar;
      const recon = tf.neg(tf.mean(t.logPxGivenZ)) as tf.Scalar;
      const kl = tf.mean(tf.sub(t.logQz, t.logPz)) as tf.Scalar;
      return { loss, recon, kl };
    }
    const terms = elboTerms(model, input, target, opts);
    const recon = tf.mean(terms.recon) as tf.Scalar;
    const kl = tf.mean(terms.kl) as tf.Scalar;
    const loss = (model.stochastic ? tf.add(recon, tf.mul(kl, opts.klWeight)) : tf.clone(recon)) as tf.Scalar;
    return { loss, recon, kl };
  });
}
