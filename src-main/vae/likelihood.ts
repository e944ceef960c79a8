// Decoder log-likelihoods log p(x|z), summed over pixels: one value per example, in nats.
import * as tf from '@tensorflow/tfjs';
import { bceRowSums } from '../kernels/wasm-bce';
import { bceRowSumsTrainable } from '../kernels/wasm-bce-trainable';
import type { DecoderOutput } from './types';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Numerically stable binary cross-entropy with logits, per element:
 *   max(l,0) - l*x + log(1+exp(-|l|)) = softplus(l) - l*x,
 * computed as the right-hand side (tfjs' softplus is evaluated stably on every backend: 3 kernels instead of 6).
 */
export function bceWithLogits(logits: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.softplus(logits), tf.mul(logits, x)));
}

/** log N(x; mean, sigma^2) per element, including the constant -0.5*log(2*pi*sigma^2). */
export function gaussianLogDensity(x: tf.Tensor, mean: tf.Tensor, logSigma: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const zScore = tf.mul(tf.sub(x, mean), tf.exp(tf.neg(logSigma)));
    return tf.sub(tf.neg(tf.add(logSigma, HALF_LOG_2PI)), tf.mul(0.5, tf.square(zScore)));
  });
}

/** log p(x|z) for each row of x ([n, d]) given the decoder's output for the same rows: a [n] tensor. */
export function logLikelihood(x: tf.Tensor2D, out: DecoderOutput): tf.Tensor1D {
  return tf.tidy(() => {
    if (out.kind === 'bernoulli') {
      // on wasm one fused kernel whose gradient is the stock graph's to the bit (wasm-bce-trainable.ts)
      const sums = bceRowSumsTrainable(out.params, x) ?? tf.sum(bceWithLogits(out.params, x), 1);
      return tf.neg(sums) as tf.Tensor1D;
    }
    return tf.sum(gaussianLogDensity(x, out.params, out.logSigma), 1) as tf.Tensor1D;
  });
}

/**
 * log p(x_i|z_si) for k samples per example without repeating x: `out` holds k * n rows, sample-major
 * (row s*n + i decodes sample s of example i); x is [n, d]. The decoder's output is viewed as [k, n, d]
 * and x broadcast over the samples (tiling x costs more than the likelihood itself on wasm). [k, n].
 * `inference`: no gradient needed, so a Bernoulli decoder may use the fused SIMD pass on wasm (wasm-bce.ts).
 */
export function logLikelihoodSamples(x: tf.Tensor2D, out: DecoderOutput, k: number, inference = false): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, d] = x.shape;
    const fused = inference && out.kind === 'bernoulli' ? bceRowSums(out.params, x, k) : null;
    if (fused) return tf.neg(fused) as tf.Tensor2D;
    const params = tf.reshape(out.params, [k, n, d]);
    if (out.kind === 'bernoulli') return tf.neg(tf.sum(bceWithLogits(params, x), 2)) as tf.Tensor2D;
    const logSigma = out.logSigma.shape[0] === 1 || out.logSigma.rank === 1 ? out.logSigma : tf.reshape(out.logSigma, [k, n, d]);
    return tf.sum(gaussianLogDensity(x, params, logSigma), 2) as tf.Tensor2D;
  });
}

/** The decoder's mean image in data space (sigmoid of logits for bernoulli). */
export function decoderMean(out: DecoderOutput): tf.Tensor2D {
  return tf.tidy(() => (out.kind === 'bernoulli' ? tf.sigmoid(out.params) : tf.clone(out.params)) as tf.Tensor2D);
}
