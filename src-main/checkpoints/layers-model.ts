// A run's encoder and decoder as TensorFlow.js LayersModels (model.json + one weights .bin each), built from
// the checkpoint's named weights without tfjs: the topology JSON is written by hand in the form tfjs-layers
// 4.x serializes, and tests load it back with tf.loadLayersModel and compare predict() with the VaeModel.
//
// Both models take and return FLAT rows, as the app's data does (images row-major [h, w, c]):
//   encoder: input [d] -> output [2 * latentDim] = [mu | logvar] concatenated (vae, iwae): one Sequential with a
//            single head "mu_logvar" whose kernel is [mu kernel | logvar kernel] column-wise, so the first
//            latentDim outputs are mu and the next latentDim are log sigma^2. For ae/dae the head is "mu" and
//            the output is the code [latentDim].
//            (Chosen over a two-output functional model: a Sequential loads the same way everywhere, and
//            slicing the output is one line for a user.)
//   decoder: input [latentDim] -> output [d] = the MEAN of p(x|z) in data space: sigmoid(logits) for a
//            bernoulli decoder; for gaussian decoders sigmoid(out) on image datasets, out on series.
//            A learned variance (decoder/logsigma) is not part of the LayersModel; it is in weights.safetensors.
// conv arch: the encoder starts with Reshape [h, w, c] and ends its conv stack with Flatten; the decoder reshapes
// its first dense layer's output to the last feature map and ends with Flatten. Where the model's transposed
// conv targets an odd size (2n - 1), the Keras layer gives 2n and a Cropping2D removes the first row/column,
// which is exactly what tf.conv2dTranspose with an explicit odd output shape and padding 'same' computes.
// leakyRelu (alpha 0.2, as the model uses) becomes a linear layer followed by a LeakyReLU layer.
// gmm runs have no network: buildLayersModels returns null for them.
import type { RunConfig } from '@shared/run-config';
import { convSpatialSizes, expectedWeightShapes, hasLogvar, type InputShape } from './architecture';
import type { NamedTensor } from './checkpoint-dir';
import { ApiError } from '@shared/errors';

export const TFJS_LAYERS_VERSION = 'tfjs-layers 4.22.0';
export const LEAKY_RELU_ALPHA = 0.2;
export const WEIGHTS_FILE = 'weights.bin';

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface LayersModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Sequential';
    config: { name: string; layers: LayerJson[] };
    keras_version: string;
    backend: 'tensor_flow.js';
  };
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

export interface LayerJson {
  class_name: string;
  config: Record<string, unknown>;
}

export interface LayersModelFiles {
  /** model.json text (references WEIGHTS_FILE beside it). */
  modelJson: string;
  /** The weights, float32 little-endian, in weightsManifest order. */
  weightsBin: Uint8Array;
}

export interface ExportedModels {
  encoder: LayersModelFiles;
  decoder: LayersModelFiles;
}

export interface DatasetShapeInfo {
  /** [h, w, c] of one example. */
  shape: InputShape;
  kind: 'image' | 'series';
}

export class LayersExportError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'LayersExportError';
  }
}

type Act = RunConfig['model']['activation'] | 'linear';

/** One Keras layer being assembled: its JSON and its weights (in the order tfjs expects them). */
class SequentialBuilder {
  readonly layers: LayerJson[] = [];
  readonly weights: { spec: WeightSpec; data: Float32Array }[] = [];
  private first = true;

  constructor(private readonly inputDim: number) {}

  private common(name: string): Record<string, unknown> {
    const c: Record<string, unknown> = { name, trainable: true };
    if (this.first) {
      c.batch_input_shape = [null, this.inputDim];
      c.dtype = 'float32';
      this.first = false;
    }
    return c;
  }

  private addWeight(layer: string, kind: 'kernel' | 'bias', shape: number[], data: Float32Array) {
    this.weights.push({ spec: { name: `${layer}/${kind}`, shape, dtype: 'float32' }, data });
  }

  /** The activation string for the layer itself, plus a LeakyReLU layer after it where needed. */
  private activation(name: string, act: Act): { inLayer: string; after: LayerJson | null } {
    if (act === 'leakyRelu')
      return {
        inLayer: 'linear',
        after: { class_name: 'LeakyReLU', config: { alpha: LEAKY_RELU_ALPHA, name: `${name}_act`, trainable: true } },
      };
    return { inLayer: act, after: null };
  }

  dense(name: string, kernel: NamedTensor, bias: NamedTensor, act: Act) {
    const { inLayer, after } = this.activation(name, act);
    this.layers.push({
      class_name: 'Dense',
      config: {
        units: bias.shape[0],
        activation: inLayer,
        use_bias: true,
        kernel_initializer: INIT_GLOROT,
        bias_initializer: INIT_ZEROS,
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
        ...this.common(name),
      },
    });
    this.addWeight(name, 'kernel', kernel.shape, kernel.data);
    this.addWeight(name, 'bias', bias.shape, bias.data);
    if (after) this.layers.push(after);
  }

  conv(className: 'Conv2D' | 'Conv2DTranspose', name: string, kernel: NamedTensor, bias: NamedTensor, act: Act) {
    const { inLayer, after } = this.activation(name, act);
    const config: Record<string, unknown> = {
      filters: bias.shape[0],
      kernel_initializer: INIT_GLOROT,
      kernel_regularizer: null,
      kernel_constraint: null,
      kernel_size: [kernel.shape[0], kernel.shape[1]],
      strides: [2, 2],
      padding: 'same',
      data_format: 'channels_last',
      activation: inLayer,
      use_bias: true,
      bias_initializer: INIT_ZEROS,
      bias_regularizer: null,
      activity_regularizer: null,
      bias_constraint: null,
      ...this.common(name),
    };
    if (className === 'Conv2D') config.dilation_rate = [1, 1];
    this.layers.push({ class_name: className, config });
    this.addWeight(name, 'kernel', kernel.shape, kernel.data);
    this.addWeight(name, 'bias', bias.shape, bias.data);
    if (after) this.layers.push(after);
  }

  reshape(name: string, target: number[]) {
    this.layers.push({ class_name: 'Reshape', config: { target_shape: target, ...this.common(name) } });
  }

  flatten(name: string) {
    this.layers.push({ class_name: 'Flatten', config: { ...this.common(name) } });
  }

  /** Remove `top` rows and `left` columns (0 or 1 each). */
  cropTopLeft(name: string, top: number, left: number) {
    if (!top && !left) return;
    this.layers.push({
      class_name: 'Cropping2D',
      config: {
        cropping: [
          [top, 0],
          [left, 0],
        ],
        data_format: 'channels_last',
        ...this.common(name),
      },
    });
  }

  files(modelName: string, generatedBy: string, metadata: Record<string, unknown>): LayersModelFiles {
    const json: LayersModelJson = {
      format: 'layers-model',
      generatedBy,
      convertedBy: null,
      modelTopology: {
        class_name: 'Sequential',
        config: { name: modelName, layers: this.layers },
        keras_version: TFJS_LAYERS_VERSION,
        backend: 'tensor_flow.js',
      },
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: this.weights.map((w) => w.spec) }],
      userDefinedMetadata: metadata,
    };
    return { modelJson: JSON.stringify(json, null, 1), weightsBin: float32Concat(this.weights.map((w) => w.data)) };
  }
}

const INIT_GLOROT = { class_name: 'VarianceScaling', config: { scale: 1, mode: 'fan_avg', distribution: 'normal', seed: null } };
const INIT_ZEROS = { class_name: 'Zeros', config: {} };

function float32Concat(parts: Float32Array[]): Uint8Array {
  const total = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(total * 4);
  const view = new DataView(out.buffer);
  let pos = 0;
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) view.setFloat32(pos + i * 4, p[i]!, true);
    pos += p.length * 4;
  }
  return out;
}

/** Concatenate two [rows, a] and [rows, b] row-major matrices column-wise into [rows, a + b]. */
function concatColumns(x: NamedTensor, y: NamedTensor, name: string): NamedTensor {
  const [rows, a] = x.shape as [number, number];
  const b = y.shape[1]!;
  const data = new Float32Array(rows * (a + b));
  for (let r = 0; r < rows; r++) {
    data.set(x.data.subarray(r * a, (r + 1) * a), r * (a + b));
    data.set(y.data.subarray(r * b, (r + 1) * b), r * (a + b) + a);
  }
  return { name, shape: [rows, a + b], data };
}

function concat1d(x: NamedTensor, y: NamedTensor, name: string): NamedTensor {
  const data = new Float32Array(x.data.length + y.data.length);
  data.set(x.data);
  data.set(y.data, x.data.length);
  return { name, shape: [data.length], data };
}

/** The decoder's output activation: maps its last layer's output to the mean of p(x|z). */
export function decoderMeanActivation(config: RunConfig, kind: DatasetShapeInfo['kind']): 'sigmoid' | 'linear' {
  if (config.model.likelihood === 'bernoulli') return 'sigmoid';
  return kind === 'image' ? 'sigmoid' : 'linear';
}

/** Every weight the config implies must be present with its shape (LayersExportError names the first that is not). */
function checkWeightShapes(config: RunConfig, dataset: DatasetShapeInfo, byName: Map<string, NamedTensor>): void {
  for (const e of expectedWeightShapes(config, dataset.shape)) {
    const w = byName.get(e.name);
    if (!w) throw new LayersExportError(`weight "${e.name}" is missing`);
    if (w.shape.length !== e.shape.length || w.shape.some((s, i) => s !== e.shape[i]))
      throw new LayersExportError(`weight "${e.name}" has shape [${w.shape.join(', ')}], the config implies [${e.shape.join(', ')}]`);
  }
}

/** The encoder: flat rows in, [mu | logvar] (or mu alone) out. */
function buildEncoder(config: RunConfig, dataset: DatasetShapeInfo, get: (name: string) => NamedTensor): SequentialBuilder {
  const m = config.model;
  const [H, W, C] = dataset.shape;
  const d = H * W * C;
  const act: Act = m.activation;
  const enc = new SequentialBuilder(d);
  if (m.arch === 'mlp') {
    m.hidden.forEach((_, i) => enc.dense(`dense_${i}`, get(`encoder/dense_${i}/kernel`), get(`encoder/dense_${i}/bias`), act));
  } else {
    enc.reshape('to_image', [H, W, C]);
    m.convChannels.forEach((_, i) => enc.conv('Conv2D', `conv_${i}`, get(`encoder/conv_${i}/kernel`), get(`encoder/conv_${i}/bias`), act));
    enc.flatten('flatten');
  }
  const stochastic = hasLogvar(config);
  if (stochastic) {
    enc.dense(
      'mu_logvar',
      concatColumns(get('encoder/mu/kernel'), get('encoder/logvar/kernel'), 'mu_logvar/kernel'),
      concat1d(get('encoder/mu/bias'), get('encoder/logvar/bias'), 'mu_logvar/bias'),
      'linear',
    );
  } else {
    enc.dense('mu', get('encoder/mu/kernel'), get('encoder/mu/bias'), 'linear');
  }
  return enc;
}

/** The decoder: latent vectors in, the mean of p(x|z) (after meanAct) as flat rows out. */
function buildDecoder(
  config: RunConfig,
  dataset: DatasetShapeInfo,
  get: (name: string) => NamedTensor,
  meanAct: 'sigmoid' | 'linear',
): SequentialBuilder {
  const m = config.model;
  const [H, W] = dataset.shape;
  const D = m.latentDim;
  const act: Act = m.activation;
  const spatial = convSpatialSizes(dataset.shape, m.convChannels.length);
  const dec = new SequentialBuilder(D);
  if (m.arch === 'mlp') {
    m.hidden.forEach((_, i) => dec.dense(`dense_${i}`, get(`decoder/dense_${i}/kernel`), get(`decoder/dense_${i}/bias`), act));
    dec.dense('out', get('decoder/out/kernel'), get('decoder/out/bias'), meanAct);
  } else {
    const chans = m.convChannels;
    const n = chans.length;
    const [hn, wn] = spatial[n]!;
    dec.dense('dense_0', get('decoder/dense_0/kernel'), get('decoder/dense_0/bias'), act);
    dec.reshape('to_feature_map', [hn, wn, chans[n - 1]!]);
    let [h, w] = [hn, wn];
    for (let j = 0; j < n - 1; j++) {
      const [th, tw] = spatial[n - 1 - j]!;
      dec.conv('Conv2DTranspose', `deconv_${j}`, get(`decoder/deconv_${j}/kernel`), get(`decoder/deconv_${j}/bias`), act);
      dec.cropTopLeft(`deconv_${j}_crop`, 2 * h - th, 2 * w - tw);
      [h, w] = [th, tw];
    }
    dec.conv('Conv2DTranspose', 'out', get('decoder/out/kernel'), get('decoder/out/bias'), meanAct);
    dec.cropTopLeft('out_crop', 2 * h - H, 2 * w - W);
    dec.flatten('flatten');
  }
  return dec;
}

/**
 * Build the encoder and decoder LayersModels from the run's named weights. Every weight the config implies must
 * be present with its shape (LayersExportError names the first that is not). Returns null for gmm runs.
 */
export function buildLayersModels(
  config: RunConfig,
  dataset: DatasetShapeInfo,
  weights: NamedTensor[],
  generatedBy = 'VAE Workbench',
): ExportedModels | null {
  const m = config.model;
  if (m.kind === 'gmm') return null;
  const byName = new Map(weights.map((w) => [w.name, w]));
  checkWeightShapes(config, dataset, byName);
  const get = (name: string) => byName.get(name)!;
  const [H, W, C] = dataset.shape;
  const d = H * W * C;
  const D = m.latentDim;

  // ---- encoder
  const enc = buildEncoder(config, dataset, get);
  const stochastic = hasLogvar(config);

  // ---- decoder
  const meanAct = decoderMeanActivation(config, dataset.kind);
  const dec = buildDecoder(config, dataset, get, meanAct);

  const common = { kind: m.kind, arch: m.arch, latentDim: D, inputShape: dataset.shape, likelihood: m.likelihood };
  return {
    encoder: enc.files('encoder', generatedBy, {
      vaeWorkbench: {
        ...common,
        role: 'encoder',
        input: `flat rows of ${d} values (row-major [h, w, c] = [${H}, ${W}, ${C}])`,
        output: stochastic
          ? `[mu | logvar]: columns 0..${D - 1} are the mean of q(z|x), columns ${D}..${2 * D - 1} its log variance`
          : `the code z (${D} values)`,
      },
    }),
    decoder: dec.files('decoder', generatedBy, {
      vaeWorkbench: {
        ...common,
        role: 'decoder',
        input: `latent vectors of ${D} values`,
        output: `the mean of p(x|z) as flat rows of ${d} values (${meanAct} of the last layer)`,
      },
    }),
  };
}
