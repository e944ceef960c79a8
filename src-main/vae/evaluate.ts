// Evaluation on a held-out split, batched, every tensor inside tf.tidy: -ELBO with its reconstruction and
// KL terms, KL per latent dimension with the count of active units, and an importance-sampled estimate
// of -log p(x). All values are nats per example (lower is better).
import * as tf from '@tensorflow/tfjs';
import { analyticKlPerDim, elboTerms, importanceWeighted, type Estimator } from './estimators';
import { corrupt } from './corruption';
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
  /** Another thread that shares the -log p(x) batches (an idle core); its failure only means this thread does them. */
  nllHelper?: NllHelper;
  /**
   * Other work of this thread that can run while the helper alone takes the -log p(x) batches (the FID at the end
   * of a run): after the ELBO pass, before this thread joins the batches; only when a helper shares them.
   */
  beside?: () => Promise<void>;
  /**
   * A denoising autoencoder's corruption: also report the loss on inputs corrupted as in training (against the clean
   * targets), seeded per batch, beside the loss on clean inputs.
   */
  corruption?: { kind: 'gaussian' | 'mask'; level: number };
  /** Keep the latent means of the first this-many examples (the snapshots' latent view; the ELBO pass encodes them anyway). */
  latentMeans?: number;
}

export interface EvalResult {
  n: number;
  /** -ELBO (vae, iwae) or the reconstruction loss (ae, dae). */
  loss: number;
  recon: number;
  kl: number;
  /** The reconstruction loss on inputs corrupted as in training (opts.corruption); NaN without it. */
  lossCorrupted: number;
  /** Importance-sampled -log p(x); NaN when skipped or for deterministic models. */
  nll: number;
  /** Examples the nll was averaged over (the first ones), and its k importance samples per example. */
  nllExamples: number;
  nllK: number;
  /** -ELBO on the same examples, from the nll's own k importance samples (mean log w); NaN when the nll is skipped. */
  nllElbo: number;
  /** KL per latent dimension averaged over the data (empty for deterministic models). */
  klPerDim: number[];
  activeUnits: number;
  /** Wall time of the ELBO pass and of the -log p(x) estimate, ms; decoder passes the latter made. */
  elboMs: number;
  nllMs: number;
  nllDecoded: number;
  /** The encoder means of the first min(opts.latentMeans, n) examples, row-major (when asked for). */
  latentMeans?: Float32Array;
}

function rows(x: Float32Array, d: number, start: number, end: number): tf.Tensor2D {
  return tf.tensor2d(x.subarray(start * d, end * d), [end - start, d]);
}

/**
 * The cost of one importance sample's decoder pass relative to one example's ELBO, for the progress fraction
 * (measured on the reference MLP, one thread, k = 100: 0.28-0.41).
 */
const NLL_PASS_WEIGHT = 0.3;

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
  keepMu: boolean,
  corruptSum: tf.Scalar,
): { r: tf.Tensor; k: tf.Tensor; kd: tf.Tensor; c: tf.Tensor; mu?: tf.Tensor } {
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
    let c = tf.clone(corruptSum);
    if (opts.corruption) {
      const noisy = corrupt(xb, opts.corruption.kind, opts.corruption.level, deriveSeed(opts.seed, SEED_STREAM.corruption, b));
      const tc = elboTerms(model, noisy, xb, {
        estimator: opts.estimator,
        samples: opts.samples,
        seed: deriveSeed(opts.seed, SEED_STREAM.eval, b),
      });
      c = tf.add(corruptSum, tf.sum(tf.add(tc.recon, tc.kl)));
    }
    return { r, k, kd: kd === klDimSum ? tf.clone(kd) : kd, c, mu: keepMu ? tf.clone(enc.mu) : undefined };
  });
}

/** How the -log p(x) estimate is cut into batches: examples per batch, importance samples decoded per chunk. */
export interface NllPlan {
  /** Examples the estimate averages over (the first ones). */
  examples: number;
  batch: number;
  chunk: number;
  batches: number;
}

export function nllPlan(model: LatentModel, n: number, opts: EvalOptions): NllPlan {
  const examples = model.stochastic && opts.iwSamples > 0 ? (opts.nllLimit && opts.nllLimit > 0 ? Math.min(opts.nllLimit, n) : n) : 0;
  const nllRows = Math.max(1, opts.nllRows ?? DEFAULT_NLL_ROWS);
  const batch = Math.max(1, Math.min(Math.max(1, opts.batchSize), Math.floor(nllRows / Math.max(1, Math.min(opts.iwSamples, nllRows)))));
  const chunk = Math.max(1, Math.floor(nllRows / batch));
  return { examples, batch, chunk, batches: Math.ceil(examples / batch) };
}

/**
 * Batch b of the -log p(x) estimate: minus the sums of its examples' importance-weighted bounds and of their
 * k-sample ELBOs. Its noise comes from the seed and b alone, so any process that holds the same weights computes
 * the same values.
 */
export function nllBatchValue(
  model: LatentModel,
  x: Float32Array,
  plan: NllPlan,
  b: number,
  opts: Pick<EvalOptions, 'iwSamples' | 'seed'>,
): { nll: number; elbo: number } {
  const start = b * plan.batch;
  const end = Math.min(plan.examples, start + plan.batch);
  const value = tf.tidy(() => {
    const xb = rows(x, model.d, start, end);
    const iw = importanceWeighted(model, xb, xb, opts.iwSamples, deriveSeed(opts.seed, SEED_STREAM.eval, 1_000_003, b), plan.chunk);
    return tf.neg(tf.stack([tf.sum(iw.bound), tf.sum(iw.elbo)]));
  });
  try {
    const [nll, elbo] = value.dataSync() as Float32Array;
    return { nll: nll!, elbo: elbo! };
  } finally {
    value.dispose();
  }
}

/**
 * The batches of one -log p(x) estimate, shared between this thread and a helper: both take the next batch
 * index from `next` (Atomics) and write its values to `elboSums[b]`, then `sums[b]`; NaN in sums marks a batch
 * nobody finished.
 */
export interface NllShare {
  plan: NllPlan;
  next: Int32Array;
  sums: Float64Array;
  elboSums: Float64Array;
}

function writeBatch(share: NllShare, b: number, v: { nll: number; elbo: number }): void {
  share.elboSums[b] = v.elbo;
  share.sums[b] = v.nll;
}

/** A helper (another thread with its own backend and a copy of the weights) that works through an NllShare with us. */
export type NllHelper = (share: NllShare) => Promise<void>;

/** Take batches from the share until none is left; onBatch between them. */
export async function workThroughNll(
  model: LatentModel,
  x: Float32Array,
  share: NllShare,
  opts: Pick<EvalOptions, 'iwSamples' | 'seed'>,
  onBatch?: () => void | Promise<void>,
): Promise<void> {
  for (;;) {
    const b = Atomics.add(share.next, 0, 1);
    if (b >= share.plan.batches) return;
    writeBatch(share, b, nllBatchValue(model, x, share.plan, b, opts));
    await onBatch?.();
  }
}

/** The share's sums in batch order (the same whoever computed what), after batches a failed helper took but did not finish. */
function sumShare(
  model: LatentModel,
  x: Float32Array,
  share: NllShare,
  opts: Pick<EvalOptions, 'iwSamples' | 'seed'>,
): { nllSum: number; elboSum: number } {
  let nllSum = 0;
  let elboSum = 0;
  for (let b = 0; b < share.plan.batches; b++) {
    if (Number.isNaN(share.sums[b]!)) writeBatch(share, b, nllBatchValue(model, x, share.plan, b, opts));
    nllSum += share.sums[b]!;
    elboSum += share.elboSums[b]!;
  }
  return { nllSum, elboSum };
}

function newShare(plan: NllPlan): NllShare {
  const values = () => new Float64Array(new SharedArrayBuffer(Math.max(1, plan.batches) * 8)).fill(NaN);
  return { plan, next: new Int32Array(new SharedArrayBuffer(4)), sums: values(), elboSums: values() };
}

export async function evaluateSplit(model: LatentModel, x: Float32Array, n: number, opts: EvalOptions): Promise<EvalResult> {
  const d = model.d;
  if (x.length < n * d) throw new Error(`evaluateSplit: ${x.length} values cannot hold ${n} examples of ${d}`);
  const bs = Math.max(1, opts.batchSize);
  const plan = nllPlan(model, n, opts);
  const nllN = plan.examples;
  // Progress in units of one ELBO example (an encoder and a decoder pass); one of the k decoder passes
  // per example of the -log p(x) costs about a third of that (NLL_PASS_WEIGHT).
  // (in wall time: a helper takes half the batches, while the ELBO pass runs on this thread alone)
  const sharedNll = nllN > 0 && plan.batches > 1 && !!opts.nllHelper;
  const nllWeight = Math.max(1, (opts.iwSamples * NLL_PASS_WEIGHT) / (sharedNll ? 2 : 1));
  const totalWork = n + nllN * nllWeight;
  // A helper starts on the -log p(x) batches at once, while this thread runs the ELBO, then joins it.
  const share = newShare(plan);
  const helped = sharedNll ? opts.nllHelper!(share).catch(() => undefined) : null;
  let reconSum = tf.scalar(0);
  let klSum = tf.scalar(0);
  let klDimSum: tf.Tensor1D = tf.zeros([model.latentDim]);
  let corruptSum = tf.scalar(0);
  const keptRows = Math.min(n, Math.max(0, Math.floor(opts.latentMeans ?? 0)));
  const latentMeans = keptRows > 0 ? new Float32Array(keptRows * model.latentDim) : undefined;
  const t0 = performance.now();
  let t1 = t0;
  try {
    for (let start = 0, b = 0; start < n; start += bs, b++) {
      const end = Math.min(n, start + bs);
      const next = elboBatch(model, x, d, start, end, b, opts, reconSum, klSum, klDimSum, start < keptRows, corruptSum);
      if (next.mu) {
        const mu = next.mu.dataSync() as Float32Array;
        next.mu.dispose();
        latentMeans!.set(mu.subarray(0, (Math.min(end, keptRows) - start) * model.latentDim), start * model.latentDim);
      }
      tf.dispose([reconSum, klSum, klDimSum, corruptSum]);
      corruptSum = next.c as tf.Scalar;
      reconSum = next.r as tf.Scalar;
      klSum = next.k as tf.Scalar;
      klDimSum = next.kd as tf.Tensor1D;
      await opts.onBatch?.(end / totalWork);
    }
    t1 = performance.now();
    let besideMs = 0;
    if (helped && opts.beside) {
      await opts.beside();
      besideMs = performance.now() - t1;
    }
    // progress: the batches finished by either thread (not those taken: a taken batch is still to compute)
    const nllProgress = () => {
      let done = 0;
      for (let b = 0; b < plan.batches; b++) if (!Number.isNaN(share.sums[b]!)) done++;
      return opts.onBatch?.((n + Math.min(nllN, done * plan.batch) * nllWeight) / totalWork);
    };
    if (nllN > 0) await workThroughNll(model, x, share, opts, nllProgress);
    await helped;
    const { nllSum, elboSum } = sumShare(model, x, share, opts);
    const recon = reconSum.dataSync()[0]! / n;
    const kl = klSum.dataSync()[0]! / n;
    const klPerDim = model.stochastic ? Array.from(klDimSum.dataSync(), (v) => v / n) : [];
    const nll = nllN > 0 ? nllSum / nllN : NaN;
    const t2 = performance.now();
    return {
      n,
      loss: recon + kl,
      recon,
      kl,
      lossCorrupted: opts.corruption ? corruptSum.dataSync()[0]! / n : NaN,
      nll,
      nllExamples: nllN,
      nllK: nllN > 0 ? opts.iwSamples : 0,
      nllElbo: nllN > 0 ? elboSum / nllN : NaN,
      klPerDim,
      activeUnits: klPerDim.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
      elboMs: t1 - t0,
      // the estimate's wall time, less the time this thread spent on other work beside the helper
      nllMs: t2 - t1 - besideMs,
      nllDecoded: nllN * opts.iwSamples,
      ...(latentMeans ? { latentMeans } : {}),
    };
  } finally {
    // Stop a helper that is still taking batches (cancelled, or an error here).
    Atomics.store(share.next, 0, plan.batches);
    tf.dispose([reconSum, klSum, klDimSum, corruptSum]);
  }
}
