// Early stopping on the validation loss (training.earlyStoppingPatience): it keeps the best val/loss and its epoch
// (the loop writes the 'best' checkpoint when a value improves on it) and asks the loop to stop after `patience`
// epochs without improvement. Pure: no tfjs.
import type { LoopCallback } from './loop-callback';

export class EarlyStopping implements LoopCallback {
  bestVal = Infinity;
  /** The 0-based epoch of the best validation loss, -1 before the first. */
  bestEpoch = -1;
  stopped = false;

  /** patience 0: never stop; `hasVal`: the run has a validation split. */
  constructor(
    private readonly patience: number,
    private readonly hasVal: boolean,
  ) {}

  /** Record epoch `epoch`'s validation loss; true when it is the best so far. */
  observe(valLoss: number, epoch: number): boolean {
    if (!(valLoss < this.bestVal)) return false;
    this.bestVal = valLoss;
    this.bestEpoch = epoch;
    return true;
  }

  stopAfterEpoch(epoch: number): string | null {
    const { patience, bestEpoch } = this;
    if (patience <= 0 || !this.hasVal || bestEpoch < 0 || epoch - bestEpoch < patience) return null;
    this.stopped = true;
    return `early stopping: no validation improvement for ${epoch - bestEpoch} epochs (best ${this.bestVal.toFixed(3)} at epoch ${bestEpoch + 1})`;
  }
}
