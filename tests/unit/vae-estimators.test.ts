// The estimators against closed forms: analytic vs Monte-Carlo KL, SGVB-A vs SGVB-B on real MNIST, and a
// linear-Gaussian model (probabilistic PCA) where log p(x) is exact: ELBO <= log p(x), equality at the exact
// posterior, and the importance-weighted bound tightening toward log p(x) as k grows.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataSchema, parseRunConfig } from '@shared/run-config';
import { loadDataset } from '../../src-main/data/registry';
import { initBackend } from '../../src-main/train/compute/backend';
import {
  analyticKl,
  elboTerms,
  importanceWeightedBound,
  logDiagonalNormalFromEps,
  logStandardNormal,
  reparameterize,
} from '../../src-main/vae/estimators';
import { bceWithLogits, gaussianLogDensity } from '../../src-main/vae/likelihood';
import { VaeModel, modelSpecFromConfig } from '../../src-main/vae/model';
import { mulberry32 } from '../../src-main/vae/seeds';
import type { DecoderOutput, EncoderOutput, LatentModel } from '../../src-main/vae/types';

beforeAll(async () => {
  await initBackend();
});

const arr = (t: tf.Tensor) => Array.from(t.dataSync());

describe('KL and likelihood terms', () => {
  it('analytic KL equals a Monte-Carlo estimate of E_q[log q - log p]', () => {
    const mu = tf.tensor2d([
      [0.5, -1.2, 0.0],
      [2.0, 0.3, -0.4],
    ]);
    const logvar = tf.tensor2d([
      [-0.5, 0.4, -2.0],
      [0.1, -1.0, 0.8],
    ]);
    const exact = arr(analyticKl(mu, logvar));
    const S = 40000;
    const draw = reparameterize({ mu, logvar }, S, 7);
    const klSamples = tf.sub(logDiagonalNormalFromEps(draw.eps, draw.logvar), logStandardNormal(draw.z));
    const mc = arr(tf.mean(tf.reshape(klSamples, [S, 2]), 0));
    const sd = arr(tf.moments(tf.reshape(klSamples, [S, 2]), 0).variance).map((v) => Math.sqrt(v / S));
    for (let i = 0; i < 2; i++) {
      expect(exact[i]!).toBeGreaterThan(0);
      expect(Math.abs(mc[i]! - exact[i]!)).toBeLessThan(4 * sd[i]! + 1e-3);
    }
    // Closed form by hand for the first row.
    const byHand = [0.5, -1.2, 0].reduce((s, m, j) => {
      const lv = [-0.5, 0.4, -2.0][j]!;
      return s - 0.5 * (1 + lv - m * m - Math.exp(lv));
    }, 0);
    expect(exact[0]!).toBeCloseTo(byHand, 5);
  });

  it('binary cross-entropy with logits is stable and matches the naive formula', () => {
    const l = tf.tensor1d([-30, -2, 0, 3, 80]);
    const x = tf.tensor1d([1, 0, 1, 1, 0]);
    const got = arr(bceWithLogits(l, x));
    const naive = [-30, -2, 0, 3, 80].map((li, i) => {
      const p = 1 / (1 + Math.exp(-li));
      const xi = [1, 0, 1, 1, 0][i]!;
      return li > 20 ? li : li < -20 ? -li * xi : -(xi * Math.log(p) + (1 - xi) * Math.log(1 - p));
    });
    got.forEach((g, i) => expect(g).toBeCloseTo(naive[i]!, 3));
    expect(got.every(Number.isFinite)).toBe(true);
  });

  it('gaussian log density includes -0.5 log(2 pi sigma^2)', () => {
    const v = arr(gaussianLogDensity(tf.tensor1d([0.3]), tf.tensor1d([0.3]), tf.tensor1d([Math.log(0.1)])))[0]!;
    expect(v).toBeCloseTo(-0.5 * Math.log(2 * Math.PI * 0.01), 5);
  });
});

describe('SGVB-A and SGVB-B on real MNIST', () => {
  it('agree in expectation (same reconstruction term, KL within Monte-Carlo error)', async () => {
    const data = await loadDataset(dataSchema.parse({ dataset: 'mnist', trainLimit: 8, testLimit: 1 }), {
      dataHome: mkdtempSync(path.join(os.tmpdir(), 'vae-est-')),
      seed: 1,
    });
    const config = parseRunConfig({ model: { hidden: [64], latentDim: 4, initStd: 0.12 }, seed: 3 });
    const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    const x = tf.tensor2d(data.train.x, [8, 784]);
    const L = 3000;
    const b = elboTerms(model, x, x, { estimator: 'analytic', samples: L, seed: 11 });
    const a = elboTerms(model, x, x, { estimator: 'monte-carlo', samples: L, seed: 11 });
    const lossA = arr(tf.add(a.recon, a.kl));
    const lossB = arr(tf.add(b.recon, b.kl));
    // Same noise: the reconstruction terms are identical; only the KL differs (sampled vs closed form).
    expect(arr(a.recon)).toEqual(arr(b.recon));
    const klA = arr(a.kl);
    const klB = arr(b.kl);
    // Monte-Carlo standard error of the sampled KL, from the per-sample values.
    const enc = model.encode(x);
    const draw = reparameterize(enc, L, 11);
    const samples = tf.reshape(tf.sub(logDiagonalNormalFromEps(draw.eps, draw.logvar), logStandardNormal(draw.z)), [L, 8]);
    const se = arr(tf.moments(samples, 0).variance).map((v) => Math.sqrt(v / L));
    for (let i = 0; i < 8; i++) {
      expect(klB[i]!).toBeGreaterThan(0.5); // a KL worth comparing
      expect(Math.abs(klA[i]! - klB[i]!)).toBeLessThan(5 * se[i]! + 1e-3);
      expect(Math.abs(lossA[i]! - lossB[i]!)).toBeLessThan(5 * se[i]! + 1e-3);
    }
    model.dispose();
  });
});

// ---- Probabilistic PCA: x = W z + b + sigma * noise, z ~ N(0, I). log p(x) = log N(x; b, W W^T + sigma^2 I). ----

function cholesky(a: number[][]): number[][] {
  const n = a.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = i === j ? Math.sqrt(s) : s / l[j]![j]!;
    }
  return l;
}

function exactLogMarginal(x: number[], W: number[][], b: number[], sigma: number): number {
  const d = x.length;
  const C = W.map((wi, i) => W.map((wj, j) => wi.reduce((s, v, k) => s + v * wj[k]!, 0) + (i === j ? sigma * sigma : 0)));
  const L = cholesky(C);
  const r = x.map((v, i) => v - b[i]!);
  const y: number[] = [];
  for (let i = 0; i < d; i++) {
    let s = r[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * y[k]!;
    y.push(s / L[i]![i]!);
  }
  const logDet = 2 * L.reduce((s, row, i) => s + Math.log(row[i]!), 0);
  return -0.5 * (d * Math.log(2 * Math.PI) + logDet + y.reduce((s, v) => s + v * v, 0));
}

/** A linear Gaussian model with an encoder q(z|x) = N(A (x - b), diag(s^2)). */
function linearGaussian(W: number[][], b: number[], sigma: number, A: number[][], logvar: number[]): LatentModel {
  const d = W.length;
  const D = W[0]!.length;
  const Wt = tf.tensor2d(W); // [d, D]
  const bt = tf.tensor1d(b);
  const At = tf.tensor2d(A); // [D, d]
  const lv = tf.tensor1d(logvar);
  return {
    latentDim: D,
    d,
    stochastic: true,
    encode(x: tf.Tensor2D): EncoderOutput {
      return tf.tidy(() => {
        const mu = tf.matMul(tf.sub(x, bt), At, false, true) as tf.Tensor2D;
        return { mu, logvar: tf.mul(tf.onesLike(mu), lv) as tf.Tensor2D };
      });
    },
    decode(z: tf.Tensor2D): DecoderOutput {
      return {
        kind: 'gaussian',
        params: tf.tidy(() => tf.add(tf.matMul(z, Wt, false, true), bt) as tf.Tensor2D),
        logSigma: tf.fill([1, d], Math.log(sigma)),
      };
    },
  };
}

describe('linear Gaussian model (probabilistic PCA) with exact log p(x)', () => {
  const sigma = 0.5;
  // Orthogonal, not axis-aligned columns with W^T W = diag(4, 1), so the exact posterior is diagonal.
  const r2 = Math.SQRT2;
  const r3 = Math.sqrt(3);
  const W = [
    [r2, 0],
    [r2, 0],
    [0, 1 / r3],
    [0, 1 / r3],
    [0, 1 / r3],
  ];
  const b = [0.1, -0.2, 0.3, 0.0, 0.5];
  const rand = mulberry32(5);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const xs: number[][] = Array.from({ length: 6 }, () => {
    const z = [gauss(), gauss()];
    return b.map((bi, i) => bi + W[i]![0]! * z[0]! + W[i]![1]! * z[1]! + sigma * gauss());
  });
  const logPx = xs.map((x) => exactLogMarginal(x, W, b, sigma));
  const x = tf.tensor2d(xs);
  // Exact posterior: M = W^T W + sigma^2 I; mean = M^-1 W^T (x - b); cov = sigma^2 M^-1.
  const m = [4 + sigma * sigma, 1 + sigma * sigma];
  const Aexact = [W.map((r) => r[0]! / m[0]!), W.map((r) => r[1]! / m[1]!)];
  const lvExact = m.map((mi) => Math.log((sigma * sigma) / mi));

  it('the ELBO equals log p(x) at the exact posterior', () => {
    const model = linearGaussian(W, b, sigma, Aexact, lvExact);
    const t = elboTerms(model, x, x, { estimator: 'analytic', samples: 20000, seed: 3 });
    const elbo = arr(tf.neg(tf.add(t.recon, t.kl)));
    elbo.forEach((e, i) => expect(Math.abs(e - logPx[i]!)).toBeLessThan(0.03));
  });

  it('with a worse encoder: ELBO < log p(x) and the IW bound tightens toward log p(x) as k grows', () => {
    const A = Aexact.map((row) => row.map((v) => v * 0.6));
    const lv = lvExact.map((v) => v + 1.2);
    const model = linearGaussian(W, b, sigma, A, lv);
    const t = elboTerms(model, x, x, { estimator: 'analytic', samples: 20000, seed: 3 });
    const elbo = arr(tf.neg(tf.add(t.recon, t.kl)));
    const bound = (k: number, seed = 99) => arr(importanceWeightedBound(model, x, x, k, seed, 500));
    // Average several independent k-sample bounds to see the expectation.
    const avgBound = (k: number, reps: number) => {
      const acc = new Array<number>(xs.length).fill(0);
      for (let r = 0; r < reps; r++) bound(k, 1000 + r).forEach((v, i) => (acc[i]! += v / reps));
      return acc;
    };
    const b1 = avgBound(1, 400);
    const b10 = avgBound(10, 100);
    const b1000 = bound(5000);
    for (let i = 0; i < xs.length; i++) {
      const gap = logPx[i]! - elbo[i]!;
      expect(gap).toBeGreaterThan(0.05); // strictly below log p(x)
      expect(Math.abs(b1[i]! - elbo[i]!)).toBeLessThan(0.25 * gap + 0.1); // k = 1 is the ELBO in expectation
      expect(b10[i]!).toBeGreaterThan(b1[i]!);
      expect(b1000[i]!).toBeGreaterThan(b10[i]! - 0.02);
      expect(b1000[i]!).toBeLessThan(logPx[i]! + 0.05);
      expect(logPx[i]! - b1000[i]!).toBeLessThan(0.2 * gap + 0.02);
    }
  });
});
