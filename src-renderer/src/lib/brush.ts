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

/**
 * A numeric brush from a dragged range [lo, hi]: snapped to the values inside the range widened to `near` (a few
 * pixels either side, so a drag that stops a hair short of a value still takes it), so an integer axis brushes whole
 * values and the label names exactly what is selected; when no value lies near, the dragged range rounded outwards to
 * `digits` significant digits. Either way the bounds are what the label prints.
 */
export function snapRange(
  key: string,
  values: readonly number[],
  lo: number,
  hi: number,
  near: [number, number] = [lo, hi],
  digits = 3,
): Brush {
  const inside = values.filter((v) => v >= Math.min(lo, near[0]) && v <= Math.max(hi, near[1]));
  if (inside.length) return { key, min: Math.min(...inside), max: Math.max(...inside) };
  return { key, min: roundBound(lo, 'down', digits), max: roundBound(hi, 'up', digits) };
}

/** `v` rounded to `digits` significant digits towards -Infinity ('down') or +Infinity ('up'). */
export function roundBound(v: number, dir: 'down' | 'up', digits: number): number {
  if (v === 0 || !Number.isFinite(v)) return v;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(v))));
  const r = (dir === 'down' ? Math.floor(v * scale) : Math.ceil(v * scale)) / scale;
  return Number(r.toPrecision(digits));
}

/** A brush bound as text that never excludes what the brush selects: exact when short, else rounded outwards. */
export function boundText(v: number, dir: 'down' | 'up'): string {
  const exact = String(v);
  return exact.length <= 9 ? exact : String(roundBound(v, dir, 6));
}
