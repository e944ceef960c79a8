// Minimum-cost one-to-one assignment (the Hungarian algorithm, O(n^2 m) with potentials), for matching
// true sources to latent dimensions in the mean correlation coefficient. Pure numbers, no tfjs.

/**
 * For a cost matrix with `rows` rows and `cols` columns, the column assigned to each row (each column used at
 * most once) minimising the total cost. When there are more rows than columns the extra rows get -1.
 */
export function bestMatching(cost: number[][]): number[] {
  const rows = cost.length;
  const cols = rows ? cost[0]!.length : 0;
  if (!rows || !cols) return Array.from({ length: rows }, () => -1);
  if (rows > cols) {
    // assign columns to rows instead, then invert
    const t = Array.from({ length: cols }, (_, j) => cost.map((r) => r[j]!));
    const colToRow = bestMatching(t);
    const out = Array.from({ length: rows }, () => -1);
    colToRow.forEach((r, j) => r >= 0 && (out[r] = j));
    return out;
  }
  const n = rows;
  const m = cols;
  const INF = Number.POSITIVE_INFINITY;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const p = new Int32Array(m + 1); // p[j]: row (1-based) matched to column j
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(INF);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[p[j]!] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0);
  }
  const out = Array.from({ length: n }, () => -1);
  for (let j = 1; j <= m; j++) if (p[j]! > 0) out[p[j]! - 1] = j - 1;
  return out;
}
