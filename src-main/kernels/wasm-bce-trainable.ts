// Fast path 4: the training loss's Bernoulli term, sum_j softplus(l_ij) - l_ij x_ij per row, as one kernel on wasm
// whose forward is the fused SIMD pass of wasm-bce.ts and whose gradient is the stock one, bit for bit.
//
// With stock kernels the forward is Softplus (libm exp and log1p per value: ~1.2 ms of a 14 ms step of the
// 784-400-20 reference model at 128 rows, the largest cost after the matrix products), Multiply, Sub and Sum.
// The fused pass takes ~0.1 ms. Its values differ from the stock ones by float noise (~1e-7 relative), but the
// ELBO's gradient does not depend on them: d/dl of the row sum is sigmoid(l) - x, scaled by the row's upstream
// gradient dy. The gradient below makes exactly the products and sum the stock graph's gradients make, with the
// same kernels (Sum's broadcast of dy, Softplus's dy * sigmoid(l), Mul's (-dy) * x, the tape's sum of the two),
// so training takes the same steps to the bit as with the stock kernels: only the reported loss values move in
// their last digits. Objectives whose gradient does depend on the values (the importance-weighted bound's
// softmax) keep the stock kernels (likelihood.ts). VAE_WORKBENCH_WASM_FUSED_BCE=0 turns it off, as for evaluation.
import * as tf from '@tensorflow/tfjs';
import { bceRowSumsInfo, canFuseBce } from './wasm-bce';

export const BCE_ROW_SUMS_KERNEL = 'VaeWorkbenchBceRowSums';

let registered = false;

function register(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: BCE_ROW_SUMS_KERNEL,
    backendName: 'wasm',
    kernelFunc: ({ inputs }) => {
      const { logits, x } = inputs as { logits: tf.TensorInfo; x: tf.TensorInfo };
      const out = bceRowSumsInfo(logits, x, 1, [x.shape[0]!]);
      if (!out) throw new Error(`${BCE_ROW_SUMS_KERNEL}: the fused pass cannot run for these operands`);
      return out;
    },
  });
  tf.registerGradient({
    kernelName: BCE_ROW_SUMS_KERNEL,
    inputsToSave: ['logits', 'x'],
    gradFunc: (dy, saved) => {
      const [logits, x] = saved as [tf.Tensor2D, tf.Tensor2D];
      // dy per row as a column, broadcast over the pixels as Sum's gradient broadcasts it
      const rows = tf.reshape(dy as tf.Tensor, [logits.shape[0], 1]);
      return {
        // Mul's gradient (-dy) * x plus Softplus's dy * sigmoid(l): the tape's sum of the two, the same bits
        logits: () => tf.add(tf.mul(tf.neg(rows), x), tf.mul(rows, tf.sigmoid(logits))),
        x: () => tf.mul(tf.neg(rows), logits),
      };
    },
  });
}

/**
 * sum_j softplus(l_ij) - l_ij x_ij per row of logits and x (both [n, d]) as a [n] tensor with a gradient; null
 * where the fused pass cannot run (not wasm, its shared-memory build, d not a multiple of 4, not float32, or
 * turned off), and the caller uses the stock kernels.
 */
export function bceRowSumsTrainable(logits: tf.Tensor2D, x: tf.Tensor2D): tf.Tensor1D | null {
  if (!canFuseBce(logits, x, 1)) return null;
  register();
  return tf.engine().runKernel(BCE_ROW_SUMS_KERNEL, { logits, x }) as tf.Tensor1D;
}
