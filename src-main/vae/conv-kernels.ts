// The wasm backend of tfjs 4.22 has no Conv2DBackpropFilter kernel, so the gradient of a conv2d (or of a
// conv2dTranspose) with respect to its filter cannot be taken there. This registers one for 'wasm' that
// runs the backend's own Conv3DBackpropFilterV2 kernel on the same data seen as depth-1 volumes
// (a 2-D convolution is a 3-D one with depth 1). Other backends already have the kernel; nothing changes there.
import * as tf from '@tensorflow/tfjs';

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: tf.DataType;
}

let registered = false;

/** Make conv layers trainable on every backend; idempotent, call before building a conv model. */
export function ensureConvGradKernels(): void {
  if (registered) return;
  registered = true;
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs['x'] as unknown as TensorInfoLike;
      const dy = inputs['dy'] as unknown as TensorInfoLike;
      const a = attrs as unknown as {
        strides: number | [number, number];
        pad: 'same' | 'valid' | number;
        dataFormat?: string;
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat && a.dataFormat !== 'NHWC') throw new Error('Conv2DBackpropFilter (wasm shim): only NHWC is supported');
      if (typeof a.pad !== 'string' && typeof a.pad !== 'number') throw new Error('Conv2DBackpropFilter (wasm shim): explicit padding is not supported');
      const conv3d = tf.getKernel('Conv3DBackpropFilterV2', 'wasm');
      if (!conv3d) throw new Error('Conv2DBackpropFilter (wasm shim): Conv3DBackpropFilterV2 is not registered');
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      const [b, h, w, c] = x.shape as [number, number, number, number];
      const [db, dh, dw, dc] = dy.shape as [number, number, number, number];
      const x5: TensorInfoLike = { dataId: x.dataId, shape: [b, 1, h, w, c], dtype: x.dtype };
      const dy5: TensorInfoLike = { dataId: dy.dataId, shape: [db, 1, dh, dw, dc], dtype: dy.dtype };
      const [kh, kw, ci, co] = a.filterShape;
      const out = conv3d.kernelFunc({
        inputs: { x: x5, dy: dy5 } as unknown as tf.NamedTensorMap,
        backend,
        attrs: { strides: [1, sh, sw], pad: a.pad, filterShape: [1, kh, kw, ci, co] } as unknown as tf.NamedAttrMap,
      }) as unknown as TensorInfoLike;
      return { dataId: out.dataId, shape: [kh, kw, ci, co], dtype: out.dtype } as unknown as tf.TensorInfo;
    },
  });
}
