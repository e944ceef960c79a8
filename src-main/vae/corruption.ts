// Input noise made in-graph with explicit seeds: denoising-autoencoder corruption and dynamic binarization.
// `block`: the batch is rows [from, from + n) of a larger one (a shard of a data-parallel step), whose noise it takes.
import * as tf from '@tensorflow/tfjs';
import type { RowBlock } from './estimators';

function blockDraw(shape: [number, number], block: RowBlock | undefined, draw: (shape: [number, number]) => tf.Tensor): tf.Tensor {
  if (!block || (block.from === 0 && block.total === shape[0])) return draw(shape);
  return tf.tidy(() => tf.slice(draw([block.total, shape[1]]), [block.from, 0], shape));
}

/**
 * Corrupt a batch for a denoising autoencoder. gaussian: x + N(0, level^2), clipped to [0, 1];
 * mask: each value zeroed with probability `level`. The loss is taken against the clean batch.
 */
export function corrupt(x: tf.Tensor2D, kind: 'gaussian' | 'mask', level: number, seed: number, block?: RowBlock): tf.Tensor2D {
  return tf.tidy(() => {
    if (level <= 0) return tf.clone(x);
    if (kind === 'gaussian')
      return tf.clipByValue(
        tf.add(
          x,
          blockDraw(x.shape, block, (s) => tf.randomNormal(s, 0, level, 'float32', seed)),
        ),
        0,
        1,
      ) as tf.Tensor2D;
    const keep = tf.cast(
      tf.greaterEqual(
        blockDraw(x.shape, block, (s) => tf.randomUniform(s, 0, 1, 'float32', seed)),
        level,
      ),
      'float32',
    );
    return tf.mul(x, keep) as tf.Tensor2D;
  });
}

/** Sample binary pixels x_b ~ Bernoulli(x) (dynamic binarization, a fresh draw every time a batch is seen). */
export function binarizeBatch(x: tf.Tensor2D, seed: number, block?: RowBlock): tf.Tensor2D {
  return tf.tidy(
    () =>
      tf.cast(
        tf.less(
          blockDraw(x.shape, block, (s) => tf.randomUniform(s, 0, 1, 'float32', seed)),
          x,
        ),
        'float32',
      ) as tf.Tensor2D,
  );
}
