// The classical latent-variable baseline: a mixture of K Gaussians with diagonal covariances, fitted by EM.
//   p(x) = sum_k w_k N(x | mu_k, diag var_k)
// The latent variable is the component k; EM is exact here (the posterior over k is computed in closed form).
// Plain float64 typed-array math, no tfjs: the E- and M-steps skip zero inputs (pixel data is mostly 0),
// so MNIST-sized fits (n = 8000, d = 784, K = 10, 50 iterations) take about a second on one core.
//
// Log-likelihoods are Gaussian log densities in nats per example. For pixel data in [0, 1] they are
// densities, not probabilities, so they are positive and not comparable with a Bernoulli decoder's
// log p(x); the variance floor bounds them (each pixel contributes at most -0.5 log(2 pi floor)).
import type { NamedTensor } from './named-tensor';
import { logSumExp, seededNormal, seededUniform } from './linalg';

export interface GmmModel {
  components: number;
  d: number;
  /** Exact log p(x) per example, in nats (float64). */
  logLikelihood(x: Float32Array, n: number): Float64Array;
  /** n draws, row-major n x d, values clipped to [0, 1]. Deterministic given the seed. */
  sample(n: number, seed: number): Float32Array;
  /** Component means, row-major K x d. */
  means(): Float32Array;
  /** "gmm/log_weights" [K], "gmm/means" [K, d], "gmm/log_vars" [K, d]. */
  toNamedTensors(): NamedTensor[];
}

export interface FitGmmOptions {
  components: number;
  iterations: number;
  seed: number;
  /** Lower bound on every variance (default 1e-3, suited to pixels in [0, 1]); keeps components off constant pixels. */
  varianceFloor?: number;
  /** Called after each EM iteration with the average log-likelihood (nats) of the training data under the updated model. */
  onIteration?: (iteration: number, avgLogLik: number) => void;
  signal?: AbortSignal;
}

export const DEFAULT_VARIANCE_FLOOR = 1e-3;
const LOG_2PI = Math.log(2 * Math.PI);

/** Parameters in float64; weights as logs, normalized. */
interface GmmParams {
  k: number;
  d: number;
  logWeights: Float64Array;
  means: Float64Array; // K x d
  variances: Float64Array; // K x d
}

/** The non-zero entries of a row-major matrix, row by row (CSR). */
interface SparseRows {
  rowStart: Int32Array; // n + 1
  cols: Int32Array;
  vals: Float64Array;
}

function toSparse(x: Float32Array, n: number, d: number): SparseRows {
  let nnz = 0;
  for (let i = 0; i < n * d; i++) if (x[i] !== 0) nnz++;
  const rowStart = new Int32Array(n + 1);
  const cols = new Int32Array(nnz);
  const vals = new Float64Array(nnz);
  let p = 0;
  for (let i = 0; i < n; i++) {
    rowStart[i] = p;
    const base = i * d;
    for (let j = 0; j < d; j++) {
      const v = x[base + j];
      if (v !== 0) {
        cols[p] = j;
        vals[p] = v;
        p++;
      }
    }
  }
  rowStart[n] = p;
  return { rowStart, cols, vals };
}

function checkData(x: Float32Array, n: number, d: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) throw new Error(`${what}: n must be a non-negative integer, got ${n}`);
  if (x.length !== n * d) throw new Error(`${what}: expected ${n} x ${d} = ${n * d} values, got ${x.length}`);
}

/**
 * Per-dimension terms of log N(x | mu_k, var_k) in the expanded form
 *   log w_k + c_k + sum_j x_j (a_kj - 0.5 x_j b_kj),  a = mu / var, b = 1 / var,
 *   c_k = -0.5 sum_j (log 2 pi var_kj + mu_kj^2 / var_kj),
 * laid out [d][K] so that one non-zero x_j updates K contiguous accumulators. Float64 keeps the
 * cancellation in this form harmless.
 */
interface ExpandedTerms {
  offset: Float64Array; // K: log w_k + c_k
  a: Float64Array; // d x K
  b: Float64Array; // d x K
}

function expand(p: GmmParams): ExpandedTerms {
  const { k: K, d } = p;
  const offset = new Float64Array(K);
  const a = new Float64Array(d * K);
  const b = new Float64Array(d * K);
  for (let k = 0; k < K; k++) {
    let c = 0;
    for (let j = 0; j < d; j++) {
      const v = p.variances[k * d + j];
      const m = p.means[k * d + j];
      c += Math.log(v) + (m * m) / v;
      a[j * K + k] = m / v;
      b[j * K + k] = 1 / v;
    }
    offset[k] = p.logWeights[k] - 0.5 * (d * LOG_2PI + c);
  }
  return { offset, a, b };
}

/**
 * E-step: responsibilities (n x K, written into `resp`) and the summed log-likelihood of the data.
 */
function eStep(p: GmmParams, xs: SparseRows, n: number, resp: Float64Array): number {
  const K = p.k;
  const { offset, a, b } = expand(p);
  const acc = new Float64Array(K);
  let total = 0;
  for (let i = 0; i < n; i++) {
    acc.set(offset);
    for (let q = xs.rowStart[i]; q < xs.rowStart[i + 1]; q++) {
      const x = xs.vals[q];
      const base = xs.cols[q] * K;
      const hx = 0.5 * x;
      for (let k = 0; k < K; k++) acc[k] += x * (a[base + k] - hx * b[base + k]);
    }
    const lse = logSumExp(acc);
    total += lse;
    const r = i * K;
    for (let k = 0; k < K; k++) resp[r + k] = Math.exp(acc[k] - lse);
  }
  return total;
}

/** M-step: weighted means and variances (floored), weights from the responsibilities. */
function mStep(p: GmmParams, xs: SparseRows, n: number, resp: Float64Array, floor: number): void {
  const { k: K, d } = p;
  const nk = new Float64Array(K);
  const s1 = new Float64Array(d * K); // [d][K]
  const s2 = new Float64Array(d * K);
  // In high dimensions responsibilities are nearly one-hot: only components with a non-negligible share
  // of a row (> 1e-14, far below float64 resolution of the sums) take part in its accumulation.
  const active = new Int32Array(K);
  for (let i = 0; i < n; i++) {
    const r = i * K;
    let na = 0;
    for (let k = 0; k < K; k++) {
      nk[k] += resp[r + k];
      if (resp[r + k] > 1e-14) active[na++] = k;
    }
    for (let q = xs.rowStart[i]; q < xs.rowStart[i + 1]; q++) {
      const x = xs.vals[q];
      const x2 = x * x;
      const base = xs.cols[q] * K;
      for (let t = 0; t < na; t++) {
        const k = active[t];
        const w = resp[r + k];
        s1[base + k] += w * x;
        s2[base + k] += w * x2;
      }
    }
  }
  let total = 0;
  for (let k = 0; k < K; k++) total += nk[k];
  for (let k = 0; k < K; k++) {
    // A component that lost all its mass keeps its mean and variance, with a vanishing weight.
    p.logWeights[k] = Math.log(Math.max(nk[k], 1e-300) / total);
    if (nk[k] < 1e-10) continue;
    for (let j = 0; j < d; j++) {
      const m = s1[j * K + k] / nk[k];
      const v = s2[j * K + k] / nk[k] - m * m;
      p.means[k * d + j] = m;
      p.variances[k * d + j] = Math.max(v, floor);
    }
  }
}

/** k-means++ seeding: the first centre uniformly at random, each further one with probability proportional to D(x)^2. */
function kmeansPlusPlus(x: Float32Array, xs: SparseRows, n: number, d: number, K: number, rand: () => number): Float64Array {
  const centres = new Float64Array(K * d);
  const sqNorm = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let q = xs.rowStart[i]; q < xs.rowStart[i + 1]; q++) s += xs.vals[q] * xs.vals[q];
    sqNorm[i] = s;
  }
  const best = new Float64Array(n).fill(Infinity);
  let chosen = Math.min(n - 1, Math.floor(rand() * n));
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < d; j++) centres[k * d + j] = x[chosen * d + j];
    let cNorm = 0;
    for (let j = 0; j < d; j++) cNorm += centres[k * d + j] * centres[k * d + j];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let q = xs.rowStart[i]; q < xs.rowStart[i + 1]; q++) dot += xs.vals[q] * centres[k * d + xs.cols[q]];
      const dist = Math.max(0, sqNorm[i] - 2 * dot + cNorm);
      if (dist < best[i]) best[i] = dist;
      sum += best[i];
    }
    if (k === K - 1) break;
    if (sum <= 0) {
      chosen = Math.min(n - 1, Math.floor(rand() * n));
      continue;
    }
    let target = rand() * sum;
    chosen = n - 1;
    for (let i = 0; i < n; i++) {
      target -= best[i];
      if (target < 0) {
        chosen = i;
        break;
      }
    }
  }
  return centres;
}

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Fit a diagonal-covariance Gaussian mixture by EM. Asynchronous: it yields to the event loop after every
 * iteration so progress callbacks flush and an abort (signal) is honoured between iterations; the
 * arithmetic itself is synchronous float64. Deterministic given the seed (k-means++ seeding).
 * The average log-likelihood passed to onIteration never decreases (EM; the variance floor keeps the
 * M-step an exact constrained maximizer).
 */
export async function fitGmm(x: Float32Array, n: number, d: number, opts: FitGmmOptions): Promise<GmmModel> {
  const K = opts.components;
  const floor = opts.varianceFloor ?? DEFAULT_VARIANCE_FLOOR;
  if (!Number.isInteger(K) || K < 1) throw new Error(`gmm: components must be a positive integer, got ${K}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`gmm: d must be a positive integer, got ${d}`);
  if (!Number.isInteger(opts.iterations) || opts.iterations < 0)
    throw new Error(`gmm: iterations must be a non-negative integer, got ${opts.iterations}`);
  if (!(floor > 0)) throw new Error(`gmm: varianceFloor must be > 0, got ${floor}`);
  checkData(x, n, d, 'gmm');
  if (n < K) throw new Error(`gmm: need at least as many examples (${n}) as components (${K})`);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new Error(`gmm: input value ${i} is not finite`);
  opts.signal?.throwIfAborted();

  const xs = toSparse(x, n, d);
  const rand = seededUniform(opts.seed);
  // Initial variances: the per-dimension variance of the whole data set, floored.
  const mean = new Float64Array(d);
  const sq = new Float64Array(d);
  for (let i = 0; i < n; i++)
    for (let q = xs.rowStart[i]; q < xs.rowStart[i + 1]; q++) {
      mean[xs.cols[q]] += xs.vals[q];
      sq[xs.cols[q]] += xs.vals[q] * xs.vals[q];
    }
  const variances = new Float64Array(K * d);
  for (let j = 0; j < d; j++) {
    const m = mean[j] / n;
    const v = Math.max(sq[j] / n - m * m, floor);
    for (let k = 0; k < K; k++) variances[k * d + j] = v;
  }
  const params: GmmParams = {
    k: K,
    d,
    logWeights: new Float64Array(K).fill(-Math.log(K)),
    means: kmeansPlusPlus(x, xs, n, d, K, rand),
    variances,
  };

  const resp = new Float64Array(n * K);
  eStep(params, xs, n, resp);
  for (let it = 1; it <= opts.iterations; it++) {
    mStep(params, xs, n, resp, floor);
    const total = eStep(params, xs, n, resp);
    opts.onIteration?.(it, total / n);
    await nextTick();
    opts.signal?.throwIfAborted();
  }
  return makeModel(params);
}

function makeModel(p: GmmParams): GmmModel {
  const { k: K, d } = p;
  const logNorm = new Float64Array(K); // log w_k - 0.5 sum_j log(2 pi var_kj)
  const invVar = new Float64Array(K * d);
  for (let k = 0; k < K; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) {
      s += Math.log(p.variances[k * d + j]);
      invVar[k * d + j] = 1 / p.variances[k * d + j];
    }
    logNorm[k] = p.logWeights[k] - 0.5 * (d * LOG_2PI + s);
  }
  return {
    components: K,
    d,
    logLikelihood(x: Float32Array, n: number): Float64Array {
      checkData(x, n, d, 'gmm.logLikelihood');
      const out = new Float64Array(n);
      const comp = new Float64Array(K);
      for (let i = 0; i < n; i++) {
        const base = i * d;
        for (let k = 0; k < K; k++) {
          let s = 0;
          const kb = k * d;
          for (let j = 0; j < d; j++) {
            const diff = x[base + j] - p.means[kb + j];
            s += diff * diff * invVar[kb + j];
          }
          comp[k] = logNorm[k] - 0.5 * s;
        }
        out[i] = logSumExp(comp);
      }
      return out;
    },
    sample(n: number, seed: number): Float32Array {
      if (!Number.isInteger(n) || n < 0) throw new Error(`gmm.sample: n must be a non-negative integer, got ${n}`);
      const u = seededUniform(seed);
      const g = seededNormal(seed ^ 0x5bd1e995);
      const cum = new Float64Array(K);
      let acc = 0;
      for (let k = 0; k < K; k++) {
        acc += Math.exp(p.logWeights[k]);
        cum[k] = acc;
      }
      const out = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        const t = u() * acc;
        let k = 0;
        while (k < K - 1 && cum[k] <= t) k++;
        for (let j = 0; j < d; j++) {
          const v = p.means[k * d + j] + Math.sqrt(p.variances[k * d + j]) * g();
          out[i * d + j] = v < 0 ? 0 : v > 1 ? 1 : v;
        }
      }
      return out;
    },
    means(): Float32Array {
      return Float32Array.from(p.means);
    },
    toNamedTensors(): NamedTensor[] {
      return [
        { name: 'gmm/log_weights', shape: [K], data: Float32Array.from(p.logWeights) },
        { name: 'gmm/means', shape: [K, d], data: Float32Array.from(p.means) },
        { name: 'gmm/log_vars', shape: [K, d], data: Float32Array.from(p.variances, Math.log) },
      ];
    },
  };
}

/** Rebuild a model from the tensors written by toNamedTensors (checkpoints); names and shapes are checked. */
export function gmmFromNamedTensors(t: NamedTensor[]): GmmModel {
  const get = (name: string): NamedTensor => {
    const found = t.find((x) => x.name === name);
    if (!found) throw new Error(`gmm checkpoint: tensor "${name}" is missing`);
    const size = found.shape.reduce((a, b) => a * b, 1);
    if (found.data.length !== size)
      throw new Error(`gmm checkpoint: tensor "${name}" has ${found.data.length} values for shape [${found.shape.join(', ')}]`);
    for (let i = 0; i < found.data.length; i++)
      if (Number.isNaN(found.data[i]) || found.data[i] === Infinity)
        throw new Error(`gmm checkpoint: tensor "${name}" holds a non-finite value at ${i}`);
    return found;
  };
  const lw = get('gmm/log_weights');
  const mu = get('gmm/means');
  const lv = get('gmm/log_vars');
  if (lw.shape.length !== 1 || lw.shape[0] < 1)
    throw new Error(`gmm checkpoint: "gmm/log_weights" must have shape [K], got [${lw.shape.join(', ')}]`);
  const K = lw.shape[0];
  if (mu.shape.length !== 2 || mu.shape[0] !== K || mu.shape[1] < 1)
    throw new Error(`gmm checkpoint: "gmm/means" must have shape [${K}, d], got [${mu.shape.join(', ')}]`);
  const d = mu.shape[1];
  if (lv.shape.length !== 2 || lv.shape[0] !== K || lv.shape[1] !== d)
    throw new Error(`gmm checkpoint: "gmm/log_vars" must have shape [${K}, ${d}], got [${lv.shape.join(', ')}]`);
  for (let i = 0; i < lv.data.length; i++)
    if (!Number.isFinite(lv.data[i])) throw new Error(`gmm checkpoint: "gmm/log_vars" value ${i} is not finite`);
  for (let i = 0; i < mu.data.length; i++)
    if (!Number.isFinite(mu.data[i])) throw new Error(`gmm checkpoint: "gmm/means" value ${i} is not finite`);
  // Renormalize the weights (float32 storage rounds them).
  const logWeights = Float64Array.from(lw.data);
  const lse = logSumExp(logWeights);
  if (!Number.isFinite(lse)) throw new Error('gmm checkpoint: the weights do not sum to a finite positive value');
  for (let k = 0; k < K; k++) logWeights[k] -= lse;
  return makeModel({ k: K, d, logWeights, means: Float64Array.from(mu.data), variances: Float64Array.from(lv.data, Math.exp) });
}
