// Principal components of a small point cloud (latent means), for the 2-D latent view of higher-dimensional codes.

export interface PcaResult {
  /** n x k projections, row-major. */
  projected: Float64Array;
  /** k principal directions, each of length dim (row-major k x dim). */
  components: Float64Array;
  /** Variance along each component, and its share of the total variance. */
  variances: number[];
  explained: number[];
}

/** Project n points of dimension dim onto their first k principal components (power iteration with deflation). */
export function pca(points: ArrayLike<number>, n: number, dim: number, k = 2, iterations = 200): PcaResult {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += points[i * dim + j]! / n;
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) row[j] = points[i * dim + j]! - mean[j]!;
    for (let a = 0; a < dim; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b]! += ra * row[b]!;
    }
  }
  let total = 0;
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      cov[a * dim + b]! /= Math.max(1, n - 1);
      cov[b * dim + a] = cov[a * dim + b]!;
    }
    total += cov[a * dim + a]!;
  }
  const kk = Math.min(k, dim);
  const components = new Float64Array(k * dim);
  const variances: number[] = [];
  const v = new Float64Array(dim);
  const w = new Float64Array(dim);
  for (let c = 0; c < kk; c++) {
    for (let j = 0; j < dim; j++) v[j] = 1 / Math.sqrt(dim) + 1e-3 * ((j * 7919 + c * 104729) % 13);
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      for (let a = 0; a < dim; a++) {
        let s = 0;
        for (let b = 0; b < dim; b++) s += cov[a * dim + b]! * v[b]!;
        w[a] = s;
      }
      let norm = 0;
      for (let a = 0; a < dim; a++) norm += w[a]! * w[a]!;
      norm = Math.sqrt(norm);
      if (norm === 0) break;
      let delta = 0;
      for (let a = 0; a < dim; a++) {
        const nv = w[a]! / norm;
        delta += Math.abs(nv - v[a]!);
        v[a] = nv;
      }
      lambda = norm;
      if (delta < 1e-10) break;
    }
    // Fix the sign so the largest-magnitude entry is positive (stable pictures across epochs).
    let big = 0;
    for (let a = 0; a < dim; a++) if (Math.abs(v[a]!) > Math.abs(v[big]!)) big = a;
    const sign = v[big]! < 0 ? -1 : 1;
    for (let a = 0; a < dim; a++) components[c * dim + a] = sign * v[a]!;
    variances.push(lambda);
    for (let a = 0; a < dim; a++) for (let b = 0; b < dim; b++) cov[a * dim + b]! -= lambda * v[a]! * v[b]!;
  }
  for (let c = kk; c < k; c++) variances.push(0);
  const projected = new Float64Array(n * k);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < kk; c++) {
      let s = 0;
      for (let j = 0; j < dim; j++) s += (points[i * dim + j]! - mean[j]!) * components[c * dim + j]!;
      projected[i * k + c] = s;
    }
  return { projected, components, variances, explained: variances.map((x) => (total > 0 ? x / total : 0)) };
}
