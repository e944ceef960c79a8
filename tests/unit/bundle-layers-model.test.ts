import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '@shared/run-config';
import { expectedWeightShapes, type InputShape } from '../../src-main/checkpoints/architecture';
import type { NamedTensor } from '../../src-main/checkpoints/checkpoint-dir';
import { buildLayersModels, LayersExportError, type LayersModelFiles, type LayersModelJson } from '../../src-main/checkpoints/layers-model';
import { initBackend } from '../../src-main/train/compute/backend';
import { decoderMean } from '../../src-main/vae/likelihood';
import { modelSpecFromConfig, VaeModel } from '../../src-main/vae/model';

function config(model: RunConfigInput['model'], seed = 3): RunConfig {
  return parseRunConfig({ seed, model });
}

/** Deterministic pseudo-random values in [lo, hi). */
function values(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + (hi - lo) * (s / 2 ** 32);
  }
  return out;
}

/** A model whose weights are all non-trivial (biases are zero after init; randomize everything). */
function randomizedModel(cfg: RunConfig, shape: InputShape, kind: 'image' | 'series'): VaeModel {
  const model = new VaeModel(modelSpecFromConfig(cfg, shape, kind));
  model.loadNamedWeights(model.namedWeights().map((w, i) => ({ ...w, data: values(w.data.length, 100 + i, -0.3, 0.3) })));
  return model;
}

async function load(files: LayersModelFiles): Promise<tf.LayersModel> {
  const json = JSON.parse(files.modelJson) as LayersModelJson;
  expect(json.format).toBe('layers-model');
  expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
  const weightData = files.weightsBin.slice().buffer;
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as unknown as tf.io.ModelJSON['modelTopology'],
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData,
    }),
  );
}

function maxAbsDiff(a: Float32Array | number[], b: Float32Array | number[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

interface Case {
  label: string;
  cfg: RunConfig;
  shape: InputShape;
  kind: 'image' | 'series';
}

const cases: Case[] = [
  { label: 'mlp vae 784-400-20 (bernoulli, relu)', cfg: config({ hidden: [400], latentDim: 20 }), shape: [28, 28, 1], kind: 'image' },
  {
    label: 'mlp iwae two hidden layers, tanh, gaussian-learned',
    cfg: parseRunConfig({
      model: { kind: 'iwae', hidden: [12, 8], activation: 'tanh', latentDim: 3, likelihood: 'gaussian-learned' },
      objective: { iwSamples: 2 },
    }),
    shape: [4, 5, 1],
    kind: 'image',
  },
  {
    label: 'mlp ae no hidden layer, gaussian series',
    cfg: config({ kind: 'ae', hidden: [], latentDim: 2, likelihood: 'gaussian' }),
    shape: [1, 9, 1],
    kind: 'series',
  },
  {
    label: 'mlp dae leakyRelu, elu mixed',
    cfg: config({ kind: 'dae', hidden: [6], activation: 'leakyRelu', latentDim: 2 }),
    shape: [3, 3, 1],
    kind: 'image',
  },
  {
    label: 'conv vae on odd 7x7x1 (crops), softplus',
    cfg: config({ arch: 'conv', convChannels: [2, 3], activation: 'softplus', latentDim: 2 }),
    shape: [7, 7, 1],
    kind: 'image',
  },
  {
    label: 'conv vae 8x6x3 three layers, leakyRelu, gaussian',
    cfg: config({ arch: 'conv', convChannels: [2, 3, 4], activation: 'leakyRelu', latentDim: 3, likelihood: 'gaussian' }),
    shape: [8, 6, 3],
    kind: 'image',
  },
  {
    label: 'conv ae 28x28x1 one layer, elu',
    cfg: config({ kind: 'ae', arch: 'conv', convChannels: [4], activation: 'elu', latentDim: 2 }),
    shape: [28, 28, 1],
    kind: 'image',
  },
];

describe('architecture: expectedWeightShapes mirrors VaeModel', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const c of cases) {
    it(c.label, () => {
      const model = new VaeModel(modelSpecFromConfig(c.cfg, c.shape, c.kind));
      try {
        const actual = model.namedWeights().map((w) => ({ name: w.name, shape: w.shape }));
        expect(expectedWeightShapes(c.cfg, c.shape)).toEqual(actual);
      } finally {
        model.dispose();
      }
    });
  }

  it('gmm: log weights, means, log variances', () => {
    const cfg = config({ kind: 'gmm', components: 4 });
    expect(expectedWeightShapes(cfg, [28, 28, 1])).toEqual([
      { name: 'gmm/log_weights', shape: [4] },
      { name: 'gmm/means', shape: [4, 784] },
      { name: 'gmm/log_vars', shape: [4, 784] },
    ]);
  });
});

describe('layers-model export loads in tfjs and predicts what the model computes', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const c of cases) {
    it(c.label, async () => {
      const model = randomizedModel(c.cfg, c.shape, c.kind);
      const files = buildLayersModels(c.cfg, { shape: c.shape, kind: c.kind }, model.namedWeights())!;
      const [encoder, decoder] = [await load(files.encoder), await load(files.decoder)];
      try {
        const d = c.shape[0] * c.shape[1] * c.shape[2];
        const D = c.cfg.model.latentDim;
        const n = 5;
        const x = tf.tensor2d(values(n * d, 7, 0, 1), [n, d]);
        const z = tf.tensor2d(values(n * D, 8, -2, 2), [n, D]);
        const gotEnc = encoder.predict(x) as tf.Tensor;
        // (predict first: VaeModel.encode disposes its input when the MLP has no hidden layer)
        const { mu, logvar } = model.encode(x.clone());
        const expectedEnc = logvar ? tf.concat([mu, logvar], 1) : mu;
        expect(gotEnc.shape).toEqual([n, logvar ? 2 * D : D]);
        expect(maxAbsDiff(gotEnc.dataSync() as Float32Array, expectedEnc.dataSync() as Float32Array)).toBeLessThan(1e-5);
        const out = model.decode(z);
        const expectedDec = decoderMean(out);
        const gotDec = decoder.predict(z) as tf.Tensor;
        expect(gotDec.shape).toEqual([n, d]);
        expect(maxAbsDiff(gotDec.dataSync() as Float32Array, expectedDec.dataSync() as Float32Array)).toBeLessThan(1e-5);
        tf.dispose([x, z, mu, expectedEnc, gotEnc, out.params, expectedDec, gotDec]);
        logvar?.dispose();
        if (out.kind === 'gaussian') out.logSigma.dispose();
      } finally {
        encoder.dispose();
        decoder.dispose();
        model.dispose();
      }
    });
  }

  it('equals x @ W + b with the activation, computed by hand (tiny mlp)', async () => {
    const cfg = config({ hidden: [3], activation: 'tanh', latentDim: 2 });
    const shape: InputShape = [1, 4, 1];
    const weights: NamedTensor[] = expectedWeightShapes(cfg, shape).map((e, i) => ({
      ...e,
      data: values(
        e.shape.reduce((a, b) => a * b, 1),
        50 + i,
      ),
    }));
    const w = new Map(weights.map((t) => [t.name, t.data]));
    const affine = (x: number[], k: Float32Array, b: Float32Array, nIn: number, nOut: number) =>
      Array.from({ length: nOut }, (_, j) => x.reduce((s, xi, i) => s + xi * k[i * nOut + j]!, b[j]!));
    const x = [0.1, 0.9, 0.4, 0.0];
    const h = affine(x, w.get('encoder/dense_0/kernel')!, w.get('encoder/dense_0/bias')!, 4, 3).map(Math.tanh);
    const mu = affine(h, w.get('encoder/mu/kernel')!, w.get('encoder/mu/bias')!, 3, 2);
    const logvar = affine(h, w.get('encoder/logvar/kernel')!, w.get('encoder/logvar/bias')!, 3, 2);
    const z = [0.5, -1.5];
    const hd = affine(z, w.get('decoder/dense_0/kernel')!, w.get('decoder/dense_0/bias')!, 2, 3).map(Math.tanh);
    const mean = affine(hd, w.get('decoder/out/kernel')!, w.get('decoder/out/bias')!, 3, 4).map((v) => 1 / (1 + Math.exp(-v)));

    const files = buildLayersModels(cfg, { shape, kind: 'image' }, weights)!;
    const encoder = await load(files.encoder);
    const decoder = await load(files.decoder);
    const enc = encoder.predict(tf.tensor2d([x])) as tf.Tensor;
    const dec = decoder.predict(tf.tensor2d([z])) as tf.Tensor;
    expect(maxAbsDiff(Array.from(enc.dataSync()), [...mu, ...logvar])).toBeLessThan(1e-5);
    expect(maxAbsDiff(Array.from(dec.dataSync()), mean)).toBeLessThan(1e-5);
    encoder.dispose();
    decoder.dispose();
  });

  it('refuses weights that do not fit the config, naming the weight', () => {
    const cfg = config({ hidden: [3], latentDim: 2 });
    const weights: NamedTensor[] = expectedWeightShapes(cfg, [1, 4, 1]).map((e) => ({
      ...e,
      data: new Float32Array(e.shape.reduce((a, b) => a * b, 1)),
    }));
    expect(() => buildLayersModels(cfg, { shape: [1, 5, 1], kind: 'series' }, weights)).toThrow(
      /encoder\/dense_0\/kernel.*\[4, 3\].*\[5, 3\]/,
    );
    expect(() => buildLayersModels(cfg, { shape: [1, 4, 1], kind: 'series' }, weights.slice(1))).toThrow(LayersExportError);
    expect(buildLayersModels(config({ kind: 'gmm' }), { shape: [1, 4, 1], kind: 'series' }, [])).toBeNull();
  });
});
