// Axis scales for the SVG charts (scatter, rate–distortion plane): linear or log10, with readable ticks.
export interface Scale {
  log: boolean;
  min: number;
  max: number;
  /** Data value -> [0, 1]. */
  t(v: number): number;
  ticks: number[];
}

/** A scale over the finite values (positive ones only when log); null when there are none. */
export function makeScale(values: readonly number[], log: boolean, pad = 0.05): Scale | null {
  const xs = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (!xs.length) return null;
  let min = Math.min(...xs);
  let max = Math.max(...xs);
  if (log) {
    let a = Math.log10(min);
    let b = Math.log10(max);
    if (a === b) {
      a -= 0.5;
      b += 0.5;
    }
    const p = (b - a) * pad;
    a -= p;
    b += p;
    return { log, min: 10 ** a, max: 10 ** b, t: (v) => (Math.log10(v) - a) / (b - a), ticks: logTicks(10 ** a, 10 ** b) };
  }
  if (min === max) {
    const d = Math.abs(min) * 0.1 || 1;
    min -= d;
    max += d;
  }
  const p = (max - min) * pad;
  min -= p;
  max += p;
  return { log, min, max, t: (v) => (v - min) / (max - min), ticks: linearTicks(min, max, 5) };
}

export function linearTicks(min: number, max: number, count: number): number[] {
  const raw = (max - min) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9 * step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const mult = hi - lo <= 2 ? [1, 2, 5] : [1];
  const out: number[] = [];
  for (let e = lo; e <= hi; e++)
    for (const m of mult) {
      const v = m * 10 ** e;
      if (v >= min && v <= max) out.push(Number(v.toPrecision(12)));
    }
  return out;
}

/** One run on a scatter. */
export interface ScatterPoint {
  id: number;
  x: number;
  y: number;
  color: string;
  label: string;
  /** Earlier positions (e.g. per epoch), oldest first; the dot is the last. */
  path?: { x: number; y: number; epoch: number }[];
}
