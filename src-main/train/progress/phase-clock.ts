// Where a run's wall-clock time goes: one clock per trainer process that charges every millisecond to
// exactly one phase (startup, data, train, eval, fid, snapshots, checkpoints; fid is the Frechet distance, apart from the
// rest of the evaluation because its first run per dataset also fits the feature classifier). Nested phases (a best
// checkpoint written inside an evaluation) are charged to the inner phase only, so the parts add up
// to the whole. The training loop reports the totals as perf/time/<phase> metrics (seconds).

import type { MetricPoint } from '@shared/model-types';

export const PHASES = ['startup', 'data', 'train', 'eval', 'fid', 'snapshots', 'checkpoints'] as const;
export type Phase = (typeof PHASES)[number];

export class PhaseClock {
  private current: Phase;
  private since: number;
  private readonly totals = new Map<Phase, number>();
  /** Completed visits per phase (e.g. how many evaluations ran). */
  private readonly visits = new Map<Phase, number>();

  /** `startupMs`: time already spent before the clock existed (process start, module loading). */
  constructor(
    startupMs = 0,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.totals.set('startup', Math.max(0, startupMs));
    this.current = 'startup';
    this.since = this.now();
  }

  /** Switch to `phase`; returns the phase that was running. */
  enter(phase: Phase): Phase {
    const t = this.now();
    this.totals.set(this.current, (this.totals.get(this.current) ?? 0) + (t - this.since));
    const previous = this.current;
    this.current = phase;
    this.since = t;
    return previous;
  }

  /** Run fn charged to `phase`, then return to the phase that was running. */
  async during<T>(phase: Phase, fn: () => T | Promise<T>): Promise<T> {
    const previous = this.enter(phase);
    try {
      return await fn();
    } finally {
      this.enter(previous);
      this.visits.set(phase, (this.visits.get(phase) ?? 0) + 1);
    }
  }

  /** Synchronous variant of during(). */
  duringSync<T>(phase: Phase, fn: () => T): T {
    const previous = this.enter(phase);
    try {
      return fn();
    } finally {
      this.enter(previous);
      this.visits.set(phase, (this.visits.get(phase) ?? 0) + 1);
    }
  }

  /** Milliseconds charged to `phase` so far (including the running stretch). */
  ms(phase: Phase): number {
    const done = this.totals.get(phase) ?? 0;
    return phase === this.current ? done + (this.now() - this.since) : done;
  }

  /** Milliseconds since the current phase was entered. */
  inCurrent(): { phase: Phase; ms: number } {
    return { phase: this.current, ms: this.now() - this.since };
  }

  count(phase: Phase): number {
    return this.visits.get(phase) ?? 0;
  }

  /** Seconds per phase, for the perf/time/<phase> metrics. */
  seconds(): Record<Phase, number> {
    return Object.fromEntries(PHASES.map((p) => [p, this.ms(p) / 1000])) as Record<Phase, number>;
  }
}

/** Where the run's time went (perf/time/<phase>, seconds) and the final -log p(x)'s decoder passes per second. */
export function perfPoints(clock: PhaseClock, nllDecodedPerSec: number, at: { step: number; epoch: number; time: number }): MetricPoint[] {
  // the classifier Fréchet distance's phase is reported as perf/time/fdClassifier (it is not an Inception FID)
  const points: MetricPoint[] = Object.entries(clock.seconds()).map(([phase, value]) => ({
    name: `perf/time/${phase === 'fid' ? 'fdClassifier' : phase}`,
    ...at,
    value,
  }));
  if (Number.isFinite(nllDecodedPerSec)) points.push({ name: 'perf/evalNllDecodedPerSec', ...at, value: nllDecodedPerSec });
  return points;
}
