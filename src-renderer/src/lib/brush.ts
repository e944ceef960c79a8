// Brushing on parallel coordinates: a brush is a range on one axis (numeric) or a set of categories; a run passes
// when it is inside every brush. The brushed selection filters the other views of Compare.
import type { RunSummary } from '@shared/model-types';

export type Brush = { key: string; min: number; max: number } | { key: string; values: string[] };

/** The value of a key for a run: a final metric (contains '/') or a hyperparameter. */
export function valueOf(r: RunSummary, key: string): unknown {
  return key in r.final ? r.final[key] : r.params[key];
}

export function passes(r: RunSummary, brushes: readonly Brush[]): boolean {
  return brushes.every((b) => {
    const v = valueOf(r, b.key);
    if ('values' in b) return v !== undefined && v !== null && b.values.includes(String(v));
    return typeof v === 'number' && v >= b.min && v <= b.max;
  });
}

/** The runs inside every brush (all runs when there is none). */
export function brushed(runs: RunSummary[], brushes: readonly Brush[]): RunSummary[] {
  return brushes.length ? runs.filter((r) => passes(r, brushes)) : runs;
}

/** Replace (or add) the brush on `b.key`; null removes the brush on that key. */
export function setBrush(brushes: readonly Brush[], key: string, b: Brush | null): Brush[] {
  const rest = brushes.filter((x) => x.key !== key);
  return b ? [...rest, b] : rest;
}

/** Move the element at `from` to `to` (axis reordering). */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  if (from < 0 || from >= out.length || to < 0 || to >= out.length) return out;
  const [x] = out.splice(from, 1);
  out.splice(to, 0, x!);
  return out;
}
