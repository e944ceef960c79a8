// The service's watcher of cluster sweeps: while any sweep is unfinished it syncs each one on a timer (Slurm
// states, imports of finished tasks) and hands every fresh detail to `onUpdate`, which the service pushes to the
// hosts as the `sweep.updated` event; when none is left it stops until woken (a new submit, a restart). One
// sync round at a time, never two; its timer never keeps the process alive.
import type { SweepDetail, SweepSummary } from '@shared/cluster-types';

/** What the follower needs of ClusterSweeps. */
export interface FollowedSweeps {
  list(): SweepSummary[];
  sync(id: number): Promise<SweepDetail>;
}

export interface SweepFollowerOptions {
  /** Between two sync rounds (ms); default 3,000. */
  intervalMs?: number;
  /** A sync that failed (Slurm unreachable, a folder gone): reported once per distinct error, and the next round tries again. */
  onError?: (sweepId: number, error: unknown) => void;
}

export class SweepFollower {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private round: Promise<boolean> | null = null;
  /** The last error reported per sweep, so a lasting failure is reported once, not every round. */
  private readonly lastError = new Map<number, string>();
  private closed = false;
  private readonly intervalMs: number;

  constructor(
    private readonly sweeps: () => FollowedSweeps,
    private readonly onUpdate: (detail: SweepDetail) => void,
    private readonly options: SweepFollowerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 3000;
  }

  /** Whether a sync round is running or scheduled (false once every sweep is done). */
  get following(): boolean {
    return this.timer !== null || this.round !== null;
  }

  /** Start following if any sweep is unfinished (a round now); a no-op while following already. */
  wake(): void {
    if (this.closed || this.following) return;
    this.schedule(0);
  }

  /** Stop: no new round starts; resolves once the running one (if any) has finished. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.round;
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.round = this.syncRound().finally(() => (this.round = null));
      void this.round.then((active) => {
        if (active && !this.closed && !this.timer) this.schedule(this.intervalMs);
      });
    }, ms);
    this.timer.unref?.();
  }

  /** Sync every unfinished sweep once; true while any is still unfinished. */
  private async syncRound(): Promise<boolean> {
    let active = false;
    for (const summary of this.sweeps().list()) {
      if (summary.done || this.closed) continue;
      try {
        const detail = await this.sweeps().sync(summary.id);
        if (this.closed) return false;
        this.lastError.delete(summary.id);
        this.onUpdate(detail);
        active ||= !detail.done;
      } catch (err) {
        if (this.closed) return false;
        const message = String((err as Error)?.message ?? err);
        if (this.lastError.get(summary.id) !== message) this.options.onError?.(summary.id, err);
        this.lastError.set(summary.id, message);
        active = true;
      }
    }
    return active;
  }
}
