// The training step the loop calls: one optimizer step on the rows `index` of the training split, returning the batch's
// mean loss, reconstruction and KL as device scalars (the caller disposes them). A single-shard step is the plain
// function below: gather the rows, the objective's gradients (shardGradients of compute/shard-step.ts with the one
// shard that is the whole batch: it draws the step's noise and calls the estimator of vae/estimators.ts), apply them.
// Data parallelism (data-parallel.ts) is the same function type over a batch cut into shards, one of them computed
// by the worker while it is linked: the same seed and shard count give the same result on whichever thread.
import * as tf from '@tensorflow/tfjs';
import type { VaeModel } from '../../vae/model';
import { applyClipped } from '../../vae/optimizer';
import { gatherBatch, shardGradients, type StepSpec } from '../compute/shard-step';
import type { StepValue } from './data-parallel';

export type { StepValue } from './data-parallel';

/** One optimizer step on the train rows `index` with the step's seed and KL weight. */
export type StepFunction = (index: Int32Array, stepSeed: number, klWeight: number) => Promise<StepValue>;

/** What a step works on: the model, its variables and optimizer, the objective's spec and the training split. */
export interface StepTarget {
  model: VaeModel;
  vars: tf.Variable[];
  optimizer: tf.Optimizer;
  spec: StepSpec;
  train: { x: Float32Array; d: number };
}

/** The plain step of one shard: the whole batch's gradients of the objective, clipped and applied. */
export function singleShardStep(t: StepTarget): StepFunction {
  return async (index, stepSeed, klWeight) => {
    const rows = index.length;
    const xb = gatherBatch(t.train.x, t.train.d, index);
    let g;
    try {
      g = shardGradients(t.model, t.vars, t.spec, xb, {
        stepSeed,
        klWeight,
        shard: 0,
        shards: 1,
        shardFrom: 0,
        shardRows: rows,
        batchRows: rows,
      });
    } finally {
      xb.dispose();
    }
    applyClipped(t.optimizer, t.vars, g.grads, t.spec.config.optimizer.clipNorm);
    tf.dispose(g.grads);
    return { loss: g.loss, recon: g.recon, kl: g.kl };
  };
}
