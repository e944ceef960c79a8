// Input noise made in-graph with explicit seeds: denoising-autoencoder corruption and dynamic binarization.
import * as tf from '@tensorflow/tfjs';

/**
 * Corrupt a batch for a denoising autoencoder. gaussian: x + N(0, level^2), clipped to [0, 1];
 * mask: each value zeroed with probability `level`. The loss is taken against the clean batch.
 */
export function corrupt(x: tf.Tensor2D, kind: 'gaussian' | 'mask', level: number, seed: number): tf.Tensor2D {
  return tf.tidy(() => {
    if (level <= 0) return tf.clone(x);
    if (kind === 'gaussian') return tf.clipByValue(tf.add(x, tf.randomNormal(x.shape, 0, level, 'float32', seed)), 0, 1) as tf.Tensor2D;
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), level), 'float32');
    return tf.mul(x, keep) as tf.Tensor2D;
  });
}

/** Sample binary pixels x_b ~ Bernoulli(x) (dynamic binarization, a fresh draw every time a batch is seen). */
export function binarizeBatch(x: tf.Tensor2D, seed: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.less(tf.randomUniform(x.shape, 0, 1, 'float32', seed), x), 'float32') as tf.Tensor2D);
}
