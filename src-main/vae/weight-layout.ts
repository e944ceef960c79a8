// The weights of a VaeModel, by name, shape and initialisation, from its spec alone (no tfjs): the one source
// both VaeModel (which creates them in this order) and the checkpoint formats (which check and export them)
// read. The names and their meaning are documented in model.ts's header.
import type { Likelihood } from './types';

/** Kernel size of every conv / transposed-conv layer. */
export const CONV_KERNEL_SIZE = 3;

/** What the layout depends on: a ModelSpec, or a run config's model with the dataset's example shape. */
export interface LayoutSpec {
  kind: 'vae' | 'ae' | 'dae' | 'iwae';
  arch: 'mlp' | 'conv';
  /** [h, w, c] of one example ([1, d, 1] for series). */
  shape: readonly [number, number, number];
  hidden: readonly number[];
  latentDim: number;
  likelihood: Likelihood;
  convChannels: readonly number[];
}

/** One weight: its name, shape and initialisation (fan-in and fan-out for the Glorot-uniform limit). */
export interface WeightSlot {
  name: string;
  shape: number[];
  init: 'weight' | 'zeros';
  fanIn: number;
  fanOut: number;
}

/** Whether the encoder has a log-variance head (a stochastic q(z|x)). */
export function isStochastic(kind: LayoutSpec['kind']): boolean {
  return kind === 'vae' || kind === 'iwae';
}

/** Spatial sizes of the conv encoder's feature maps: [[h, w] of the input, after conv_0, after conv_1, ...]. */
export function convSpatialSizes(shape: LayoutSpec['shape'], layers: number): [number, number][] {
  let [h, w] = shape;
  const out: [number, number][] = [[h, w]];
  for (let i = 0; i < layers; i++) {
    h = Math.ceil(h / 2);
    w = Math.ceil(w / 2);
    out.push([h, w]);
  }
  return out;
}

/** Every weight of the model, in creation order (the order seeds, gradients and optimizer slots use). */
export function weightLayout(spec: LayoutSpec): WeightSlot[] {
  const out: WeightSlot[] = [];
  const weight = (name: string, shape: number[], fanIn: number, fanOut: number) => out.push({ name, shape, init: 'weight', fanIn, fanOut });
  const zeros = (name: string, shape: number[]) => out.push({ name, shape, init: 'zeros', fanIn: 0, fanOut: 0 });
  const dense = (name: string, nIn: number, nOut: number) => {
    weight(`${name}/kernel`, [nIn, nOut], nIn, nOut);
    zeros(`${name}/bias`, [nOut]);
  };
  const [, , C] = spec.shape;
  const d = spec.shape[0] * spec.shape[1] * C;
  const D = spec.latentDim;
  const k = CONV_KERNEL_SIZE;
  const chans = spec.convChannels;
  let features: number;
  if (spec.arch === 'mlp') {
    let nIn = d;
    spec.hidden.forEach((h, i) => {
      dense(`encoder/dense_${i}`, nIn, h);
      nIn = h;
    });
    features = nIn;
  } else {
    let c = C;
    chans.forEach((ch, i) => {
      weight(`encoder/conv_${i}/kernel`, [k, k, c, ch], k * k * c, k * k * ch);
      zeros(`encoder/conv_${i}/bias`, [ch]);
      c = ch;
    });
    const [hn, wn] = convSpatialSizes(spec.shape, chans.length)[chans.length]!;
    features = hn * wn * c;
  }
  dense('encoder/mu', features, D);
  if (isStochastic(spec.kind)) dense('encoder/logvar', features, D);
  if (spec.arch === 'mlp') {
    let nIn = D;
    [...spec.hidden].reverse().forEach((h, i) => {
      dense(`decoder/dense_${i}`, nIn, h);
      nIn = h;
    });
    dense('decoder/out', nIn, d);
  } else {
    dense('decoder/dense_0', D, features);
    for (let j = 0; j < chans.length - 1; j++) {
      const cin = chans[chans.length - 1 - j]!;
      const cout = chans[chans.length - 2 - j]!;
      weight(`decoder/deconv_${j}/kernel`, [k, k, cout, cin], k * k * cin, k * k * cout);
      zeros(`decoder/deconv_${j}/bias`, [cout]);
    }
    weight('decoder/out/kernel', [k, k, C, chans[0]!], k * k * chans[0]!, k * k * C);
    zeros('decoder/out/bias', [C]);
  }
  if (spec.likelihood === 'gaussian-learned') zeros('decoder/logsigma', [d]);
  return out;
}
