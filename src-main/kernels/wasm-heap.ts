// Moving float32 values between tensors and plain (or shared) memory with one copy instead of two: on wasm a
// tensor's values are read straight from the backend's heap, and a tensor made from a view is copied into the
// heap at once (so the view may be reused). Other backends take the ordinary paths.
import * as tf from '@tensorflow/tfjs';

interface WasmHeap {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPF32: Float32Array };
}

/** Copy a float32 tensor's values into dst at `at`. */
export function copyTensorInto(t: tf.Tensor, dst: Float32Array, at: number): void {
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32') {
    const backend = tf.backend() as unknown as WasmHeap;
    const entry = backend.dataIdMap.get(t.dataId);
    if (entry) {
      const from = entry.memoryOffset >>> 2;
      dst.set(backend.wasm.HEAPF32.subarray(from, from + t.size), at);
      return;
    }
  }
  dst.set(t.dataSync() as Float32Array, at);
}

/** A float32 tensor's values in a new array of their own (one copy). */
export function tensorValues(t: tf.Tensor): Float32Array {
  const out = new Float32Array(t.size);
  copyTensorInto(t, out, 0);
  return out;
}

/** A tensor of `values` (a view that the caller may overwrite afterwards). */
export function tensorFromView(values: Float32Array, shape: number[]): tf.Tensor {
  // the cpu backend keeps the array it is given: hand it a copy
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32');
}
