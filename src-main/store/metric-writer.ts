// Write-behind buffer for metric points: collects points from many runs and writes them in ONE transaction every
// `flushMs` (default 100 ms) or as soon as `maxPoints` (default 2,000) are pending, so a flood of points from
// several trainers costs a few small transactions per second instead of one per point.
import type { MetricPoint } from '@shared/model-types';
import type { RunBatch, RunStore } from './run-store';

export interface MetricWriterOptions {
  flushMs?: number;
  maxPoints?: number;
  /** Called when a run's points could not be written (e.g. the run was deleted meanwhile); they are dropped. */
  onError?: (error: unknown, runId: number, points: number) => void;
}

export class MetricWriter {
  private readonly buffers = new Map<number, MetricPoint[]>();
  private pendingCount = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly flushMs: number;
  private readonly maxPoints: number;
  private readonly onError: NonNullable<MetricWriterOptions['onError']>;
  /** Totals since creation (for diagnostics and tests). */
  readonly stats = { flushes: 0, written: 0, dropped: 0 };

  constructor(
    private readonly store: RunStore,
    options: MetricWriterOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 100;
    this.maxPoints = options.maxPoints ?? 2000;
    this.onError = options.onError ?? ((error, runId, n) => console.error(`metrics: dropped ${n} points of run ${runId}:`, error));
  }

  /** Points waiting to be written. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Queue points of one run. Writes at once when maxPoints are pending, else within flushMs. */
  add(runId: number, points: MetricPoint | readonly MetricPoint[]): void {
    if (this.closed) throw new Error('MetricWriter is closed');
    let buf = this.buffers.get(runId);
    if (!buf) this.buffers.set(runId, (buf = []));
    if (Array.isArray(points)) {
      for (const p of points as readonly MetricPoint[]) buf.push(p);
      this.pendingCount += points.length;
    } else {
      buf.push(points as MetricPoint);
      this.pendingCount++;
    }
    if (this.pendingCount >= this.maxPoints) this.flush();
    else if (!this.timer && this.pendingCount > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.flushMs);
      this.timer.unref?.();
    }
  }

  /** Write everything pending now, in one transaction. Returns the number of points written. */
  flush(): number {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pendingCount === 0) return 0;
    const batches: RunBatch[] = [...this.buffers].map(([runId, points]) => ({ runId, points }));
    this.buffers.clear();
    this.pendingCount = 0;
    if (!this.store.isOpen) {
      for (const b of batches) {
        this.stats.dropped += b.points.length;
        this.onError(new Error('the run store is closed'), b.runId, b.points.length);
      }
      return 0;
    }
    let written = 0;
    try {
      written = this.store.appendBatches(batches);
    } catch {
      // One bad run (deleted, say) must not lose the others: retry run by run.
      for (const b of batches) {
        try {
          written += this.store.appendBatches([b]);
        } catch (error) {
          this.stats.dropped += b.points.length;
          this.onError(error, b.runId, b.points.length);
        }
      }
    }
    this.stats.flushes++;
    this.stats.written += written;
    return written;
  }

  /** Drop the pending points of one run (e.g. before deleting it). */
  discard(runId: number): void {
    const buf = this.buffers.get(runId);
    if (!buf) return;
    this.pendingCount -= buf.length;
    this.buffers.delete(runId);
  }

  /** Flush and stop; later add() calls throw. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
  }
}
