// Fast path 2 (registered by wasm-kernels.ts): Identity shares buffers instead of copying (the engine clones
// every tensor a gradient saves).
import { WRAPPED, type KernelFunc, type TensorInfo, type WrappedFunc } from './kernel-wrapper';

type RefCountingBackend = { incRef(dataId: object): void };

/**
 * The wasm Identity kernel copies the whole buffer. The engine calls it for every tensor a gradient
 * saves (engine.saveTensorsForBackwardMode clones them) and for tf.clone, ~60 copies per VAE step.
 * tfjs tensors are immutable and the wasm backend reference-counts its buffers (Reshape already
 * shares them), so Identity can share too, exactly as the cpu backend's Identity does.
 */
export function makeSharedIdentity(original: KernelFunc): WrappedFunc {
  const identity: WrappedFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  identity[WRAPPED] = original;
  return identity;
}
