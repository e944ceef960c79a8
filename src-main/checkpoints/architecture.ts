// The weights a run's model has, by name and shape, derived from its config and the dataset's example shape
// alone (no tfjs): a neural model's come from vae/weight-layout.ts, the list VaeModel creates its weights from
// (model.ts's header documents the names); a GMM's mirror GmmModel.toNamedTensors in vae/gmm.ts.
// tests/unit/bundle-layers-model.test.ts checks both against real models.
import type { RunConfig } from '@shared/run-config';
import { CONV_KERNEL_SIZE, isStochastic, weightLayout } from '../vae/weight-layout';

export { convSpatialSizes } from '../vae/weight-layout';

/** [height, width, channels] of one example ([1, d, 1] for series). */
export type InputShape = [number, number, number];

export interface WeightShape {
  name: string;
  shape: number[];
}

/** Whether the encoder has a log-variance head (stochastic q(z|x)). */
export function hasLogvar(config: RunConfig): boolean {
  return config.model.kind !== 'gmm' && isStochastic(config.model.kind);
}

/** Every weight of the model the config describes, in the model's creation order, with its shape. */
export function expectedWeightShapes(config: RunConfig, inputShape: InputShape): WeightShape[] {
  const m = config.model;
  if (m.kind === 'gmm') {
    const d = inputShape[0] * inputShape[1] * inputShape[2];
    const K = m.components;
    return [
      { name: 'gmm/log_weights', shape: [K] },
      { name: 'gmm/means', shape: [K, d] },
      { name: 'gmm/log_vars', shape: [K, d] },
    ];
  }
  return weightLayout({ ...m, kind: m.kind, shape: inputShape }).map(({ name, shape }) => ({ name, shape }));
}

/** Human-readable notes on the weight names, stored in bundle manifests. */
export const WEIGHT_NAMING_NOTES = [
  'Dense kernels are [in, out] (y = x @ kernel + bias); conv kernels [kh, kw, inC, outC] (stride 2, padding same);',
  `transposed-conv kernels [kh, kw, outC, inC] (stride 2, padding same, explicit output size); kernel size ${CONV_KERNEL_SIZE}.`,
  'Images are flattened row-major in [h, w, c] order.',
  'mlp: encoder/dense_{i}/{kernel,bias} (activation), encoder/mu, encoder/logvar (vae/iwae only; linear),',
  '     decoder/dense_{i} (hidden sizes mirrored, activation), decoder/out (linear: logits for bernoulli, else pre-mean).',
  'conv: encoder/conv_{i} (activation), encoder/mu, encoder/logvar (from the flattened last feature map),',
  '      decoder/dense_0 (activation, reshaped to the last feature map), decoder/deconv_{j} (activation), decoder/out (linear).',
  'gaussian-learned: decoder/logsigma [d], effective log sigma = max(logsigma, log(model.sigmaFloor)).',
  'gaussian decoders: mean = sigmoid(out) for image datasets, out itself for series.',
  'gmm: gmm/log_weights [K], gmm/means [K, d], gmm/log_vars [K, d].',
].join('\n');
