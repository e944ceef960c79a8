// Smoothing of a metric series on its raw points, the window measured in steps (not in points), so the result
// depends only on the data: neither on the chart's width, nor on downsampling, nor on a zoom range.
// Pure and Node-free: the store's series path, the renderer and the tests share it.

export type SmoothingKind = 'ema' | 'mean';

export interface Smoothing {
  /** ema: exponential moving average with time constant `window` steps (debiased); mean: trailing moving average over (step - window, step]. */
  kind: SmoothingKind;
  /** In steps, > 0. */
  window: number;
}

/** What a chart asks for: no smoothing, or one of the kinds with a window in steps. */
export interface ChartSmoothing {
  kind: 'none' | SmoothingKind;
  window: number;
}

/**
 * Smoothed values of `values` (ordered by ascending `steps`). Non-finite values are passed through and do not
 * enter the average. EMA on irregular steps: weight exp(-Δstep / window) for the previous state, debiased by the
 * accumulated weight (so the first point is itself, as in TensorBoard's debiased EMA).
 */
export function smoothValues(steps: ArrayLike<number>, values: ArrayLike<number>, s: Smoothing): Float64Array {
  if (!(s.window > 0)) throw new Error(`smoothing.window must be > 0 steps, got ${s.window}`);
  return s.kind === 'ema' ? emaBySteps(steps, values, s.window) : meanBySteps(steps, values, s.window);
}

function emaBySteps(steps: ArrayLike<number>, values: ArrayLike<number>, window: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  let num = 0;
  let den = 0;
  let last = Number.NaN;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    const decay = Number.isNaN(last) ? 0 : Math.exp(-Math.max(0, steps[i]! - last) / window);
    num = num * decay + v;
    den = den * decay + 1;
    last = steps[i]!;
    out[i] = num / den;
  }
  return out;
}

function meanBySteps(steps: ArrayLike<number>, values: ArrayLike<number>, window: number): Float64Array {
  const n = values.length;
  const out = new Float64Array(n);
  let sum = 0;
  let count = 0;
  let lo = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      sum += v;
      count++;
    }
    while (lo < i && steps[lo]! <= steps[i]! - window) {
      const u = values[lo]!;
      if (Number.isFinite(u)) {
        sum -= u;
        count--;
      }
      lo++;
    }
    out[i] = Number.isFinite(v) ? sum / count : v;
  }
  return out;
}
