// The VAE / autoencoder network, built from raw tf.Variables so every weight has a stable, documented name.
//
// WEIGHT NAMES (used by checkpoints and by the exporters to safetensors / tfjs LayersModel):
//   Dense kernels are [in, out] (y = x @ kernel + bias); conv kernels are [kh, kw, inC, outC] (tf.conv2d,
//   stride 2, padding 'same'); transposed-conv kernels are [kh, kw, outC, inC] (tf.conv2dTranspose, stride 2,
//   padding 'same'); kernel size CONV_KERNEL_SIZE (weight-layout.ts, which lists
//   these weights in creation order). Images are flattened row-major in [h, w, c] order.
//   MLP (arch 'mlp', hidden = [h0, h1, ...]):
//     encoder/dense_{i}/kernel [in_i, h_i], encoder/dense_{i}/bias [h_i]       activation = model.activation
//     encoder/mu/kernel [h_last, D], encoder/mu/bias [D]                          linear (the code for ae/dae)
//     encoder/logvar/kernel [h_last, D], encoder/logvar/bias [D]                  linear; only vae and iwae
//     decoder/dense_{i}/kernel, decoder/dense_{i}/bias   hidden sizes mirrored: [D, h_last], ..., [h_1, h_0]
//     decoder/out/kernel [h_0, d], decoder/out/bias [d]                           linear: logits (bernoulli)
//                                                         or the mean before `meanActivation` (gaussian*)
//   CONV (arch 'conv', convChannels = [c0, c1, ...], image [h, w, c]):
//     encoder/conv_{i}/kernel [k, k, in_i, c_i], encoder/conv_{i}/bias [c_i]    stride 2, activation
//     encoder/mu/*, encoder/logvar/*   dense from the flattened last feature map [h_n * w_n * c_last]
//     decoder/dense_0/kernel [D, h_n * w_n * c_last], bias                       activation, reshaped to [h_n, w_n, c_last]
//     decoder/deconv_{j}/kernel [k, k, c_{n-2-j}, c_{n-1-j}], bias             stride 2, activation (j = 0..n-2)
//     decoder/out/kernel [k, k, c, c0], decoder/out/bias [c]                   stride 2, linear, output [h, w, c]
//     (h_{i+1} = ceil(h_i / 2); each transposed conv is given its target size explicitly)
//   Both archs, likelihood 'gaussian-learned':
//     decoder/logsigma [d]   per-pixel log standard deviation; effective log sigma = max(logsigma, log(sigmaFloor))
//   Gaussian decoders' mean = sigmoid(out) for image datasets ('sigmoid'), out itself for series ('linear').
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '@shared/run-config';
import type { NamedTensor } from './named-tensor';
import { conv2dSame, conv2dTransposeSame } from './conv-ops';
import { deriveSeed, SEED_STREAM } from './seeds';
import type { DecoderOutput, EncoderOutput, LatentModel, Likelihood } from './types';
import { tensorValues } from '../kernels/wasm-heap';
import { convSpatialSizes, isStochastic, weightLayout } from './weight-layout';

export type Activation = RunConfig['model']['activation'];

export interface ModelSpec {
  kind: 'vae' | 'ae' | 'dae' | 'iwae';
  arch: 'mlp' | 'conv';
  /** [h, w, c] of one example. */
  shape: [number, number, number];
  hidden: number[];
  activation: Activation;
  latentDim: number;
  likelihood: Likelihood;
  sigma: number;
  sigmaFloor: number;
  convChannels: number[];
  initStd: number;
  meanActivation: 'sigmoid' | 'linear';
  seed: number;
}

export function modelSpecFromConfig(config: RunConfig, shape: [number, number, number], datasetKind: 'image' | 'series'): ModelSpec {
  const m = config.model;
  if (m.kind === 'gmm') throw new Error('model.kind "gmm" is not a neural network; fit it with fitGmm');
  if (m.arch === 'conv' && datasetKind !== 'image') throw new Error('model.arch "conv" needs an image dataset');
  return {
    kind: m.kind,
    arch: m.arch,
    shape,
    hidden: [...m.hidden],
    activation: m.activation,
    latentDim: m.latentDim,
    likelihood: m.likelihood,
    sigma: m.sigma,
    sigmaFloor: m.sigmaFloor,
    convChannels: [...m.convChannels],
    initStd: m.initStd,
    meanActivation: datasetKind === 'image' ? 'sigmoid' : 'linear',
    seed: config.seed,
  };
}

export function applyActivation(x: tf.Tensor, activation: Activation | 'linear'): tf.Tensor {
  switch (activation) {
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
    case 'elu':
      return tf.elu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'softplus':
      return tf.softplus(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, 0.2);
    case 'linear':
      return x;
  }
}

/** Dense layer; relu and linear go through tf.fused.matMul (bias and activation fused where the backend can). */
export function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D, activation: Activation | 'linear'): tf.Tensor2D {
  if (activation === 'relu' || activation === 'linear') return tf.fused.matMul({ a: x, b: kernel, bias, activation }) as tf.Tensor2D;
  return tf.tidy(() => applyActivation(tf.fused.matMul({ a: x, b: kernel, bias }), activation)) as tf.Tensor2D;
}

let modelCounter = 0;

export class VaeModel implements LatentModel {
  readonly latentDim: number;
  readonly d: number;
  readonly stochastic: boolean;
  /** Stable name -> variable, in creation order (the order gradients and optimizer slots use). */
  readonly weights = new Map<string, tf.Variable>();
  private readonly prefix: string;
  private readonly spatial: [number, number][] = [];
  private readonly logSigmaFloor: number;

  constructor(readonly spec: ModelSpec) {
    this.latentDim = spec.latentDim;
    this.d = spec.shape[0] * spec.shape[1] * spec.shape[2];
    this.stochastic = isStochastic(spec.kind);
    this.prefix = `vae${++modelCounter}_${Date.now().toString(36)}/`;
    this.logSigmaFloor = Math.log(spec.sigmaFloor);
    this.build();
  }

  private add(name: string, shape: number[], init: 'weight' | 'zeros', fanIn = 0, fanOut = 0): void {
    const seed = deriveSeed(this.spec.seed, SEED_STREAM.init, this.weights.size);
    const value = tf.tidy(() => {
      if (init === 'zeros') return tf.zeros(shape);
      if (this.spec.initStd > 0) return tf.randomNormal(shape, 0, this.spec.initStd, 'float32', seed);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      return tf.randomUniform(shape, -limit, limit, 'float32', seed);
    });
    this.weights.set(name, tf.variable(value, true, this.prefix + name));
    value.dispose();
  }

  /** Creates every weight of the layout (weight-layout.ts) in its order; conv models also keep their map sizes. */
  private build(): void {
    for (const slot of weightLayout(this.spec)) this.add(slot.name, slot.shape, slot.init, slot.fanIn, slot.fanOut);
    if (this.spec.arch === 'conv') this.spatial.push(...convSpatialSizes(this.spec.shape, this.spec.convChannels.length));
  }

  private w<R extends tf.Rank>(name: string): tf.Tensor<R> {
    const v = this.weights.get(name);
    if (!v) throw new Error(`model has no weight "${name}"`);
    return v as unknown as tf.Tensor<R>;
  }

  encode(x: tf.Tensor2D): EncoderOutput {
    const { spec } = this;
    const features = tf.tidy(() => {
      if (spec.arch === 'mlp') {
        let h: tf.Tensor2D = x;
        spec.hidden.forEach((_, i) => {
          h = dense(h, this.w(`encoder/dense_${i}/kernel`), this.w(`encoder/dense_${i}/bias`), spec.activation);
        });
        return h;
      }
      const [hh, ww, cc] = spec.shape;
      let h: tf.Tensor4D = tf.reshape(x, [-1, hh, ww, cc]);
      spec.convChannels.forEach((_, i) => {
        const conv = tf.add(conv2dSame(h, this.w<tf.Rank.R4>(`encoder/conv_${i}/kernel`), 2), this.w(`encoder/conv_${i}/bias`));
        h = applyActivation(conv, spec.activation) as tf.Tensor4D;
      });
      return tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    });
    const mu = dense(features, this.w('encoder/mu/kernel'), this.w('encoder/mu/bias'), 'linear');
    const logvar = this.stochastic ? dense(features, this.w('encoder/logvar/kernel'), this.w('encoder/logvar/bias'), 'linear') : null;
    features.dispose();
    return { mu, logvar };
  }

  decode(z: tf.Tensor2D): DecoderOutput {
    const { spec } = this;
    const out = tf.tidy(() => {
      if (spec.arch === 'mlp') {
        let h: tf.Tensor2D = z;
        spec.hidden.forEach((_, i) => {
          h = dense(h, this.w(`decoder/dense_${i}/kernel`), this.w(`decoder/dense_${i}/bias`), spec.activation);
        });
        return dense(h, this.w('decoder/out/kernel'), this.w('decoder/out/bias'), 'linear');
      }
      const chans = spec.convChannels;
      const n = chans.length;
      const [hn, wn] = this.spatial[n]!;
      const flat = dense(z, this.w('decoder/dense_0/kernel'), this.w('decoder/dense_0/bias'), spec.activation);
      let h: tf.Tensor4D = tf.reshape(flat, [-1, hn, wn, chans[n - 1]!]);
      const batch = h.shape[0];
      for (let j = 0; j < n - 1; j++) {
        const [th, tw] = this.spatial[n - 1 - j]!;
        const cout = chans[n - 2 - j]!;
        const up = conv2dTransposeSame(h, this.w<tf.Rank.R4>(`decoder/deconv_${j}/kernel`), [batch, th, tw, cout], 2);
        h = applyActivation(tf.add(up, this.w(`decoder/deconv_${j}/bias`)), spec.activation) as tf.Tensor4D;
      }
      const [H, W, C] = spec.shape;
      const img = tf.add(conv2dTransposeSame(h, this.w<tf.Rank.R4>('decoder/out/kernel'), [batch, H, W, C], 2), this.w('decoder/out/bias'));
      return tf.reshape(img, [batch, H * W * C]) as tf.Tensor2D;
    });
    if (spec.likelihood === 'bernoulli') return { kind: 'bernoulli', params: out };
    const mean = spec.meanActivation === 'sigmoid' ? tf.tidy(() => tf.sigmoid(out) as tf.Tensor2D) : out;
    if (mean !== out) out.dispose();
    const logSigma =
      spec.likelihood === 'gaussian'
        ? tf.fill([1, this.d], Math.log(spec.sigma))
        : tf.tidy(() => tf.reshape(tf.maximum(this.w('decoder/logsigma'), this.logSigmaFloor), [1, this.d]));
    return { kind: 'gaussian', params: mean, logSigma };
  }

  /** Variables in creation order (the order of gradients and optimizer slots). */
  variables(): tf.Variable[] {
    return [...this.weights.values()];
  }

  /** The backend's unique name of a weight's variable (optimizer slots are keyed by it). */
  variableName(stableName: string): string {
    return this.prefix + stableName;
  }

  stableName(variableName: string): string {
    return variableName.startsWith(this.prefix) ? variableName.slice(this.prefix.length) : variableName;
  }

  /** A copy of every weight under its stable name. */
  namedWeights(): NamedTensor[] {
    return [...this.weights.entries()].map(([name, v]) => ({
      name,
      shape: [...v.shape],
      data: tensorValues(v),
    }));
  }

  /** Assign weights by stable name; every weight of the model must be present with the right shape. */
  loadNamedWeights(list: NamedTensor[]): void {
    const byName = new Map(list.map((t) => [t.name, t]));
    for (const [name, v] of this.weights) {
      const t = byName.get(name);
      if (!t) throw new Error(`checkpoint has no weight "${name}"`);
      if (t.shape.length !== v.shape.length || t.shape.some((s, i) => s !== v.shape[i]))
        throw new Error(`weight "${name}": checkpoint shape [${t.shape.join(', ')}] differs from the model's [${v.shape.join(', ')}]`);
      tf.tidy(() => v.assign(tf.tensor(t.data, t.shape)));
    }
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.weights.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
  }
}
