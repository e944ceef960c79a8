// The weights a run's model has, by name and shape, derived from its config and the dataset's example shape
// alone (no tfjs). Mirrors VaeModel.build in src-main/vae/model.ts (whose header documents the names) and
// GmmModel.toNamedTensors in src-main/vae/gmm.ts; tests/unit/bundle-architecture.test.ts checks the mirror
// against real models, so a change there that is not made here fails a test.
import type { RunConfig } from '@shared/run-config';

/** [height, width, channels] of one example ([1, d, 1] for series). */
export type InputShape = [number, number, number];

export interface WeightShape {
  name: string;
  shape: number[];
}

/** Kernel size of every conv / transposed-conv layer (VaeModel's CONV_KERNEL_SIZE). */
export const CONV_KERNEL = 3;

/** Spatial sizes of the conv encoder's feature maps: [[h, w] of the input, after conv_0, after conv_1, ...]. */
export function convSpatialSizes(inputShape: InputShape, layers: number): [number, number][] {
  let [h, w] = inputShape;
  const out: [number, number][] = [[h, w]];
  for (let i = 0; i < layers; i++) {
    h = Math.ceil(h / 2);
    w = Math.ceil(w / 2);
    out.push([h, w]);
  }
  return out;
}

/** Whether the encoder has a log-variance head (stochastic q(z|x)). */
export function hasLogvar(config: RunConfig): boolean {
  return config.model.kind === 'vae' || config.model.kind === 'iwae';
}

/** Every weight of the model the config describes, in the model's creation order, with its shape. */
export function expectedWeightShapes(config: RunConfig, inputShape: InputShape): WeightShape[] {
  const m = config.model;
  const [H, W, C] = inputShape;
  const d = H * W * C;
  const out: WeightShape[] = [];
  const dense = (name: string, nIn: number, nOut: number) => {
    out.push({ name: `${name}/kernel`, shape: [nIn, nOut] }, { name: `${name}/bias`, shape: [nOut] });
  };
  if (m.kind === 'gmm') {
    const K = m.components;
    return [
      { name: 'gmm/log_weights', shape: [K] },
      { name: 'gmm/means', shape: [K, d] },
      { name: 'gmm/log_vars', shape: [K, d] },
    ];
  }
  const D = m.latentDim;
  const k = CONV_KERNEL;
  let features: number;
  if (m.arch === 'mlp') {
    let nIn = d;
    m.hidden.forEach((h, i) => {
      dense(`encoder/dense_${i}`, nIn, h);
      nIn = h;
    });
    features = nIn;
  } else {
    let c = C;
    m.convChannels.forEach((ch, i) => {
      out.push({ name: `encoder/conv_${i}/kernel`, shape: [k, k, c, ch] }, { name: `encoder/conv_${i}/bias`, shape: [ch] });
      c = ch;
    });
    const [hn, wn] = convSpatialSizes(inputShape, m.convChannels.length)[m.convChannels.length]!;
    features = hn * wn * c;
  }
  dense('encoder/mu', features, D);
  if (hasLogvar(config)) dense('encoder/logvar', features, D);
  if (m.arch === 'mlp') {
    let nIn = D;
    [...m.hidden].reverse().forEach((h, i) => {
      dense(`decoder/dense_${i}`, nIn, h);
      nIn = h;
    });
    dense('decoder/out', nIn, d);
  } else {
    const chans = m.convChannels;
    dense('decoder/dense_0', D, features);
    for (let j = 0; j < chans.length - 1; j++) {
      const cin = chans[chans.length - 1 - j]!;
      const cout = chans[chans.length - 2 - j]!;
      out.push({ name: `decoder/deconv_${j}/kernel`, shape: [k, k, cout, cin] }, { name: `decoder/deconv_${j}/bias`, shape: [cout] });
    }
    out.push({ name: 'decoder/out/kernel', shape: [k, k, C, chans[0]!] }, { name: 'decoder/out/bias', shape: [C] });
  }
  if (m.likelihood === 'gaussian-learned') out.push({ name: 'decoder/logsigma', shape: [d] });
  return out;
}

/** Human-readable notes on the weight names, stored in bundle manifests. */
export const WEIGHT_NAMING_NOTES = [
  'Dense kernels are [in, out] (y = x @ kernel + bias); conv kernels [kh, kw, inC, outC] (stride 2, padding same);',
  'transposed-conv kernels [kh, kw, outC, inC] (stride 2, padding same, explicit output size); kernel size 3.',
  'Images are flattened row-major in [h, w, c] order.',
  'mlp: encoder/dense_{i}/{kernel,bias} (activation), encoder/mu, encoder/logvar (vae/iwae only; linear),',
  '     decoder/dense_{i} (hidden sizes mirrored, activation), decoder/out (linear: logits for bernoulli, else pre-mean).',
  'conv: encoder/conv_{i} (activation), encoder/mu, encoder/logvar (from the flattened last feature map),',
  '      decoder/dense_0 (activation, reshaped to the last feature map), decoder/deconv_{j} (activation), decoder/out (linear).',
  'gaussian-learned: decoder/logsigma [d], effective log sigma = max(logsigma, log(model.sigmaFloor)).',
  'gaussian decoders: mean = sigmoid(out) for image datasets, out itself for series.',
  'gmm: gmm/log_weights [K], gmm/means [K, d], gmm/log_vars [K, d].',
].join('\n');
