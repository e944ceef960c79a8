// The health monitor of one run: fed every metric point the trainer reports, it raises (and clears) the
// warnings of src-shared/health-warnings.ts. Pure: no tfjs, no I/O; the training loop turns its changes
// into a log line and a `health/*` metric point.
import { HEALTH_WARNINGS, type HealthCode } from '@shared/health-warnings';
import type { MetricPoint } from '@shared/model-types';

/** Total KL (nats per example) below which the posterior counts as collapsed. */
export const COLLAPSE_KL = 0.5;
/** Epochs after which one collapsed-looking evaluation is enough. */
export const COLLAPSE_MIN_EPOCHS = 3;
/** Fraction of output dimensions at the σ floor above which the warning is raised. */
export const SIGMA_FLOOR_FRACTION = 0.5;
/** Evaluations without a relative improvement of PLATEAU_REL that count as a plateau. */
export const PLATEAU_WINDOW = 5;
export const PLATEAU_REL = 1e-3;
/** The training loss diverges when it exceeds its best by this much (nats) and by this fraction. */
export const DIVERGE_ABS = 5;
export const DIVERGE_REL = 0.5;
/**
 * A run DIVERGED (it ends with status `diverged`) when its training loss stays above that threshold for this many
 * consecutive log points (training.logEverySteps apart), or becomes NaN or infinite (trainer.ts).
 */
export const DIVERGE_WINDOW = 10;
/**
 * Learned-σ overfitting: the test loss is this many nats (and this fraction of its magnitude) above its best while
 * the training loss is at least as far below where it was at that best.
 */
export const VAR_OVERFIT_ABS = 2;
export const VAR_OVERFIT_REL = 0.01;

export interface HealthSubject {
  latentDim: number;
  /** q(z|x) is stochastic (vae, iwae): the collapse checks apply. */
  stochastic: boolean;
  /** The decoder learns its σ (likelihood gaussian-learned): the variance-overfitting check applies. */
  learnedSigma?: boolean;
}

export interface HealthChange {
  code: HealthCode;
  metric: string;
  active: boolean;
  /** What was measured, e.g. "test KL 0.29 nats, 1 of 2 units active". */
  detail: string;
}

export class HealthMonitor {
  private readonly active = new Map<HealthCode, boolean>();
  private testKl: number | null = null;
  /** Consecutive test evaluations that looked collapsed, and the epoch of the latest. */
  private collapsedEvals = 0;
  private evalEpoch = 0;
  private units: number | null = null;
  private peakUnits = 0;
  private readonly evalLosses: number[] = [];
  private bestTrain = Infinity;
  private trainPoints = 0;
  /** The training loss of the model as it started (its first step), when known. */
  private initialLoss: number | null = null;
  /** Consecutive training-loss points above the divergence threshold, the step of the first, the latest value. */
  private above = 0;
  private aboveFrom = 0;
  private aboveValue = 0;
  /** The latest training loss, and the best test loss with the training loss of that moment. */
  private lastTrain: number | null = null;
  private bestTest: { test: number; train: number } | null = null;

  constructor(private readonly subject: HealthSubject) {}

  /** Feed metric points; returns the warnings that were raised or cleared by them. */
  observe(points: readonly MetricPoint[]): HealthChange[] {
    const changes: HealthChange[] = [];
    const touched = new Set<HealthCode>();
    for (const p of points) {
      if (!Number.isFinite(p.value)) continue;
      switch (p.name) {
        case 'test/kl':
          this.testKl = p.value;
          this.evalEpoch = p.epoch;
          touched.add('posterior-collapse');
          break;
        case 'test/activeUnits':
          this.units = p.value;
          this.peakUnits = Math.max(this.peakUnits, p.value);
          touched.add('posterior-collapse');
          break;
        case 'test/sigmaAtFloor':
          this.set(
            changes,
            'sigma-at-floor',
            p.value > SIGMA_FLOOR_FRACTION,
            `${(100 * p.value).toFixed(0)}% of the decoder σ at its floor`,
          );
          break;
        case 'test/loss':
          this.evalLosses.push(p.value);
          this.checkPlateau(changes);
          this.checkVarianceOverfit(changes, p.value);
          break;
        case 'train/loss':
          this.lastTrain = p.value;
          this.checkDivergence(changes, p.value, p.step);
          break;
      }
    }
    if (touched.has('posterior-collapse')) this.checkCollapse(changes);
    return changes;
  }

  private checkCollapse(changes: HealthChange[]): void {
    if (!this.subject.stochastic) return;
    const kl = this.testKl;
    const klLow = kl !== null && kl < COLLAPSE_KL;
    const D = this.subject.latentDim;
    const unitsLow = this.units !== null && (this.units === 0 || (D >= 2 && this.units <= 1 && this.units < this.peakUnits));
    const looks = klLow || unitsLow;
    this.collapsedEvals = looks ? this.collapsedEvals + 1 : 0;
    // A KL near zero in the first epochs is often a transient (the encoder starts near the prior): raise the
    // warning when it persists over two evaluations or is still there after COLLAPSE_MIN_EPOCHS epochs.
    const persistent = this.collapsedEvals >= 2 || this.evalEpoch >= COLLAPSE_MIN_EPOCHS;
    const parts: string[] = [];
    if (kl !== null) parts.push(`test KL ${kl.toFixed(2)} nats`);
    if (this.units !== null) parts.push(`${this.units} of ${D} units active (KL-based)`);
    if (looks && !persistent) return;
    this.set(changes, 'posterior-collapse', looks, parts.join(', '));
  }

  private checkPlateau(changes: HealthChange[]): void {
    const v = this.evalLosses;
    if (v.length <= PLATEAU_WINDOW) return;
    const prior = Math.min(...v.slice(0, v.length - PLATEAU_WINDOW));
    const recent = Math.min(...v.slice(v.length - PLATEAU_WINDOW));
    const stuck = recent > prior - PLATEAU_REL * Math.abs(prior);
    this.set(
      changes,
      'plateau',
      stuck,
      `best test loss of the last ${PLATEAU_WINDOW} evaluations ${recent.toFixed(3)} against ${prior.toFixed(3)} before`,
    );
  }

  /** The training loss of the model before its first update: the loss must not stay far above this either. */
  setInitialLoss(value: number): void {
    if (Number.isFinite(value)) this.initialLoss = value;
  }

  /** The reference of the divergence rule: the best training loss so far, or the starting loss when that is lower. */
  private divergenceReference(): number {
    return this.initialLoss !== null ? Math.min(this.bestTrain, this.initialLoss) : this.bestTrain;
  }

  private checkDivergence(changes: HealthChange[], value: number, step: number): void {
    this.trainPoints++;
    if (value < this.bestTrain) this.bestTrain = value;
    // without the starting loss, the first points are too noisy to judge
    if (this.initialLoss === null && this.trainPoints < 5) return;
    const best = this.divergenceReference();
    const up = value > best + DIVERGE_ABS && value > best + DIVERGE_REL * Math.abs(best);
    if (up) {
      if (this.above === 0) this.aboveFrom = step;
      this.above++;
      this.aboveValue = value;
    } else this.above = 0;
    this.set(changes, 'divergence', up, `train loss ${value.toFixed(2)} against its best ${best.toFixed(2)}`);
  }

  /**
   * Why the run has diverged (the training loss stayed far above its best for DIVERGE_WINDOW log points), or null.
   * The trainer ends the run as `diverged` with this text.
   */
  divergedWhy(): string | null {
    if (this.above < DIVERGE_WINDOW) return null;
    const best = this.divergenceReference();
    return (
      `training diverged: the training loss stayed more than ${DIVERGE_ABS} nats and ${100 * DIVERGE_REL}% above the lower of its best and its starting value ` +
      `(${best.toFixed(2)}) for ${this.above} log points in a row (from step ${this.aboveFrom}; now ${this.aboveValue.toPrecision(4)}). ` +
      HEALTH_WARNINGS.divergence.advice
    );
  }

  /** A learned σ overfitting: the test loss well above its best while the training loss went on falling since. */
  private checkVarianceOverfit(changes: HealthChange[], test: number): void {
    if (!this.subject.learnedSigma || this.lastTrain === null) return;
    const train = this.lastTrain;
    const best = this.bestTest;
    if (!best || test < best.test) {
      this.bestTest = { test, train };
      this.set(changes, 'variance-overfit', false, `test loss ${test.toFixed(2)} at its best`);
      return;
    }
    const margin = Math.max(VAR_OVERFIT_ABS, VAR_OVERFIT_REL * Math.abs(best.test));
    const on = test > best.test + margin && train < best.train - margin;
    this.set(
      changes,
      'variance-overfit',
      on,
      `test loss ${test.toFixed(2)} against its best ${best.test.toFixed(2)}, while the training loss went from ` +
        `${best.train.toFixed(2)} to ${train.toFixed(2)}`,
    );
  }

  private set(changes: HealthChange[], code: HealthCode, on: boolean, detail: string): void {
    if ((this.active.get(code) ?? false) === on) return;
    this.active.set(code, on);
    changes.push({ code, metric: HEALTH_WARNINGS[code].metric, active: on, detail });
  }
}

/** The run-log line for a change. */
export function healthLogLine(change: HealthChange): string {
  const w = HEALTH_WARNINGS[change.code];
  return change.active ? `health: ${w.title}: ${change.detail}. ${w.advice}` : `health: ${w.title} cleared (${change.detail})`;
}
