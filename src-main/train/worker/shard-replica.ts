// The worker's side of data-parallel training (shard-link.ts describes the protocol): a replica of the
// trainer's model and optimizer that computes the last shard of every step and applies the same summed
// gradients, so its state stays bit-identical to the trainer's for as long as the loop runs.
import * as tf from '@tensorflow/tfjs';
import type { VaeModel } from '../../vae/model';
import { createOptimizer, importReplicaState, type ReplicaOptimizerState } from '../../vae/optimizer';
import type { NamedTensor } from '../../vae/named-tensor';
import { CTRL, ShardViews, applyShardSum, prefixWritten, writeRegion, type ShardBuffers } from '../compute/shard-link';
import { gatherBatch, shardGradients, type StepSpec } from '../compute/shard-step';

export interface ShardReplicaJob {
  weights: NamedTensor[];
  optimizer: ReplicaOptimizerState;
  buffers: ShardBuffers;
  /** The training split (shared memory: the trainer's own copy) and the features per example. */
  train: { x: Float32Array; d: number };
  dynamicBinarize: boolean;
  /** Told back through CTRL.READY once the replica holds the trainer's state. */
  token: number;
}

/** Block until ctrl[index] differs from `value` (a worker thread may block). */
function waitChange(ctrl: Int32Array, index: number, value: number): number {
  for (;;) {
    const now = Atomics.load(ctrl, index);
    if (now !== value) return now;
    Atomics.wait(ctrl, index, value, 1000);
  }
}

/** Serve steps until the trainer says END; returns the number of steps taken. */
export async function serveShardSteps(model: VaeModel, spec: StepSpec, job: ShardReplicaJob): Promise<number> {
  model.loadNamedWeights(job.weights);
  const optimizer = createOptimizer(spec.config.optimizer);
  try {
    await importReplicaState(optimizer, model, job.optimizer);
    const vars = model.variables();
    const views = new ShardViews(job.buffers);
    const { ctrl } = views;
    // SEQ before ENDED: an END that comes after this read bumps SEQ and wakes the loop below
    let seq = Atomics.load(ctrl, CTRL.SEQ);
    const ended = () => Atomics.load(ctrl, CTRL.ENDED) >= job.token;
    if (ended()) return 0;
    Atomics.store(ctrl, CTRL.READY, job.token);
    Atomics.notify(ctrl, CTRL.READY);
    let steps = 0;
    for (;;) {
      seq = waitChange(ctrl, CTRL.SEQ, seq);
      if (ended()) return steps;
      const p = views.getParams();
      const xb = gatherBatch(job.train.x, job.train.d, views.indices.subarray(0, p.shardRows));
      const own = shardGradients(model, vars, spec, xb, p);
      xb.dispose();
      writeRegion(views.regionOf('worker', seq), views.layout, own.grads, [own.loss, own.recon, own.kl]);
      tf.dispose([own.loss, own.recon, own.kl]);
      Atomics.store(ctrl, CTRL.DONE, seq);
      Atomics.notify(ctrl, CTRL.DONE);
      // the trainer's prefix of this step, then the same update as the trainer's; the trainer stores MAIN = seq
      // before it reads DONE (so before it can end the session or move on), and may be a step further already
      for (;;) {
        const main = Atomics.load(ctrl, CTRL.MAIN);
        if (main - seq >= 0 || ended()) break;
        Atomics.wait(ctrl, CTRL.MAIN, main, 1000);
      }
      if (prefixWritten(ctrl, seq)) {
        applyShardSum(optimizer, vars, own.grads, views.regionOf('main', seq), views.layout, spec.config.optimizer.clipNorm);
        steps++;
      }
      tf.dispose(own.grads);
    }
  } finally {
    optimizer.dispose();
  }
}
