// Series that need every raw point before they are downsampled: smoothed ones (the smoothing runs over the full
// history, so the curve does not change with the chart's width or a zoom range) and those whose x axis is another
// metric (joined on step). Built on RunStore.series at full resolution; the result has the same shape.
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

export function fullSeries(store: RunStore, runIds: number[], metric: string, opts: FullSeriesOptions): Series[] {
  const maxPoints = Math.floor(opts.maxPoints);
  if (!(maxPoints >= 1)) throw new Error(`series: maxPoints must be at least 1, got ${opts.maxPoints}`);
  const x = opts.xMetric ? 'step' : opts.x;
  const raw = store.series(runIds, metric, { x, maxPoints: ALL });
  const xs = opts.xMetric ? store.series(runIds, opts.xMetric, { x: 'step', maxPoints: ALL }) : null;
  return raw.map((s, k): Series => {
    let points = s.points;
    if (opts.smoothing) {
      const ys = smoothValues(
        points.map((p) => p.step),
        points.map((p) => p.y),
        opts.smoothing,
      );
      points = points.map((p, i) => ({ ...p, y: ys[i]! }));
    }
    if (xs) points = joinOnStep(points, xs[k]!.points);
    const from = opts.from ?? -Infinity;
    const to = opts.to ?? Infinity;
    const inRange = points.filter((p) => p.x >= from && p.x <= to);
    const keep = minMaxIndices(
      inRange.map((p) => p.y),
      maxPoints,
    );
    return {
      runId: s.runId,
      metric,
      points: keep.map((i) => inRange[i]!),
      total: inRange.length,
      downsampled: keep.length < inRange.length,
    };
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
