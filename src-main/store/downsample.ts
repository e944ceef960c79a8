// Min/max bucket downsampling of one metric series, streamed in a tight loop over raw SQLite rows.
// The raw points (ordered by x) are cut into equal-count buckets; from each bucket the point with the
// smallest and the one with the largest value are kept (in x order), so a single spike survives any
// reduction. The first and the last point are always kept. The output never has more than maxPoints points.
import type { SeriesPoint } from '../api/model-types';

/** A raw row as the store reads it: [x, step, epoch, time, value]. */
export type RawRow = [number, number, number, number, number];

function toPoint(r: RawRow): SeriesPoint {
  return { x: r[0], y: r[4], step: r[1], epoch: r[2], time: r[3] };
}

/** All rows as points (no reduction). */
export function allPoints(rows: Iterable<RawRow>): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const r of rows) out.push(toPoint(r));
  return out;
}

/**
 * Reduce `total` rows (ordered by x) to at most `maxPoints` points. `rows` is consumed once.
 * With maxPoints < 4 only the first and last points are kept (maxPoints 1 keeps the last).
 */
export function minMaxDownsample(rows: Iterable<RawRow>, total: number, maxPoints: number): SeriesPoint[] {
  if (total <= 0) return [];
  if (total <= maxPoints) return allPoints(rows);
  const inner = total - 2; // rows strictly between the first and the last
  const buckets = Math.max(0, Math.min(inner, Math.floor((maxPoints - 2) / 2)));
  const out: SeriesPoint[] = [];
  let first: RawRow | null = null;
  let last: RawRow | null = null;
  let i = 0;
  let current = -1;
  let minRow: RawRow | null = null;
  let maxRow: RawRow | null = null;
  let minIdx = 0;
  let maxIdx = 0;
  const emit = () => {
    if (!minRow || !maxRow) return;
    if (minIdx === maxIdx) out.push(toPoint(minRow));
    else if (minIdx < maxIdx) out.push(toPoint(minRow), toPoint(maxRow));
    else out.push(toPoint(maxRow), toPoint(minRow));
  };
  for (const r of rows) {
    if (i === 0) {
      first = r;
    } else if (i === total - 1) {
      last = r;
    } else if (buckets > 0) {
      const b = Math.floor(((i - 1) * buckets) / inner);
      if (b !== current) {
        emit();
        current = b;
        minRow = maxRow = r;
        minIdx = maxIdx = i;
      } else {
        const v = r[4];
        if (v < minRow![4]) {
          minRow = r;
          minIdx = i;
        }
        if (v > maxRow![4]) {
          maxRow = r;
          maxIdx = i;
        }
      }
    }
    i++;
  }
  emit();
  const result: SeriesPoint[] = [];
  if (first) result.push(toPoint(first));
  for (const p of out) result.push(p);
  if (last) result.push(toPoint(last));
  if (maxPoints === 1) return result.slice(-1);
  return result.length > maxPoints ? result.slice(0, maxPoints - 1).concat(result.slice(-1)) : result;
}
