// Grouping runs for comparison: by default runs that differ only by their seed form one group; or by any chosen
// keys. A group's curve is the mean of its runs on a common x grid with a band (min–max or ±1 std); a group's
// final metric is mean ± std over its n runs.
import type { RunSummary } from '@shared/model-types';

export type Band = 'minmax' | 'std';

export interface RunGroup {
  /** Stable key: the values of the grouping keys. */
  key: string;
  /** Human label, e.g. "model.latentDim=2, optimizer.learningRate=0.001". */
  label: string;
  runIds: number[];
}

/** Keys that never define a group: identity and bookkeeping, not hyperparameters. */
const NOT_HYPER = new Set(['name', 'tags', 'seed']);

/** Hyperparameter keys whose values differ among the runs, seed excluded: the default grouping keys. */
export function differingKeys(runs: RunSummary[], exclude: ReadonlySet<string> = NOT_HYPER): string[] {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.params)));
  return [...keys].filter((k) => !exclude.has(k) && new Set(runs.map((r) => JSON.stringify(r.params[k] ?? null))).size > 1).sort();
}

/** Groups of runs with equal values of `keys` (in the order the runs come; the groups in first-seen order). */
export function groupRuns(runs: RunSummary[], keys: string[]): RunGroup[] {
  const groups = new Map<string, RunGroup>();
  for (const r of runs) {
    const values = keys.map((k) => r.params[k] ?? null);
    const key = JSON.stringify(values);
    let g = groups.get(key);
    if (!g) {
      const label = keys.length ? keys.map((k, i) => `${k.split('.').pop()}=${String(values[i])}`).join(', ') : 'all runs';
      groups.set(key, (g = { key, label, runIds: [] }));
    }
    g.runIds.push(r.id);
  }
  return [...groups.values()];
}

/** The default grouping: every key that differs except the seed (so runs differing only by seed share a group). */
export function groupBySeed(runs: RunSummary[]): RunGroup[] {
  return groupRuns(runs, differingKeys(runs));
}

export interface Summary {
  n: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/** Mean, sample standard deviation (0 for n = 1), min and max of the finite values; null when there are none. */
export function summarize(values: readonly (number | undefined | null)[]): Summary | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (!n) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, std, min: Math.min(...xs), max: Math.max(...xs) };
}

export interface Curve {
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

export interface BandCurve {
  xs: number[];
  mean: number[];
  lo: number[];
  hi: number[];
  /** Runs contributing at each x. */
  n: number[];
}

/** Linear interpolation of a curve (xs ascending) at x; undefined outside its x range. */
export function interpolate(c: Curve, x: number): number | undefined {
  const n = c.xs.length;
  if (!n || x < c.xs[0]! || x > c.xs[n - 1]!) return undefined;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (c.xs[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const x0 = c.xs[lo]!;
  const x1 = c.xs[hi]!;
  if (x1 === x0) return c.ys[lo]!;
  const t = (x - x0) / (x1 - x0);
  return c.ys[lo]! + t * (c.ys[hi]! - c.ys[lo]!);
}

/**
 * Mean and band of several curves on a common grid of `points` x values spanning their union; at each x only the
 * curves that cover it count (n). The band is min–max or mean ± 1 sample std.
 */
export function bandOf(curves: Curve[], band: Band, points = 400): BandCurve {
  const out: BandCurve = { xs: [], mean: [], lo: [], hi: [], n: [] };
  const spans = curves.filter((c) => c.xs.length > 0);
  if (!spans.length) return out;
  const min = Math.min(...spans.map((c) => c.xs[0]!));
  const max = Math.max(...spans.map((c) => c.xs[c.xs.length - 1]!));
  const grid = max === min ? [min] : Array.from({ length: points }, (_, i) => min + ((max - min) * i) / (points - 1));
  for (const x of grid) {
    const s = summarize(spans.map((c) => interpolate(c, x)));
    if (!s) continue;
    out.xs.push(x);
    out.mean.push(s.mean);
    out.lo.push(band === 'minmax' ? s.min : s.mean - s.std);
    out.hi.push(band === 'minmax' ? s.max : s.mean + s.std);
    out.n.push(s.n);
  }
  return out;
}
