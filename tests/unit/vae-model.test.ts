// The model's building blocks: stable weight names and shapes, conv layers trainable on wasm (checked against
// the cpu backend), optimizer state round trip, corruption, the probit, PCA, fixed prior noise and PNG grids.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '@shared/run-config';
import { initBackend } from '../../src-main/train/compute/backend';
import { gridPng, readPng } from '../../src-main/train/common/png';
import { conv2dSame, conv2dTransposeSame, transposedConvSubPixel, transposedConvViaConv } from '../../src-main/vae/conv-ops';
import { corrupt, binarizeBatch } from '../../src-main/vae/corruption';
import { trainingObjective } from '../../src-main/vae/estimators';
import { VaeModel, modelSpecFromConfig } from '../../src-main/vae/model';
import { clipByGlobalNorm, createOptimizer, exportOptimizerState, importOptimizerState, optimizerStep } from '../../src-main/vae/optimizer';
import { pca } from '../../src-main/vae/pca';
import { linspace, normalCdf, probit } from '../../src-main/vae/probit';
import { fixedPriorNoise, manifoldCodes } from '../../src-main/vae/sampling';

let backend = '';
beforeAll(async () => {
  backend = (await initBackend()).active;
});

const models: VaeModel[] = [];
afterAll(() => models.forEach((m) => m.dispose()));

function build(input: Parameters<typeof parseRunConfig>[0], shape: [number, number, number] = [28, 28, 1]) {
  const m = new VaeModel(modelSpecFromConfig(parseRunConfig(input), shape, 'image'));
  models.push(m);
  return m;
}

const shapes = (m: VaeModel) => Object.fromEntries([...m.weights].map(([k, v]) => [k, v.shape]));

describe('weight names', () => {
  it('MLP vae with learned variance', () => {
    const m = build({ model: { hidden: [400, 100], latentDim: 20, likelihood: 'gaussian-learned' } });
    expect(shapes(m)).toEqual({
      'encoder/dense_0/kernel': [784, 400],
      'encoder/dense_0/bias': [400],
      'encoder/dense_1/kernel': [400, 100],
      'encoder/dense_1/bias': [100],
      'encoder/mu/kernel': [100, 20],
      'encoder/mu/bias': [20],
      'encoder/logvar/kernel': [100, 20],
      'encoder/logvar/bias': [20],
      'decoder/dense_0/kernel': [20, 100],
      'decoder/dense_0/bias': [100],
      'decoder/dense_1/kernel': [100, 400],
      'decoder/dense_1/bias': [400],
      'decoder/out/kernel': [400, 784],
      'decoder/out/bias': [784],
      'decoder/logsigma': [784],
    });
  });

  it('ae has no logvar head; conv has conv/deconv kernels', () => {
    const ae = build({ model: { kind: 'ae', hidden: [32], latentDim: 3 } });
    expect([...ae.weights.keys()].some((k) => k.includes('logvar'))).toBe(false);
    const conv = build({ model: { arch: 'conv', convChannels: [8, 16], latentDim: 4 } });
    expect(shapes(conv)).toEqual({
      'encoder/conv_0/kernel': [3, 3, 1, 8],
      'encoder/conv_0/bias': [8],
      'encoder/conv_1/kernel': [3, 3, 8, 16],
      'encoder/conv_1/bias': [16],
      'encoder/mu/kernel': [7 * 7 * 16, 4],
      'encoder/mu/bias': [4],
      'encoder/logvar/kernel': [7 * 7 * 16, 4],
      'encoder/logvar/bias': [4],
      'decoder/dense_0/kernel': [4, 7 * 7 * 16],
      'decoder/dense_0/bias': [7 * 7 * 16],
      'decoder/deconv_0/kernel': [3, 3, 8, 16],
      'decoder/deconv_0/bias': [8],
      'decoder/out/kernel': [3, 3, 1, 8],
      'decoder/out/bias': [1],
    });
  });

  it('initialization is seeded and respects initStd', () => {
    const a = build({ seed: 4, model: { hidden: [50], latentDim: 5, initStd: 0.01 } });
    const b = build({ seed: 4, model: { hidden: [50], latentDim: 5, initStd: 0.01 } });
    const c = build({ seed: 5, model: { hidden: [50], latentDim: 5, initStd: 0.01 } });
    const wa = a.namedWeights()[0]!.data;
    expect(Array.from(wa)).toEqual(Array.from(b.namedWeights()[0]!.data));
    expect(Array.from(wa)).not.toEqual(Array.from(c.namedWeights()[0]!.data));
    const sd = Math.sqrt(wa.reduce((s, v) => s + v * v, 0) / wa.length);
    expect(sd).toBeGreaterThan(0.009);
    expect(sd).toBeLessThan(0.011);
    const g = build({ seed: 4, model: { hidden: [50], latentDim: 5, initStd: 0 } }).namedWeights()[0]!.data;
    const limit = Math.sqrt(6 / (784 + 50));
    expect(Math.max(...Array.from(g).map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...Array.from(g).map(Math.abs))).toBeGreaterThan(0.9 * limit);
  });
});

describe('conv layers', () => {
  it('odd image sizes round-trip (14x14 -> 7 -> 4 -> 7 -> 14)', () => {
    const m = build({ model: { arch: 'conv', convChannels: [4, 6], latentDim: 2 } }, [14, 14, 1]);
    const x = tf.randomUniform([3, 196], 0, 1, 'float32', 1) as tf.Tensor2D;
    const out = m.decode(m.encode(x).mu);
    expect(out.params.shape).toEqual([3, 196]);
  });

  it('stride-2 conv and transposed conv (values and gradients) equal the cpu backend for even and odd sizes', async () => {
    const rnd = (n: number, a: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * a + 0.3));
    for (const [H, ih] of [
      [28, 14],
      [7, 4],
      [14, 7],
    ] as const) {
      const hs = rnd(3 * ih * ih * 5, 0.7);
      const xs = rnd(3 * H * H * 2, 0.2);
      const fs = rnd(3 * 3 * 2 * 5, 1.1);
      const ws = rnd(3 * H * H * 2, 0.13);
      const compute = () =>
        tf.tidy(() => {
          const h = tf.tensor4d(hs, [3, ih, ih, 5]);
          const x = tf.tensor4d(xs, [3, H, H, 2]);
          const f = tf.tensor4d(fs, [3, 3, 2, 5]);
          const up = conv2dTransposeSame(h, f, [3, H, H, 2], 2);
          const down = conv2dSame(x, f, 2);
          const g = tf.grads((hh: tf.Tensor, ff: tf.Tensor) =>
            tf.sum(tf.mul(conv2dTransposeSame(hh as tf.Tensor4D, ff as tf.Tensor4D, [3, H, H, 2], 2), tf.tensor(ws, [3, H, H, 2]))),
          )([h, f]);
          return [up, down, ...g].map((t) => Array.from(t.dataSync()));
        });
      const here = compute();
      await tf.setBackend('cpu');
      let ref: number[][];
      try {
        ref = compute();
      } finally {
        await tf.setBackend(backend);
      }
      expect(here[0]!.length).toBe(3 * H * H * 2);
      expect(here[1]!.length).toBe(3 * ih * ih * 5);
      here.forEach((a, j) => a.forEach((v, i) => expect(Math.abs(v - ref[j]![i]!)).toBeLessThan(1e-4)));
    }
  });

  it('the sub-pixel transposed conv equals the zero-dilation one (stride 2 and 3, odd sizes)', () => {
    const rnd = (shape: number[], a: number) =>
      tf.tensor(
        Float32Array.from({ length: shape.reduce((p, q) => p * q) }, (_, i) => Math.sin(i * a + 0.3)),
        shape,
      );
    for (const [H, s, k] of [
      [28, 2, 3],
      [7, 2, 3],
      [9, 3, 3],
      [10, 3, 4],
      [8, 2, 4],
    ] as const) {
      const ih = Math.ceil(H / s);
      const h = rnd([2, ih, ih, 3], 0.7) as tf.Tensor4D;
      const f = rnd([k, k, 4, 3], 1.3) as tf.Tensor4D;
      const a = transposedConvSubPixel(h, f, [2, H, H, 4], s).dataSync();
      const b = transposedConvViaConv(h, f, [2, H, H, 4], s).dataSync();
      expect(a.length).toBe(2 * H * H * 4);
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-4));
    }
  });

  it('gradients on the active backend equal the cpu backend (custom conv filter gradient on wasm)', async () => {
    const config = parseRunConfig({ seed: 9, model: { arch: 'conv', convChannels: [4, 6], latentDim: 3 } });
    const spec = modelSpecFromConfig(config, [10, 10, 1], 'image');
    const xData = Float32Array.from({ length: 2 * 100 }, (_, i) => ((i * 37) % 100) / 100);
    const grads = () => {
      const m = new VaeModel(spec);
      const x = tf.tensor2d(xData, [2, 100]);
      const { value, grads } = tf.variableGrads(
        () => trainingObjective(m, x, x, { kind: 'vae', estimator: 'analytic', samples: 1, iwSamples: 1, klWeight: 1, seed: 5 }).loss,
        m.variables(),
      );
      const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [m.stableName(k), Array.from(g.dataSync())]));
      const loss = value.dataSync()[0]!;
      tf.dispose([value, x, ...Object.values(grads)]);
      m.dispose();
      return { out, loss };
    };
    const here = grads();
    await tf.setBackend('cpu');
    let ref: ReturnType<typeof grads>;
    try {
      ref = grads();
    } finally {
      await tf.setBackend(backend);
    }
    expect(here.loss).toBeCloseTo(ref.loss, 2);
    for (const name of ['encoder/conv_0/kernel', 'encoder/conv_1/kernel', 'decoder/deconv_0/kernel', 'decoder/out/kernel']) {
      const a = here.out[name]!;
      const b = ref.out[name]!;
      const scale = Math.max(...b.map(Math.abs));
      expect(scale).toBeGreaterThan(0);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-3 * scale + 1e-5);
    }
  });
});

describe('gradient clipping', () => {
  it('scales to the global norm only when above it', () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])]; // global norm 5
    const clipped = clipByGlobalNorm(g, 1).map((t) => Array.from(t.dataSync()));
    expect(clipped[0]![0]).toBeCloseTo(0.6, 6);
    expect(clipped[1]![1]).toBeCloseTo(0.8, 6);
    const kept = clipByGlobalNorm(g, 10).map((t) => Array.from(t.dataSync()));
    expect(kept).toEqual([
      [3, 0],
      [0, 4],
    ]);
  });
});

describe('optimizer state', () => {
  it('export + import continues Adam exactly like the original', async () => {
    const config = parseRunConfig({ seed: 2, model: { hidden: [16], latentDim: 3 }, optimizer: { learningRate: 0.01 } });
    const spec = modelSpecFromConfig(config, [4, 4, 1], 'image');
    const x = tf.tensor2d(
      Float32Array.from({ length: 5 * 16 }, (_, i) => (i % 7) / 7),
      [5, 16],
    );
    const step = (m: VaeModel, o: tf.Optimizer, i: number) =>
      optimizerStep(
        o,
        m.variables(),
        () => trainingObjective(m, x, x, { kind: 'vae', estimator: 'analytic', samples: 1, iwSamples: 1, klWeight: 1, seed: i }).loss,
        0,
      );
    const a = new VaeModel(spec);
    const oa = createOptimizer(config.optimizer);
    for (let i = 0; i < 3; i++) step(a, oa, i);
    const state = await exportOptimizerState(oa, a);
    expect(state.iterations).toBe(3);
    expect(state.slots.map((s) => s.name)).toContain('encoder/dense_0/kernel/m');
    const b = new VaeModel(spec);
    b.loadNamedWeights(a.namedWeights());
    const ob = createOptimizer(config.optimizer);
    await importOptimizerState(ob, b, state);
    for (let i = 3; i < 6; i++) {
      step(a, oa, i);
      step(b, ob, i);
    }
    const wa = a.namedWeights();
    const wb = b.namedWeights();
    wa.forEach((w, i) => {
      const v = wb[i]!.data;
      w.data.forEach((u, j) => expect(Math.abs(u - v[j]!)).toBeLessThan(1e-6));
    });
    tf.dispose([x]);
    [a, b].forEach((m) => m.dispose());
    [oa, ob].forEach((o) => o.dispose());
  });
});

describe('corruption and binarization', () => {
  const x = tf.fill([50, 100], 0.5) as tf.Tensor2D;
  it('masking zeroes about the given fraction', () => {
    const y = corrupt(x, 'mask', 0.3, 1).dataSync();
    const zeros = Array.from(y).filter((v) => v === 0).length / y.length;
    expect(zeros).toBeGreaterThan(0.27);
    expect(zeros).toBeLessThan(0.33);
    expect(Array.from(y).every((v) => v === 0 || v === 0.5)).toBe(true);
  });
  it('gaussian noise has the given std and is clipped to [0,1]', () => {
    const y = Array.from(corrupt(x, 'gaussian', 0.1, 2).dataSync());
    const sd = Math.sqrt(y.reduce((s, v) => s + (v - 0.5) ** 2, 0) / y.length);
    expect(sd).toBeGreaterThan(0.095);
    expect(sd).toBeLessThan(0.105);
    const big = Array.from(corrupt(x, 'gaussian', 1, 3).dataSync());
    expect(Math.min(...big)).toBe(0);
    expect(Math.max(...big)).toBe(1);
  });
  it('dynamic binarization draws Bernoulli(x), seeded', () => {
    const a = Array.from(binarizeBatch(x, 4).dataSync());
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.03);
    expect(Array.from(binarizeBatch(x, 4).dataSync())).toEqual(a);
  });
});

describe('probit, manifold grid, PCA, fixed noise, PNG', () => {
  it('probit inverts the normal CDF', () => {
    expect(probit(0.975)).toBeCloseTo(1.959963985, 7);
    expect(probit(0.5)).toBe(0);
    expect(probit(0.05)).toBeCloseTo(-1.644853627, 7);
    expect(probit(1e-6)).toBeCloseTo(-4.753424309, 6);
    for (const p of [0.001, 0.02, 0.3, 0.7, 0.99]) expect(normalCdf(probit(p))).toBeCloseTo(p, 6);
    linspace(0.05, 0.95, 3).forEach((v, i) => expect(v).toBeCloseTo([0.05, 0.5, 0.95][i]!, 12));
    const z = manifoldCodes(3);
    expect(z[0]).toBeCloseTo(probit(0.05), 6); // top-left: smallest z1 ...
    expect(z[1]).toBeCloseTo(probit(0.95), 6); // ... largest z2
  });

  it('PCA finds the dominant direction', () => {
    const n = 500;
    const pts = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const t = (i / n - 0.5) * 10;
      const s = Math.sin(i) * 0.5;
      pts.set([t, 2 * t + s, 0.1 * Math.cos(i * 3)], i * 3);
    }
    const r = pca(pts, n, 3, 2);
    const c0 = Array.from(r.components.subarray(0, 3));
    expect(Math.abs(c0[1]! / c0[0]! - 2)).toBeLessThan(0.05);
    expect(r.explained[0]!).toBeGreaterThan(0.95);
  });

  it('prior noise depends only on the latent size', () => {
    expect(Array.from(fixedPriorNoise(16, 20))).toEqual(Array.from(fixedPriorNoise(16, 20)));
    expect(Array.from(fixedPriorNoise(16, 20).subarray(0, 2))).not.toEqual(Array.from(fixedPriorNoise(16, 2).subarray(0, 2)));
  });

  it('grids are cells of the image size with 1px gaps', () => {
    const imgs = new Float32Array(3 * 4 * 5).map((_, i) => (i % 20) / 19);
    const g = gridPng(imgs, 3, [4, 5, 1], 2, 2);
    expect([g.width, g.height]).toEqual([11, 9]);
    const back = readPng(g.png);
    expect([back.width, back.height]).toEqual([11, 9]);
    // First pixel of the second image: value 0 -> black; the gap column x = 5 is the background grey.
    expect(back.data[(0 * 11 + 6) * 4]).toBe(0);
    expect(back.data[(0 * 11 + 5) * 4]).toBe(128);
    expect(back.data[(3 * 11 + 4) * 4]).toBe(255); // last pixel of the first image (value 1)
  });
});
