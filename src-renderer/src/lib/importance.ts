// Hyperparameter importance for one metric over a set of runs, as W&B's panel shows it: the correlation of each
// hyperparameter with the metric (Pearson on values, Spearman on ranks) and a random-forest importance (the mean
// decrease in squared error of the splits on each feature, normalised to sum 1). Pure TypeScript, seeded.
import { mulberry32 } from '@shared/rng';

export interface Importance {
  key: string;
  pearson: number | null;
  spearman: number | null;
  /** Share of the forest's total impurity decrease due to this feature (0..1). */
  forest: number;
}

export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n < 2 || y.length !== n) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks 1..n, ties given their average rank. */
export function ranks(x: readonly number[]): number[] {
  const idx = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Array<number>(x.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[idx[k]![1]] = r;
    i = j + 1;
  }
  return out;
}

export function spearman(x: readonly number[], y: readonly number[]): number | null {
  return pearson(ranks(x), ranks(y));
}

export interface ForestOptions {
  trees?: number;
  maxDepth?: number;
  minLeaf?: number;
  seed?: number;
}

/**
 * Impurity importance of a random forest of regression trees: bootstrap samples, at each split a random subset of
 * max(1, round(p/3)) features (the usual choice for regression), the best threshold by squared error.
 * X: rows of features; returns one share per feature, summing to 1 (all 0 when no split reduced the error).
 */
export function forestImportance(X: readonly (readonly number[])[], y: readonly number[], opts: ForestOptions = {}): number[] {
  const p = X[0]?.length ?? 0;
  const gains = new Array<number>(p).fill(0);
  if (X.length < 2 || p === 0) return gains;
  const rand = mulberry32(opts.seed ?? 1);
  const trees = opts.trees ?? 100;
  const mtry = Math.max(1, Math.round(p / 3));
  for (let t = 0; t < trees; t++) {
    const sample = Array.from({ length: X.length }, () => Math.floor(rand() * X.length));
    grow(X, y, sample, 0, { maxDepth: opts.maxDepth ?? 6, minLeaf: opts.minLeaf ?? 2, mtry, rand, gains });
  }
  const total = gains.reduce((a, b) => a + b, 0);
  return gains.map((g) => (total > 0 ? g / total : 0));
}

interface GrowCtx {
  maxDepth: number;
  minLeaf: number;
  mtry: number;
  rand: () => number;
  gains: number[];
}

function sse(y: readonly number[], rows: readonly number[]): number {
  if (!rows.length) return 0;
  const m = rows.reduce((a, i) => a + y[i]!, 0) / rows.length;
  return rows.reduce((a, i) => a + (y[i]! - m) ** 2, 0);
}

function grow(X: readonly (readonly number[])[], y: readonly number[], rows: number[], depth: number, ctx: GrowCtx): void {
  if (depth >= ctx.maxDepth || rows.length < 2 * ctx.minLeaf) return;
  const parent = sse(y, rows);
  if (parent <= 0) return;
  const features = pickFeatures(X[0]!.length, ctx.mtry, ctx.rand);
  let best: { f: number; thr: number; gain: number; left: number[]; right: number[] } | null = null;
  for (const f of features) {
    const sorted = [...rows].sort((a, b) => X[a]![f]! - X[b]![f]!);
    // running sums give the split error in O(n) per feature
    let sumL = 0;
    let sqL = 0;
    const sumAll = sorted.reduce((a, i) => a + y[i]!, 0);
    const sqAll = sorted.reduce((a, i) => a + y[i]! ** 2, 0);
    for (let k = 0; k < sorted.length - 1; k++) {
      const v = y[sorted[k]!]!;
      sumL += v;
      sqL += v * v;
      const nL = k + 1;
      const nR = sorted.length - nL;
      if (nL < ctx.minLeaf || nR < ctx.minLeaf) continue;
      const a = X[sorted[k]!]![f]!;
      const b = X[sorted[k + 1]!]![f]!;
      if (a === b) continue;
      const err = sqL - (sumL * sumL) / nL + (sqAll - sqL) - (sumAll - sumL) ** 2 / nR;
      const gain = parent - err;
      if (!best || gain > best.gain) best = { f, thr: (a + b) / 2, gain, left: sorted.slice(0, nL), right: sorted.slice(nL) };
    }
  }
  if (!best || best.gain <= 1e-12) return;
  ctx.gains[best.f]! += best.gain;
  grow(X, y, best.left, depth + 1, ctx);
  grow(X, y, best.right, depth + 1, ctx);
}

function pickFeatures(p: number, m: number, rand: () => number): number[] {
  const all = Array.from({ length: p }, (_, i) => i);
  for (let i = p - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, m);
}

/**
 * Importance of each key for `metric` over the rows that have the metric and every key (numeric; a categorical key is
 * encoded by the metric's mean per category order, so a tree can split on it). n = rows used.
 */
export function importanceOf(
  rows: { features: Record<string, unknown>; y: number | undefined }[],
  keys: string[],
  opts: ForestOptions = {},
): { n: number; items: Importance[] } {
  const usable = rows.filter(
    (r) => typeof r.y === 'number' && Number.isFinite(r.y) && keys.every((k) => r.features[k] !== undefined && r.features[k] !== null),
  );
  const y = usable.map((r) => r.y as number);
  const columns = keys.map((k) =>
    encode(
      usable.map((r) => r.features[k]),
      y,
    ),
  );
  const X = usable.map((_, i) => columns.map((c) => c[i]!));
  const forest = forestImportance(X, y, opts);
  const items = keys.map((key, j) => ({
    key,
    pearson: pearson(columns[j]!, y),
    spearman: spearman(columns[j]!, y),
    forest: forest[j] ?? 0,
  }));
  items.sort((a, b) => b.forest - a.forest || Math.abs(b.spearman ?? 0) - Math.abs(a.spearman ?? 0));
  return { n: usable.length, items };
}

/** Numbers stay (log10 when they span two decades, as learning rates do); booleans 0/1; strings by mean y rank. */
function encode(values: unknown[], y: number[]): number[] {
  if (values.every((v) => typeof v === 'number')) {
    const nums = values as number[];
    const min = Math.min(...nums);
    const max = Math.max(...nums);
    return min > 0 && max / min >= 100 ? nums.map(Math.log10) : nums;
  }
  if (values.every((v) => typeof v === 'boolean')) return values.map((v) => (v ? 1 : 0));
  const text = values.map((v) => (Array.isArray(v) ? JSON.stringify(v) : String(v)));
  const means = new Map<string, { s: number; n: number }>();
  text.forEach((t, i) => {
    const m = means.get(t) ?? { s: 0, n: 0 };
    m.s += y[i]!;
    m.n++;
    means.set(t, m);
  });
  const order = [...means.entries()].sort((a, b) => a[1].s / a[1].n - b[1].s / b[1].n).map(([t]) => t);
  return text.map((t) => order.indexOf(t));
}
