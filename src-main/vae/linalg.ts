// Small float64 linear algebra and seeded random numbers for the evaluation code (GMM baseline, Frechet
// distance). Plain typed arrays, row-major, no tfjs: these run on tiny matrices (64 x 64) or need float64.
import { gaussian, mulberry32 } from '@shared/rng';

/** A seeded uniform generator in [0, 1) (mulberry32 on a scrambled seed). Same seed, same stream. */
export function seededUniform(seed: number): () => number {
  return mulberry32(Math.imul((seed | 0) ^ 0x9e3779b9, 0x85ebca6b) ^ 0xc2b2ae35);
}

/** A seeded standard normal generator (Box-Muller on seededUniform). */
export function seededNormal(seed: number): () => number {
  return gaussian(seededUniform(seed));
}

/** log(sum(exp(v[offset .. offset+len)))) computed without overflow; -Infinity when all are -Infinity. */
export function logSumExp(v: ArrayLike<number>, offset = 0, len = v.length - offset): number {
  let m = -Infinity;
  for (let i = 0; i < len; i++) if (v[offset + i] > m) m = v[offset + i];
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (let i = 0; i < len; i++) s += Math.exp(v[offset + i] - m);
  return m + Math.log(s);
}

/** Column means and the unbiased (n - 1) covariance of n rows of `dim` features, in float64. */
export function meanAndCovariance(x: ArrayLike<number>, n: number, dim: number): { mean: Float64Array; cov: Float64Array } {
  if (n < 2) throw new Error(`a covariance needs at least 2 rows, got ${n}`);
  if (x.length < n * dim) throw new Error(`expected ${n} x ${dim} values, got ${x.length}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= n;
  const cov = new Float64Array(dim * dim);
  const c = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) c[j] = x[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) {
      const ca = c[a];
      if (ca === 0) continue;
      const row = a * dim;
      for (let b = a; b < dim; b++) cov[row + b] += ca * c[b];
    }
  }
  for (let a = 0; a < dim; a++)
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (n - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  return { mean, cov };
}

/**
 * Eigen-decomposition of a symmetric matrix by the cyclic Jacobi method (float64; accurate to roundoff
 * for the small matrices used here). Returns eigenvalues and eigenvectors as the columns of `vectors`
 * (row-major n x n), so a = V diag(values) V^T. The input is not modified.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, maxSweeps = 100): { values: Float64Array; vectors: Float64Array } {
  const m = Float64Array.from(a as ArrayLike<number>);
  if (m.length !== n * n) throw new Error(`expected a ${n} x ${n} matrix, got ${m.length} values`);
  // Symmetrize against roundoff in the caller's products.
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = 0.5 * (m[i * n + j] + m[j * n + i]);
      m[i * n + j] = s;
      m[j * n + i] = s;
    }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += m[i] * m[i];
  scale = Math.sqrt(scale);
  for (let sweep = 0; sweep < maxSweeps; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p * n + q] * m[p * n + q];
    if (Math.sqrt(off) <= 1e-15 * scale || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // Rotate rows/columns p and q of m.
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        m[p * n + q] = 0;
        m[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = m[i * n + i];
  return { values, vectors: v };
}

/** Row-major product of an (r x k) and a (k x c) matrix. */
export function matMul(a: ArrayLike<number>, b: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++)
    for (let l = 0; l < k; l++) {
      const ail = a[i * k + l];
      if (ail === 0) continue;
      for (let j = 0; j < c; j++) out[i * c + j] += ail * b[l * c + j];
    }
  return out;
}

/** The symmetric square root of a symmetric positive semi-definite matrix (negative roundoff eigenvalues clamp to 0). */
export function sqrtPsd(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n);
  const out = new Float64Array(n * n);
  for (let e = 0; e < n; e++) {
    const r = Math.sqrt(Math.max(0, values[e]));
    if (r === 0) continue;
    for (let i = 0; i < n; i++) {
      const vi = vectors[i * n + e] * r;
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += vi * vectors[j * n + e];
    }
  }
  return out;
}

/**
 * Tr (S1 S2)^{1/2} for symmetric PSD S1, S2: the eigenvalues of S1 S2 equal those of
 * S1^{1/2} S2 S1^{1/2}, which is symmetric PSD, so the trace is the sum of the square roots of its
 * (clamped non-negative) eigenvalues. Stable where S1 or S2 is singular.
 */
export function traceSqrtProduct(s1: ArrayLike<number>, s2: ArrayLike<number>, n: number): number {
  const r = sqrtPsd(s1, n);
  const m = matMul(matMul(r, s2, n, n, n), r, n, n, n);
  const { values } = symmetricEigen(m, n);
  let t = 0;
  for (let i = 0; i < n; i++) t += Math.sqrt(Math.max(0, values[i]));
  return t;
}
