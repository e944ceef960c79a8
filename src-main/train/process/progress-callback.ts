// Progress of a run for its progress bar: the step, the epoch, the training speed and the time left (ETA), sent as
// 'progress' events at most every PROGRESS_INTERVAL_MS (or at once, `force`, when the phase changes). It counts the
// training time and samples of the steps it is told about (afterStep), and keeps the recent pace the ETA extrapolates.
import type { Progress } from '@shared/model-types';
import type { EtaModel } from '../progress/eta';
import { SplitStepRate } from '../progress/step-rate';
import type { LoopCallback, StepDone } from './loop-callback';
import { PROGRESS_INTERVAL_MS } from './run-steps';

export interface ProgressSource {
  /** Where the run is: its step and the plan's totals. */
  position(): { step: number; totalSteps: number; stepsPerEpoch: number; totalEpochs: number };
  /** Milliseconds charged to the train phase so far (the step rate's clock). */
  trainMs(): number;
  /** Whether the worker is expected to take part in the coming steps (the ETA extrapolates that pace). */
  expectLinked(): boolean;
  emit(progress: Omit<Progress, 'runId'>): void;
}

export class ProgressCallback implements LoopCallback {
  private lastProgress = 0;
  private trainTimeMs = 0;
  private trainSamples = 0;
  private readonly stepRate = new SplitStepRate();

  constructor(
    readonly eta: EtaModel,
    private readonly source: ProgressSource,
    private readonly now: () => number = Date.now,
  ) {}

  /** Samples per second of training so far (time in the steps only). */
  get samplesPerSec(): number {
    return this.trainTimeMs > 0 ? (this.trainSamples * 1000) / this.trainTimeMs : 0;
  }

  afterStep(done: StepDone): void {
    this.trainTimeMs += done.ms;
    this.stepRate.observe(this.source.trainMs(), done.stepsRun, done.linked);
    this.trainSamples += done.rows;
    this.report('train');
  }

  /** A progress event for `phase` (unless one went out less than PROGRESS_INTERVAL_MS ago and not `force`). */
  report(phase: string, force = false): void {
    const now = this.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    const { step, totalSteps, stepsPerEpoch, totalEpochs } = this.source.position();
    // Everything still to come: steps at the measured wall time per step, evaluations, snapshots, checkpoints.
    const etaSeconds = this.eta.remainingSeconds(step, this.stepRate.msPerStep(this.source.expectLinked()));
    // epoch: fractional epochs done (step / steps per epoch), e.g. 2.5 halfway through the third epoch.
    this.source.emit({ step, totalSteps, epoch: step / stepsPerEpoch, totalEpochs, samplesPerSec: this.samplesPerSec, etaSeconds, phase });
  }
}
