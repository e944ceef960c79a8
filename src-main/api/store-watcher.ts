// Live from any process: a short timer asks the store's change feed (store/change-feed.ts) what other processes wrote
// to the same data home (a CLI run, another host, an import, a Slurm sync) and emits it as the very events this
// service emits for its own runs, so every open view follows those changes too. A tick costs one PRAGMA data_version
// when nothing changed; the hosts that serve views (Electron, web, `serve`) turn it on.
import type { WorkbenchEvent } from '@shared/contract';
import type { ChangeFeed } from '../store/change-feed';

/** How often the store is looked at: a change made elsewhere reaches the views within this (plus the view's own delay). */
export const STORE_WATCH_MS = 250;

export class StoreWatcher {
  private timer: ReturnType<typeof setInterval> | null = null;
  private failedOnce = false;

  constructor(
    private readonly feed: ChangeFeed,
    private readonly emit: (event: WorkbenchEvent) => void,
  ) {}

  start(intervalMs = STORE_WATCH_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** This process emitted run.created for this run itself. */
  noteLocalRun(runId: number): void {
    this.feed.noteLocalRun(runId);
  }

  /** One look (the timer's; tests call it directly). */
  tick(): void {
    let events: WorkbenchEvent[];
    try {
      events = this.feed.poll();
    } catch (err) {
      // a busy or closing database: try again at the next tick; say it once
      if (!this.failedOnce) console.error(`store watcher: ${(err as Error).message}`);
      this.failedOnce = true;
      return;
    }
    for (const event of events) this.emit(event);
  }
}
