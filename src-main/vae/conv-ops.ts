// Stride-2 'same' convolutions that are trainable on every tfjs backend.
//
// The wasm backend of tfjs 4.22 has no Conv2DBackpropFilter kernel, and its Conv3DBackpropFilterV2 kernel
// returns wrong filter gradients for strides > 1 (checked against the cpu backend), so the gradient of a
// conv2d or conv2dTranspose with respect to its filter cannot come from a kernel there. On wasm these ops
// carry a custom gradient: the input gradient uses the (correct) conv2d / Conv2DBackpropInput kernels, the
// filter gradient is computed from image patches with one matMul (im2col). Other backends use tf's own ops.
import * as tf from '@tensorflow/tfjs';

/** TensorFlow's 'same' padding along one axis: [before, after]. */
export function samePadding(inSize: number, k: number, stride: number): [number, number] {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + k - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/**
 * dL/dfilter of y = conv2d(x, filter, stride, 'same') given dy: [k, k, C, O].
 * Patches of x at every output position, stacked as rows (kernel offset i, j, channel c), times dy.
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, k: number, stride: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, H, W, C] = x.shape;
    const [, oh, ow, O] = dy.shape;
    const [pt, pb] = samePadding(H, k, stride);
    const [pl, pr] = samePadding(W, k, stride);
    const xp = pt + pb + pl + pr > 0 ? tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : x;
    const patches: tf.Tensor4D[] = [];
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        patches.push(tf.stridedSlice(xp, [0, i, j, 0], [B, i + (oh - 1) * stride + 1, j + (ow - 1) * stride + 1, C], [1, stride, stride, 1]) as tf.Tensor4D);
    const P = tf.reshape(tf.stack(patches, 3), [B * oh * ow, k * k * C]) as tf.Tensor2D;
    const g = tf.matMul(P, tf.reshape(dy, [B * oh * ow, O]) as tf.Tensor2D, true, false);
    return tf.reshape(g, [k, k, C, O]) as tf.Tensor4D;
  });
}

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

function needsCustomGrad(): boolean {
  return tf.getBackend() === 'wasm';
}

/** conv2d with stride `stride` and 'same' padding; filter [k, k, C, O]. */
export function conv2dSame(x: tf.Tensor4D, filter: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (!needsCustomGrad()) return tf.conv2d(x, filter, stride, 'same');
  const k = filter.shape[0];
  const f = tf.customGrad(((xi: tf.Tensor, fi: tf.Tensor, save: tf.GradSaveFunc) => {
    const xx = xi as tf.Tensor4D;
    const ff = fi as tf.Tensor4D;
    save([xx, ff]);
    return {
      value: tf.conv2d(xx, ff, stride, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sf] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        return [tf.conv2dTranspose(d, sf, sx.shape, stride, 'same'), conv2dFilterGrad(sx, d, k, stride)];
      },
    };
  }) as unknown as CustomGradFn);
  return f(x, filter) as tf.Tensor4D;
}

/** conv2dTranspose to `outShape` with stride `stride` and 'same' padding; filter [k, k, O, C] (tf layout). */
export function conv2dTransposeSame(h: tf.Tensor4D, filter: tf.Tensor4D, outShape: [number, number, number, number], stride: number): tf.Tensor4D {
  if (!needsCustomGrad()) return tf.conv2dTranspose(h, filter, outShape, stride, 'same');
  const k = filter.shape[0];
  const f = tf.customGrad(((hi: tf.Tensor, fi: tf.Tensor, save: tf.GradSaveFunc) => {
    const hh = hi as tf.Tensor4D;
    const ff = fi as tf.Tensor4D;
    save([hh, ff]);
    return {
      value: tf.conv2dTranspose(hh, ff, outShape, stride, 'same'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sh, sf] = saved as [tf.Tensor4D, tf.Tensor4D];
        const d = dy as tf.Tensor4D;
        // The transposed conv is the adjoint of y' = conv2d(Y, filter): dh = conv2d(dy, filter); dfilter = patches(dy)^T h.
        return [tf.conv2d(d, sf, stride, 'same'), conv2dFilterGrad(d, sh, k, stride)];
      },
    };
  }) as unknown as CustomGradFn);
  return f(h, filter) as tf.Tensor4D;
}
