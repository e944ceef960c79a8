// Diagnostics of a trained latent-variable model that the loss curves do not show, computed on a held-out
// split: Burda et al.'s count of active units (the variance over the data of the posterior mean), the
// mean correlation coefficient between latent means and known true sources (Khemakhem et al. 2020), and how
// much of a learned decoder variance sits at its floor. Pure tfjs, no I/O. (The inference gap comes with the
// -log p(x) estimate itself: evaluate.ts.)
import * as tf from '@tensorflow/tfjs';
import { bestMatching } from './matching';
import type { LatentModel } from './types';

/** Burda, Grosse & Salakhutdinov (2016): unit u is active when Cov_x(E_q[z_u|x]) exceeds this. */
export const BURDA_ACTIVE_THRESHOLD = 0.01;
/** A learned decoder log-sigma within this of its floor counts as "at the floor". */
const FLOOR_TOLERANCE = 1e-3;

/** Per-dimension variance over the n examples of an n x D row-major matrix. */
export function columnVariances(m: Float32Array, n: number, D: number): number[] {
  const mean = new Float64Array(D);
  const sq = new Float64Array(D);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < D; j++) {
      const v = m[i * D + j]!;
      mean[j] += v;
      sq[j] += v * v;
    }
  return Array.from(mean, (s, j) => (n > 1 ? Math.max(0, (sq[j]! - (s * s) / n) / (n - 1)) : 0));
}

/** Burda et al.'s active units: how many dimensions have Cov_x(E_q[z_u]) > 0.01, and the variances. */
export function activeUnitsCov(means: Float32Array, n: number, D: number): { count: number; variances: number[] } {
  const variances = columnVariances(means, n, D);
  return { count: variances.filter((v) => v > BURDA_ACTIVE_THRESHOLD).length, variances };
}

/** |Pearson correlation| between every latent column (rows) and every source column (columns). */
export function absCorrelations(means: Float32Array, D: number, sources: Float32Array, k: number, n: number): number[][] {
  const stats = (m: Float32Array, cols: number) => {
    const mean = new Float64Array(cols);
    for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) mean[j] += m[i * cols + j]!;
    for (let j = 0; j < cols; j++) mean[j] /= n;
    const sd = new Float64Array(cols);
    for (let i = 0; i < n; i++) for (let j = 0; j < cols; j++) sd[j] += (m[i * cols + j]! - mean[j]!) ** 2;
    for (let j = 0; j < cols; j++) sd[j] = Math.sqrt(sd[j]!);
    return { mean, sd };
  };
  const a = stats(means, D);
  const b = stats(sources, k);
  const c: number[][] = [];
  for (let u = 0; u < D; u++) {
    const row: number[] = [];
    for (let s = 0; s < k; s++) {
      let cov = 0;
      for (let i = 0; i < n; i++) cov += (means[i * D + u]! - a.mean[u]!) * (sources[i * k + s]! - b.mean[s]!);
      const den = a.sd[u]! * b.sd[s]!;
      row.push(den > 0 ? Math.abs(cov / den) : 0);
    }
    c.push(row);
  }
  return c;
}

/**
 * Mean correlation coefficient (Khemakhem et al., AISTATS 2020): the absolute correlations between latent
 * means and true sources, each source matched to a different latent dimension so that the sum is largest
 * (Hungarian algorithm), averaged over the sources. 1 = every source recovered up to an elementwise map.
 * With fewer latent dimensions than sources the unmatched sources count as 0.
 */
export function meanCorrelationCoefficient(
  means: Float32Array,
  D: number,
  sources: Float32Array,
  k: number,
  n: number,
): { mcc: number; matching: number[]; correlations: number[][] } {
  const correlations = absCorrelations(means, D, sources, k, n);
  // cost matrix sources x latents (minimise -|corr|)
  const cost = Array.from({ length: k }, (_, s) => correlations.map((row) => -row[s]!));
  const matching = bestMatching(cost);
  let sum = 0;
  matching.forEach((u, s) => (sum += u >= 0 ? correlations[u]![s]! : 0));
  return { mcc: k ? sum / k : NaN, matching, correlations };
}

/** Fraction of output dimensions whose decoder log-sigma sits at its floor (gaussian decoders; 0 otherwise). */
export function fractionAtSigmaFloor(model: LatentModel, logSigmaFloor: number): number {
  return tf.tidy(() => {
    const out = model.decode(tf.zeros([1, model.latentDim]) as tf.Tensor2D);
    if (out.kind !== 'gaussian') return 0;
    const ls = out.logSigma.dataSync() as Float32Array;
    let at = 0;
    for (const v of ls) if (v <= logSigmaFloor + FLOOR_TOLERANCE) at++;
    return ls.length ? at / ls.length : 0;
  });
}

/**
 * How well a latent space separates labelled classes: leave-one-out k-nearest-neighbour accuracy of the
 * latent means (Euclidean), in [0, 1]; chance is about 1 / classes.
 */
export function knnAccuracy(means: Float32Array, labels: ArrayLike<number>, n: number, D: number, k = 5): number {
  let correct = 0;
  const dist = new Float64Array(n);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let u = 0; u < D; u++) s += (means[i * D + u]! - means[j * D + u]!) ** 2;
      dist[j] = j === i ? Infinity : s;
      idx[j] = j;
    }
    const nearest = Array.from(idx)
      .sort((a, b) => dist[a]! - dist[b]!)
      .slice(0, k);
    const votes = new Map<number, number>();
    for (const j of nearest) votes.set(labels[j]!, (votes.get(labels[j]!) ?? 0) + 1);
    let best = -1;
    let bestVotes = -1;
    for (const [label, v] of votes) if (v > bestVotes) [best, bestVotes] = [label, v];
    if (best === labels[i]) correct++;
  }
  return n ? correct / n : NaN;
}
