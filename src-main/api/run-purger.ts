// Runs the store's chunked deletion of deleted runs' rows (store/run-purge.ts) between other work: slices of at most
// `sliceMs` of purge steps, each one transaction, with the event loop served in a pause between slices, so a
// run of 1,000,000 metric points goes in the background while the hosts keep answering. Started at every start (a
// crash midway left a queue) and after every delete; stopped at close (the rest is finished at the next start).
import type { RunStore } from '../store/run-store';

export interface RunPurgerOptions {
  /** Longest stretch of purging before the event loop is served (default 10 ms). */
  sliceMs?: number;
  /** The pause between slices, in which the event loop turns freely (default 5 ms). */
  pauseMs?: number;
  onError?: (err: unknown) => void;
}

export class RunPurger {
  private timer: NodeJS.Immediate | NodeJS.Timeout | null = null;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Rows per step (one transaction), adapted so that a step takes about a quarter of a slice. */
  private rowsPerStep = 2_000;
  private readonly sliceMs: number;
  private readonly pauseMs: number;

  constructor(
    private readonly store: RunStore,
    private readonly options: RunPurgerOptions = {},
  ) {
    this.sliceMs = options.sliceMs ?? 10;
    this.pauseMs = options.pauseMs ?? 5;
  }

  /** Purge what is queued (nothing happens when the queue is empty). */
  kick(): void {
    if (this.stopped || this.timer) return;
    this.timer = setImmediate(() => this.tick());
  }

  /** Resolves once nothing is queued (or the purger is stopped). */
  idle(): Promise<void> {
    if (!this.timer) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    clearImmediate(this.timer as NodeJS.Immediate);
    clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = null;
    this.settle();
  }

  private settle(): void {
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped || !this.store.isOpen) return this.settle();
    const t0 = performance.now();
    let done = false;
    try {
      while (!done && performance.now() - t0 < this.sliceMs) {
        const s0 = performance.now();
        done = this.store.purgeStep(this.rowsPerStep).done;
        const ms = performance.now() - s0;
        if (ms < this.sliceMs / 8 && this.rowsPerStep < 100_000) this.rowsPerStep *= 2;
        else if (ms > this.sliceMs / 2 && this.rowsPerStep > 64) this.rowsPerStep = Math.floor(this.rowsPerStep / 2);
      }
    } catch (err) {
      // A busy or failing database: try again in a second, never in a tight loop.
      this.options.onError?.(err);
      this.timer = setTimeout(() => this.tick(), 1000);
      return;
    }
    if (done) this.settle();
    // A pause, not setImmediate: answering one HTTP request takes several turns of the event loop (accept, read,
    // write), and with an immediate each turn would wait for a whole slice (GET / took ~100 ms, now ~20 ms).
    else this.timer = setTimeout(() => this.tick(), this.pauseMs);
  }
}
