// One optimizer step on a minibatch cut into shards (data parallelism). Shard s holds the contiguous rows
// [from, to) of the batch; its loss is its rows' mean weighted by (to - from) / rows, so the shards' gradients
// add up to the gradient of the batch mean. Every shard draws the noise of the whole batch from the step's seeds
// (reparameterization, dynamic binarization, corruption) and uses its own rows' part of it, so the shards of a
// step compute exactly the estimator of the unsharded step; only the order of the floating-point sums differs.
// The sum is taken in shard order (((g_0 + g_1) + g_2) ...) on whichever thread computes it: a step's result
// depends only on the seed and the number of shards, never on which thread computed which shard. One shard is
// the plain step of the unsharded loop.
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '@shared/run-config';
import { binarizeBatch, corrupt } from '../../vae/corruption';
import { trainingObjective } from '../../vae/estimators';
import type { VaeModel } from '../../vae/model';
import { gradientList } from '../../vae/optimizer';
import { deriveSeed, SEED_STREAM } from '../../vae/seeds';

/** Shards below this many rows are not worth a thread: 'auto' keeps one shard for smaller batches. */
export const MIN_SHARD_ROWS = 32;

/** The rows [from, to) of each shard of a batch of `rows` (fewer shards when the batch has fewer rows). */
export function shardBounds(rows: number, shards: number): { from: number; to: number }[] {
  const S = Math.max(1, Math.min(shards, rows));
  return Array.from({ length: S }, (_, s) => ({ from: Math.floor((s * rows) / S), to: Math.floor(((s + 1) * rows) / S) }));
}

/** The shard count of a run: training.dataParallel, or for 'auto' 2 when the run has an idle core and a batch worth cutting. */
export function resolveShards(setting: RunConfig['training']['dataParallel'], idleCores: number, batchSize: number): number {
  if (setting !== 'auto') return setting;
  return idleCores >= 1 && batchSize >= 2 * MIN_SHARD_ROWS ? 2 : 1;
}

/** What a shard's objective needs besides the model: the run's config and whether batches are binarized on the fly. */
export interface StepSpec {
  config: RunConfig;
  dynamicBinarize: boolean;
}

/** One step's draw: its seed, the KL weight (beta times the warm-up factor), the shard and the batch's rows. */
export interface ShardParams {
  stepSeed: number;
  klWeight: number;
  shard: number;
  shards: number;
  /** This shard's rows [shardFrom, shardFrom + shardRows) of the batch's batchRows. */
  shardFrom: number;
  shardRows: number;
  batchRows: number;
}

/** A shard's gradients (in the model's weight order) and its share of the batch's reported loss, reconstruction and KL. */
export interface ShardGradients {
  grads: tf.Tensor[];
  loss: tf.Scalar;
  recon: tf.Scalar;
  kl: tf.Scalar;
}

/** The gradients of one shard (rows of xb) of the batch's mean loss; the caller disposes them. */
export function shardGradients(model: VaeModel, vars: tf.Variable[], spec: StepSpec, xb: tf.Tensor2D, p: ShardParams): ShardGradients {
  const { config, dynamicBinarize } = spec;
  const kind = config.model.kind as 'vae' | 'ae' | 'dae' | 'iwae';
  const weight = p.shardRows / p.batchRows;
  const block = { total: p.batchRows, from: p.shardFrom };
  const seed = (stream: number) => deriveSeed(p.stepSeed, stream);
  let kept: Omit<ShardGradients, 'grads'> | null = null;
  const { value, grads } = tf.variableGrads(() => {
    let input = xb;
    let target = xb;
    if (dynamicBinarize) input = target = binarizeBatch(xb, seed(SEED_STREAM.binarize), block);
    if (kind === 'dae') input = corrupt(target, config.model.corruption, config.model.corruptionLevel, seed(SEED_STREAM.corruption), block);
    const v = trainingObjective(model, input, target, {
      kind,
      estimator: config.objective.estimator,
      samples: config.objective.mcSamples,
      iwSamples: config.objective.iwSamples,
      klWeight: p.klWeight,
      seed: seed(SEED_STREAM.eps),
      block,
    });
    // Reported loss: the -IW bound for iwae, else the unweighted -ELBO (recon + kl; recon for ae/dae).
    const reported = kind === 'iwae' ? v.loss : tf.add(v.recon, v.kl);
    const share = (t: tf.Tensor) => tf.keep((weight === 1 ? tf.clone(t) : tf.mul(t, weight)) as tf.Scalar);
    kept = { loss: share(reported), recon: share(v.recon), kl: share(v.kl) };
    return (weight === 1 ? v.loss : tf.mul(v.loss, weight)) as tf.Scalar;
  }, vars);
  value.dispose();
  const list = gradientList(vars, grads);
  if (!kept) throw new Error('the objective did not run');
  return { grads: list, ...(kept as Omit<ShardGradients, 'grads'>) };
}

/** a + b per weight (new tensors; the inputs are left to the caller). */
export function addGradients(a: tf.Tensor[], b: tf.Tensor[]): tf.Tensor[] {
  return a.map((g, i) => tf.add(g, b[i]!));
}

/** Copy the rows `index[i]` of x (n x d, row-major) into one tensor. */
export function gatherBatch(x: Float32Array, d: number, index: ArrayLike<number>): tf.Tensor2D {
  const rows = index.length;
  const xs = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) {
    const r = index[i]!;
    xs.set(x.subarray(r * d, (r + 1) * d), i * d);
  }
  return tf.tensor2d(xs, [rows, d]);
}
