// The training speed the progress bar's ETA extrapolates: wall milliseconds per step over the most recent
// stretch of training (the last third of the train phase so far, at least 3 s), not since the start: long
// enough to smooth out a shared machine's ups and downs, short enough to follow a change of pace. The first steps (tfjs warm-up,
// a worker starting its backend on the other core) and a change of pace (a worker joining or leaving the steps)
// then weigh on the estimate only while they are recent. Before a whole window has run, the rate is taken over the
// more recent half of the steps: the first seconds of a run are slow and erratic (measured on the reference run:
// 70-230 ms a step for its first ~30 steps, then a steady 60-67 ms), and an average since the start overstates the
// time left for as long as they weigh on it.

/** Train-phase milliseconds the rate is measured over (at least; or this share of the train phase so far), and the warm-up steps left out while there is no more. */
export const RATE_WINDOW_MS = 3000;
export const RATE_WINDOW_SHARE = 1 / 3;
export const WARMUP_STEPS = 3;
/** Less than a window so far: the share of the steps, the most recent, that the rate is taken over. */
export const SHORT_HISTORY_SHARE = 0.5;

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

  /** Milliseconds per step over the recent window, or null until a step after the warm-up has run (no guess from those alone). */
  msPerStep(): number | null {
    const last = this.samples.at(-1);
    if (!last || last.steps <= WARMUP_STEPS) return null;
    let from = this.samples[0]!;
    if (last.ms - from.ms < RATE_WINDOW_MS) {
      // less than a window so far: the more recent half of the steps (never the warm-up) when there is anything after them
      const skip = Math.max(WARMUP_STEPS, Math.floor((1 - SHORT_HISTORY_SHARE) * last.steps));
      const warm = this.samples.find((s) => s.steps >= skip && s.steps < last.steps);
      if (warm) from = warm;
    }
    if (last.steps <= from.steps) return last.steps > 0 ? last.ms / last.steps : null;
    return (last.ms - from.ms) / (last.steps - from.steps);
  }
}

/** Steps with the worker linked against the same shards on the trainer's thread alone (bench: 1.09x / 0.72x and 1.2x / 0.85x of 1 shard). */
export const LINKED_SPEEDUP_PRIOR = 1.4;
/** The share of steps a linked run computes alone (while its worker evaluates an epoch), before it is measured. */
export const UNLINKED_SHARE_PRIOR = 0.1;
/** Linked steps before their own pace is used (the first one carries the wait for the worker to take the state). */
export const MIN_LINKED_STEPS = 5;
/**
 * How many linked steps the prior (the pace alone over LINKED_SPEEDUP_PRIOR) counts for against the measured linked
 * pace: the worker's first few dozen steps run slower than its later ones (reference run: 50-60 ms a step in its first
 * linked epoch, 43-47 ms later), so the measured pace takes over as the linked steps add up, not at once.
 */
export const LINKED_PRIOR_STEPS = 30;

/**
 * The step rate of a data-parallel run whose worker comes and goes: the recent pace with the worker linked and
 * without it, kept apart. The steps to come are expected at the linked pace (before any linked step: the pace alone,
 * LINKED_SPEEDUP_PRIOR times faster; then that prior weighed against the measured pace as LINKED_PRIOR_STEPS steps),
 * mixed with the pace alone in the share of steps that ran alone since the first link (its evaluations). A window
 * over both would keep the slow unlinked start for seconds after the worker joined.
 */
export class SplitStepRate {
  private readonly linked = new StepRate();
  private readonly alone = new StepRate();
  private readonly ms = { linked: 0, alone: 0 };
  private readonly steps = { linked: 0, alone: 0 };
  private last = { ms: 0, steps: 0 };
  private sinceFirstLink = { steps: 0, alone: 0 };

  /** The train phase's milliseconds and steps so far, after a step that ran with the worker linked or not. */
  observe(trainMs: number, steps: number, linked: boolean): void {
    const d = steps - this.last.steps;
    const dMs = trainMs - this.last.ms;
    this.last = { ms: trainMs, steps };
    if (d <= 0) return;
    const mode = linked ? 'linked' : 'alone';
    this.ms[mode] += dMs;
    this.steps[mode] += d;
    (linked ? this.linked : this.alone).observe(this.ms[mode], this.steps[mode]);
    if (this.steps.linked > 0) {
      this.sinceFirstLink.steps += d;
      if (!linked) this.sinceFirstLink.alone += d;
    }
  }

  /** Milliseconds per step to come; workerExpected: the worker is there and will take part in the steps. */
  msPerStep(workerExpected: boolean): number | null {
    const alone = this.alone.msPerStep();
    if (!workerExpected) return alone ?? this.linked.msPerStep();
    const measured = this.steps.linked >= MIN_LINKED_STEPS ? this.linked.msPerStep() : null;
    const prior = alone !== null ? alone / LINKED_SPEEDUP_PRIOR : null;
    const n = this.steps.linked;
    const linked =
      measured !== null && prior !== null ? (n * measured + LINKED_PRIOR_STEPS * prior) / (n + LINKED_PRIOR_STEPS) : (measured ?? prior);
    if (linked === null) return null;
    const u = this.sinceFirstLink.steps > 0 ? this.sinceFirstLink.alone / this.sinceFirstLink.steps : UNLINKED_SHARE_PRIOR;
    return linked * (1 - u) + (alone ?? linked * LINKED_SPEEDUP_PRIOR) * u;
  }
}
