// Series that need every raw point before they are downsampled: smoothed ones (the smoothing runs over the full
// history, so the curve does not change with the chart's width or a zoom range) and those whose x axis is another
// metric (joined on step). Built on RunStore.series at full resolution; the result has the same shape. The smoothed
// columns of recent requests are cached (keyed by the run's point count and last point), so zooming is cheap.
import type { Series, SeriesPoint } from '@shared/model-types';
import { smoothValues, type Smoothing } from '@shared/smoothing';
import { minMaxIndices } from './downsample';
import type { RunStore, SeriesOptions } from './run-store';

export interface FullSeriesOptions extends SeriesOptions {
  smoothing?: Smoothing;
  /** x = this metric's value at the same step (points where it was not logged are dropped). */
  xMetric?: string;
}

/** Enough for any run this app writes; a run with more points is read up to this many. */
const ALL = 50_000_000;
/** At most this many cached points (5 float64 columns each: 4 M points ≈ 160 MB). */
const CACHE_POINTS = 4_000_000;

interface Columns {
  x: Float64Array;
  y: Float64Array;
  step: Float64Array;
  epoch: Float64Array;
  time: Float64Array;
}

const cache = new Map<string, Columns>();
let cachedPoints = 0;

function remember(key: string, c: Columns): void {
  cache.set(key, c);
  cachedPoints += c.x.length;
  for (const [k, v] of cache) {
    if (cachedPoints <= CACHE_POINTS || k === key) break;
    cache.delete(k);
    cachedPoints -= v.x.length;
  }
}

function columnsOf(points: SeriesPoint[]): Columns {
  const n = points.length;
  const c: Columns = {
    x: new Float64Array(n),
    y: new Float64Array(n),
    step: new Float64Array(n),
    epoch: new Float64Array(n),
    time: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const p = points[i]!;
    c.x[i] = p.x;
    c.y[i] = p.y;
    c.step[i] = p.step;
    c.epoch[i] = p.epoch;
    c.time[i] = p.time;
  }
  return c;
}

/** The run's full, smoothed and joined columns (from the cache when the run has not changed). */
function fullColumns(store: RunStore, runId: number, metric: string, opts: FullSeriesOptions): Columns {
  const x = opts.xMetric ? 'step' : opts.x;
  const [probe] = store.series([runId], metric, { x: 'step', maxPoints: 1 });
  const [probeX] = opts.xMetric ? store.series([runId], opts.xMetric, { x: 'step', maxPoints: 1 }) : [undefined];
  const stamp = (s: Series | undefined) => (s ? `${s.total}:${s.points[0]?.step}:${s.points[0]?.y}` : '');
  const key = JSON.stringify([runId, metric, x, opts.smoothing ?? null, opts.xMetric ?? null, stamp(probe), stamp(probeX)]);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // most recently used last
    cache.set(key, hit);
    return hit;
  }
  let points = store.series([runId], metric, { x, maxPoints: ALL })[0]!.points;
  if (opts.xMetric) points = joinOnStep(points, store.series([runId], opts.xMetric, { x: 'step', maxPoints: ALL })[0]!.points);
  const c = columnsOf(points);
  if (opts.smoothing) c.y = smoothValues(c.step, c.y, opts.smoothing);
  remember(key, c);
  return c;
}

export function fullSeries(store: RunStore, runIds: number[], metric: string, opts: FullSeriesOptions): Series[] {
  const maxPoints = Math.floor(opts.maxPoints);
  if (!(maxPoints >= 1)) throw new Error(`series: maxPoints must be at least 1, got ${opts.maxPoints}`);
  const from = opts.from ?? -Infinity;
  const to = opts.to ?? Infinity;
  return runIds.map((runId): Series => {
    const c = fullColumns(store, runId, metric, opts);
    // the points in [from, to] (x ascending except for a metric x axis, which keeps step order)
    const idx: number[] = [];
    for (let i = 0; i < c.x.length; i++) if (c.x[i]! >= from && c.x[i]! <= to) idx.push(i);
    const ys = new Float64Array(idx.length);
    idx.forEach((i, k) => (ys[k] = c.y[i]!));
    const keep = minMaxIndices(ys, maxPoints);
    const points = keep.map((k) => {
      const i = idx[k]!;
      return { x: c.x[i]!, y: c.y[i]!, step: c.step[i]!, epoch: c.epoch[i]!, time: c.time[i]! };
    });
    return { runId, metric, points, total: idx.length, downsampled: keep.length < idx.length };
  });
}

/** Points of `ys` whose step also has a point in `xs`, with x = that point's value, in step order. */
export function joinOnStep(ys: SeriesPoint[], xs: SeriesPoint[]): SeriesPoint[] {
  const byStep = new Map<number, number>();
  for (const p of xs) byStep.set(p.step, p.y);
  const out: SeriesPoint[] = [];
  for (const p of ys) {
    const xv = byStep.get(p.step);
    if (xv !== undefined && Number.isFinite(xv)) out.push({ ...p, x: xv });
  }
  return out;
}
