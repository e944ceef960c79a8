// Fast path 5 (registered by wasm-kernels.ts): Sum over leading axes (every bias gradient: dy summed over the batch
// rows) as column sums on our GEMM (wasm-gemm.ts). The stock wasm Sum transposes x so that the reduced axes come
// last and then sums each row: for the reference model's output bias that is ~0.27 ms of a 12 ms step, most of it
// the transpose. The stock kernel adds each output's values one after the other from 0, and so does ours (a row of
// ones times x, summed over the rows in order), so the sums are the same bits. Other reductions (inner axes, all
// axes, int32) go to the stock kernel.
import * as tf from '@tensorflow/tfjs';
import { WRAPPED, type KernelFunc, type TensorInfo, type WrappedFunc } from './kernel-wrapper';
import { ownColumnSums } from './wasm-gemm';

/** The [rows, cols] view of a sum over axes 0..r-1 of `shape` (r < rank), or null for any other reduction. */
export function leadingReduction(shape: number[], axis: number | number[]): { rows: number; cols: number; kept: number[] } | null {
  const rank = shape.length;
  if (rank < 2) return null;
  const axes = [...new Set(tf.util.parseAxisParam(axis, shape))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= rank || axes.some((a, i) => a !== i)) return null;
  const prod = (xs: number[]) => xs.reduce((p, d) => p * d, 1);
  return { rows: prod(shape.slice(0, axes.length)), cols: prod(shape.slice(axes.length)), kept: shape.slice(axes.length) };
}

export function makeColumnSum(original: KernelFunc): WrappedFunc {
  const sum: WrappedFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims?: boolean };
    const view = x.dtype === 'float32' ? leadingReduction(x.shape, axis) : null;
    if (view) {
      const reduced = x.shape.length - view.kept.length;
      const outShape = keepDims ? [...new Array<number>(reduced).fill(1), ...view.kept] : view.kept;
      const own = ownColumnSums(x, view.rows, view.cols, outShape, args.backend);
      if (own) return own;
    }
    return original(args);
  };
  sum[WRAPPED] = original;
  return sum;
}
