// Compare's colour per run: by one key's value (a continuous viridis ramp in value order, linear or log, for numbers
// with more than two values; categorical colours otherwise) or by run, with the legend that explains it.
import type { RunSummary } from '@shared/model-types';
import { valueOf } from './brush';
import { categorical, viridis } from './colors';
import { fmtNum } from './format';

export interface ColorScale {
  colors: Map<number, string>;
  legend: { label: string; color: string }[];
  /** How a continuous scale maps values ('in value order', 'log scale', 'linear scale'); '' otherwise. */
  note: string;
  continuous: boolean;
}

/** The position (0..1) of a number on the ramp: evenly spaced for few values, else log or linear. */
function rampOf(nums: number[]): { t: (v: number) => number; levels: number[]; note: string; log: boolean } {
  const min = Math.min(...nums);
  const max = Math.max(...nums);
  const log = min > 0 && max / min >= 20;
  const levels = [...new Set(nums)].sort((a, b) => a - b);
  // few distinct values: evenly spaced colours in value order (easier to tell apart than a linear scale)
  const ordinal = levels.length <= 8;
  const t = (v: number) =>
    max === min
      ? 0.5
      : ordinal
        ? levels.indexOf(v) / (levels.length - 1)
        : log
          ? Math.log(v / min) / Math.log(max / min)
          : (v - min) / (max - min);
  return { t, levels, note: ordinal ? 'in value order' : log ? 'log scale' : 'linear scale', log };
}

/** Colour per run: by the chosen key's value (continuous viridis or categorical), else by index. */
export function colorScaleFor(runs: readonly RunSummary[], colorBy: string): ColorScale {
  const colors = new Map<number, string>();
  const legend: { label: string; color: string }[] = [];
  if (!colorBy) {
    runs.forEach((r, i) => colors.set(r.id, categorical(i)));
    return { colors, legend, note: '', continuous: false };
  }
  const vals = runs.map((r) => valueOf(r, colorBy));
  const numeric = vals.every((v) => typeof v === 'number' && Number.isFinite(v));
  const distinct = [...new Set(vals.map((v) => String(v)))];
  if (numeric && distinct.length > 2) {
    const nums = vals as number[];
    const { t, levels, note, log } = rampOf(nums);
    runs.forEach((r) => colors.set(r.id, viridis(t(valueOf(r, colorBy) as number))));
    const min = levels[0]!;
    const max = levels[levels.length - 1]!;
    for (const v of levels.length <= 8 ? levels : [min, log ? Math.sqrt(min * max) : (min + max) / 2, max])
      legend.push({ label: fmtNum(v), color: viridis(t(v)) });
    return { colors, legend, note, continuous: true };
  }
  const sortedDistinct = distinct.sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  runs.forEach((r) => colors.set(r.id, categorical(sortedDistinct.indexOf(String(valueOf(r, colorBy))))));
  sortedDistinct.forEach((v, i) => legend.push({ label: v, color: categorical(i) }));
  return { colors, legend, note: '', continuous: false };
}
