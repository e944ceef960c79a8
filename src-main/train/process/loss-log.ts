// The training loss as the loop logs it: the batches' loss, reconstruction and KL summed on the device (no read-back
// between log points: reading every step stalls the pipeline), read back every training.logEverySteps steps and at
// the end of each epoch as their means (train/loss, train/recon, train/kl). A NaN or infinite mean ends the run
// (Diverged, naming the steps it was averaged over), as does the health monitor's divergence rule.
import * as tf from '@tensorflow/tfjs';
import type { MetricPoint } from '@shared/model-types';
import { Diverged } from './run-steps';
import type { StepValue } from './step-function';

const finite = (v: number) => Number.isFinite(v);

/** Running sums on the device since the last log point. */
export class LossLog {
  private sums: [tf.Scalar, tf.Scalar, tf.Scalar] = [tf.scalar(0), tf.scalar(0), tf.scalar(0)];
  /** Steps summed since the last log point. */
  pending = 0;

  /** Add one step's values (disposed here). */
  add(v: StepValue): void {
    const [sumLoss, sumRecon, sumKl] = this.sums;
    const next = tf.tidy(() => [tf.add(sumLoss, v.loss), tf.add(sumRecon, v.recon), tf.add(sumKl, v.kl)]);
    tf.dispose([sumLoss, sumRecon, sumKl, v.loss, v.recon, v.kl]);
    this.sums = next as [tf.Scalar, tf.Scalar, tf.Scalar];
    this.pending++;
  }

  /**
   * The means since the last log point as metric points at `step` (epoch: fractional epochs done), then zero sums;
   * [] when no step was added. Throws Diverged when a mean is not finite (`epoch`: the 1-based epoch, for the message).
   */
  flush(step: number, stepsPerEpoch: number, epoch: number): MetricPoint[] {
    if (this.pending === 0) return [];
    const [l, r, k] = this.sums.map((t) => t.dataSync()[0]!) as [number, number, number];
    const n = this.pending;
    this.pending = 0;
    tf.dispose(this.sums);
    this.sums = [tf.scalar(0), tf.scalar(0), tf.scalar(0)];
    if (!finite(l) || !finite(r) || !finite(k)) {
      const what = Number.isNaN(l) ? 'NaN' : !finite(l) ? 'infinite' : Number.isNaN(r + k) ? 'NaN in its terms' : 'infinite in its terms';
      throw new Diverged(
        `training diverged: the loss became ${what} by step ${step} (epoch ${epoch}; averaged over steps ${step - n + 1}-${step})`,
      );
    }
    const time = Date.now();
    const at = step / stepsPerEpoch; // fractional epochs done
    return [
      { name: 'train/loss', step, epoch: at, time, value: l / n },
      { name: 'train/recon', step, epoch: at, time, value: r / n },
      { name: 'train/kl', step, epoch: at, time, value: k / n },
    ];
  }

  dispose(): void {
    tf.dispose(this.sums);
  }
}
