// The training speed the progress bar's ETA extrapolates: wall milliseconds per step over the most recent
// stretch of training (the last third of the train phase so far, at least 3 s), not since the start: long
// enough to smooth out a shared machine's ups and downs, short enough to follow a change of pace. The first steps (tfjs warm-up,
// a worker starting its backend on the other core) and a change of pace (a worker joining or leaving the steps)
// then weigh on the estimate only while they are recent.

/** Train-phase milliseconds the rate is measured over (at least; or this share of the train phase so far), and the warm-up steps left out while there is no more. */
export const RATE_WINDOW_MS = 3000;
export const RATE_WINDOW_SHARE = 1 / 3;
export const WARMUP_STEPS = 3;

export class StepRate {
  /** (train-phase ms, steps) at each observation, oldest first. */
  private readonly samples: { ms: number; steps: number }[] = [];

  /** Record the train phase's total milliseconds and the steps run so far. */
  observe(trainMs: number, steps: number): void {
    const last = this.samples.at(-1);
    if (last && last.steps === steps) return;
    this.samples.push({ ms: trainMs, steps });
    // keep one sample older than the window, so the window is always covered
    const window = Math.max(RATE_WINDOW_MS, RATE_WINDOW_SHARE * trainMs);
    while (this.samples.length > 2 && trainMs - this.samples[1]!.ms >= window) this.samples.shift();
  }

  /** Milliseconds per step over the recent window, or null before two observations. */
  msPerStep(): number | null {
    const last = this.samples.at(-1);
    if (!last) return null;
    let from = this.samples[0]!;
    if (last.ms - from.ms < RATE_WINDOW_MS) {
      // less than a window so far: leave the warm-up steps out when there is anything after them
      const warm = this.samples.find((s) => s.steps >= WARMUP_STEPS && s.steps < last.steps);
      if (warm) from = warm;
    }
    if (last.steps <= from.steps) return last.steps > 0 ? last.ms / last.steps : null;
    return (last.ms - from.ms) / (last.steps - from.steps);
  }
}
