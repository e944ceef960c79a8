// Shared shapes of the VAE engine: what an encoder and a decoder produce, and the minimal model interface
// the estimators and evaluators work against (the trained VaeModel implements it; tests hand-build others).
import type * as tf from '@tensorflow/tfjs';

export type Likelihood = 'bernoulli' | 'gaussian' | 'gaussian-learned';

/** q(z|x) = N(mu, diag exp(logvar)); logvar is null for deterministic encoders (ae, dae). */
export interface EncoderOutput {
  mu: tf.Tensor2D;
  logvar: tf.Tensor2D | null;
}

/**
 * p(x|z) per pixel. bernoulli: `params` are logits. gaussian: `params` are means and `logSigma` is the
 * log standard deviation, broadcastable to [n, d] (a [1, d] row or a [n, d] tensor).
 */
export type DecoderOutput = { kind: 'bernoulli'; params: tf.Tensor2D } | { kind: 'gaussian'; params: tf.Tensor2D; logSigma: tf.Tensor };

export interface LatentModel {
  readonly latentDim: number;
  /** Features per example. */
  readonly d: number;
  /** Whether q(z|x) is stochastic (vae, iwae) or a point (ae, dae). */
  readonly stochastic: boolean;
  encode(x: tf.Tensor2D): EncoderOutput;
  decode(z: tf.Tensor2D): DecoderOutput;
}
