// The checkpoints of a VAE-family run: restoring one when resuming, and writing them (checkpoints/best, /last and the
// interval checkpoints checkpoints/epoch-N every checkpoints.everyEpochs epochs), the retention of the interval ones
// after each (the newest checkpoints.keepLast kept: pruneIntervalCheckpoints, the one rule in checkpoint-rules.ts).
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '@shared/run-config';
import { readCheckpointDir, type CheckpointContents } from '../../checkpoints/checkpoint-dir';
import { pruneIntervalCheckpoints } from '../../checkpoints/checkpoint-rules';
import type { VaeModel } from '../../vae/model';
import { exportOptimizerState, importOptimizerState } from '../../vae/optimizer';
import type { CheckpointTag, RunSteps } from './run-steps';

/** Restore model weights (and optimizer state when asked) from a checkpoint directory; returns its counters. */
export async function restoreFromCheckpoint(
  dir: string,
  model: VaeModel,
  optimizer: tf.Optimizer | null,
): Promise<{ step: number; epoch: number; contents: CheckpointContents }> {
  const contents = readCheckpointDir(dir);
  model.loadNamedWeights(contents.weights);
  if (optimizer && contents.optimizer) await importOptimizerState(optimizer, model, contents.optimizer);
  return { step: contents.step, epoch: contents.epoch, contents };
}

/** Whether epoch `epoch` (0-based) is due an interval checkpoint not yet written. */
export function intervalDue(config: RunConfig, epoch: number, lastIntervalEpoch: number): boolean {
  const every = config.checkpoints.everyEpochs;
  return every > 0 && (epoch + 1) % every === 0 && lastIntervalEpoch !== epoch;
}

export class Checkpointer {
  /** The 0-based epoch of the last interval checkpoint written, -1 for none. */
  lastIntervalEpoch = -1;

  constructor(
    private readonly config: RunConfig,
    private readonly runDir: string,
    private readonly steps: RunSteps,
  ) {}

  intervalDue(epoch: number): boolean {
    return intervalDue(this.config, epoch, this.lastIntervalEpoch);
  }

  /** Write the checkpoint `tag` of the model at (epoch, step); interval: checkpoints/epoch-N, then the retention. */
  async write(
    tag: CheckpointTag,
    at: { epoch: number; step: number },
    state: { model: VaeModel; optimizer: tf.Optimizer },
    metrics: Record<string, number>,
  ): Promise<void> {
    const weights = state.model.namedWeights();
    const optimizer = await exportOptimizerState(state.optimizer, state.model);
    this.steps.writeCheckpoint(
      tag,
      tag === 'interval' ? `epoch-${at.epoch + 1}` : tag,
      { epoch: at.epoch + 1, step: at.step },
      weights,
      optimizer,
      metrics,
    );
    if (tag === 'interval') {
      this.lastIntervalEpoch = at.epoch;
      pruneIntervalCheckpoints(path.join(this.runDir, 'checkpoints'), this.config.checkpoints.keepLast);
    }
  }
}
