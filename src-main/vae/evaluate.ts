// Evaluation on a held-out split, batched, every tensor inside tf.tidy: -ELBO with its reconstruction and
// KL terms, KL per latent dimension with the count of active units, and an importance-sampled estimate
// of -log p(x). All values are nats per example (lower is better).
import * as tf from '@tensorflow/tfjs';
import { analyticKlPerDim, elboTerms, importanceWeightedBound, type Estimator } from './estimators';
import { deriveSeed, SEED_STREAM } from './seeds';
import type { LatentModel } from './types';

/** A latent dimension counts as active when its KL, averaged over the data, exceeds this many nats. */
export const ACTIVE_UNIT_THRESHOLD = 0.01;

export interface EvalOptions {
  batchSize: number;
  estimator: Estimator;
  /** Samples per example for the reconstruction term. */
  samples: number;
  /** k for the importance-sampled -log p(x); 0 skips it. */
  iwSamples: number;
  /** Estimate -log p(x) on at most this many examples (the first ones); 0 = all. */
  nllLimit?: number;
  seed: number;
  /** Rows (examples x samples) decoded at once in the -log p(x) estimate; bounds memory (default 8192). */
  nllRows?: number;
  /** Called between batches (progress, cancellation: throw to stop). */
  onBatch?: (fraction: number) => void | Promise<void>;
}

export interface EvalResult {
  n: number;
  /** -ELBO (vae, iwae) or the reconstruction loss (ae, dae). */
  loss: number;
  recon: number;
  kl: number;
  /** Importance-sampled -log p(x); NaN when skipped or for deterministic models. */
  nll: number;
  /** Examples the nll was averaged over. */
  nllExamples: number;
  /** KL per latent dimension averaged over the data (empty for deterministic models). */
  klPerDim: number[];
  activeUnits: number;
  /** Wall time of the ELBO pass and of the -log p(x) estimate, ms; decoder passes the latter made. */
  elboMs: number;
  nllMs: number;
  nllDecoded: number;
}

function rows(x: Float32Array, d: number, start: number, end: number): tf.Tensor2D {
  return tf.tensor2d(x.subarray(start * d, end * d), [end - start, d]);
}

/** The cost of one importance sample's decoder pass relative to one example's ELBO, for the progress fraction. */
const NLL_PASS_WEIGHT = 0.5;

/** Rows of importance samples decoded at once in the -log p(x) estimate, by default (bounds memory). */
export const DEFAULT_NLL_ROWS = 8192;

/** One ELBO batch (rows start..end, batch index b): the running sums with this batch's terms added. */
function elboBatch(
  model: LatentModel,
  x: Float32Array,
  d: number,
  start: number,
  end: number,
  b: number,
  opts: EvalOptions,
  reconSum: tf.Scalar,
  klSum: tf.Scalar,
  klDimSum: tf.Tensor1D,
): { r: tf.Tensor; k: tf.Tensor; kd: tf.Tensor } {
  return tf.tidy(() => {
    const xb = rows(x, d, start, end);
    // One encoder pass serves the ELBO and the KL per dimension.
    const enc = model.encode(xb);
    const t = elboTerms(
      model,
      xb,
      xb,
      { estimator: opts.estimator, samples: opts.samples, seed: deriveSeed(opts.seed, SEED_STREAM.eval, b) },
      enc,
    );
    const r = tf.add(reconSum, tf.sum(t.recon));
    const k = tf.add(klSum, tf.sum(t.kl));
    let kd = klDimSum;
    if (model.stochastic) kd = tf.add(klDimSum, tf.sum(analyticKlPerDim(enc.mu, enc.logvar!), 0));
    return { r, k, kd: kd === klDimSum ? tf.clone(kd) : kd };
  });
}

/** One -log p(x) batch (rows start..end, batch index b): the running sum minus this batch's bounds. */
function nllBatchSum(
  model: LatentModel,
  x: Float32Array,
  d: number,
  start: number,
  end: number,
  b: number,
  opts: EvalOptions,
  nllChunk: number,
  nllSum: tf.Scalar,
): tf.Tensor {
  return tf.tidy(() => {
    const xb = rows(x, d, start, end);
    const bound = importanceWeightedBound(model, xb, xb, opts.iwSamples, deriveSeed(opts.seed, SEED_STREAM.eval, 1_000_003, b), nllChunk);
    return tf.sub(nllSum, tf.sum(bound));
  });
}

export async function evaluateSplit(model: LatentModel, x: Float32Array, n: number, opts: EvalOptions): Promise<EvalResult> {
  const d = model.d;
  if (x.length < n * d) throw new Error(`evaluateSplit: ${x.length} values cannot hold ${n} examples of ${d}`);
  const bs = Math.max(1, opts.batchSize);
  const nllN = model.stochastic && opts.iwSamples > 0 ? (opts.nllLimit && opts.nllLimit > 0 ? Math.min(opts.nllLimit, n) : n) : 0;
  const nllRows = Math.max(1, opts.nllRows ?? DEFAULT_NLL_ROWS);
  const nllBatch = Math.max(1, Math.min(bs, Math.floor(nllRows / Math.max(1, Math.min(opts.iwSamples, nllRows)))));
  const nllChunk = Math.max(1, Math.floor(nllRows / nllBatch));
  // Progress in units of one ELBO example (an encoder and a decoder pass); one of the k decoder passes
  // per example of the -log p(x) costs about half of that (measured on the reference MLP).
  const nllWeight = Math.max(1, opts.iwSamples * NLL_PASS_WEIGHT);
  const totalWork = n + nllN * nllWeight;
  let reconSum = tf.scalar(0);
  let klSum = tf.scalar(0);
  let klDimSum: tf.Tensor1D = tf.zeros([model.latentDim]);
  let nllSum = tf.scalar(0);
  const t0 = performance.now();
  let t1 = t0;
  try {
    for (let start = 0, b = 0; start < n; start += bs, b++) {
      const end = Math.min(n, start + bs);
      const next = elboBatch(model, x, d, start, end, b, opts, reconSum, klSum, klDimSum);
      reconSum.dispose();
      klSum.dispose();
      klDimSum.dispose();
      reconSum = next.r as tf.Scalar;
      klSum = next.k as tf.Scalar;
      klDimSum = next.kd as tf.Tensor1D;
      await opts.onBatch?.(end / totalWork);
    }
    t1 = performance.now();
    for (let start = 0, b = 0; start < nllN; start += nllBatch, b++) {
      const end = Math.min(nllN, start + nllBatch);
      const next = nllBatchSum(model, x, d, start, end, b, opts, nllChunk, nllSum);
      nllSum.dispose();
      nllSum = next as tf.Scalar;
      await opts.onBatch?.((n + end * nllWeight) / totalWork);
    }
    const recon = reconSum.dataSync()[0]! / n;
    const kl = klSum.dataSync()[0]! / n;
    const klPerDim = model.stochastic ? Array.from(klDimSum.dataSync(), (v) => v / n) : [];
    const nll = nllN > 0 ? nllSum.dataSync()[0]! / nllN : NaN;
    const t2 = performance.now();
    return {
      n,
      loss: recon + kl,
      recon,
      kl,
      nll,
      nllExamples: nllN,
      klPerDim,
      activeUnits: klPerDim.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
      elboMs: t1 - t0,
      nllMs: t2 - t1,
      nllDecoded: nllN * opts.iwSamples,
    };
  } finally {
    reconSum.dispose();
    klSum.dispose();
    klDimSum.dispose();
    nllSum.dispose();
  }
}
