// What the wasm fast paths share: tfjs kernel types, and the mark a wrapper kernel carries (the kernel it
// replaced), so that registering twice does nothing and unregistering restores the original.
import type * as tf from '@tensorflow/tfjs';

export type KernelConfig = tf.KernelConfig;
export type KernelFunc = tf.KernelFunc;
export type TensorInfo = tf.TensorInfo;
export type BackendLike = { disposeData(dataId: object, force?: boolean): boolean };

export const WRAPPED = Symbol.for('vae-workbench.wasm-kernels.wrapped');
export type WrappedFunc = KernelFunc & { [WRAPPED]?: KernelFunc };
