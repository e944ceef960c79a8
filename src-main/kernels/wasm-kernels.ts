// Fast paths for training on the tfjs wasm backend (tfjs 4.22), without changing model code:
//
// 1. Matmuls. Every BatchMatMul / _FusedMatMul runs on our own wasm SIMD GEMM (wasm-gemm.ts), transposes folded
//    into its packing. Where that cannot run, the route below (kept as the fallback and for comparison):
//    Transposed matmuls. @tensorflow/tfjs-backend-wasm runs BatchMatMul / _FusedMatMul through
//    XNNPACK's fully-connected operator only when neither operand is transposed; with transposeA or
//    transposeB it falls back to a scalar loop ~10x slower (128x784x400: ~25 vs ~2.3 GFLOP/s). The
//    backward pass of every dense layer uses exactly those (dW = x^T dy, dx = dy W^T): the gradients
//    of both BatchMatMul (gradients/BatchMatMul_grad.js) and _FusedMatMul (ops/fused/mat_mul.js)
//    dispatch plain 'BatchMatMul' with transpose flags. registerFastWasmMatMul re-registers both
//    kernels with wrappers that materialise a transpose with the wasm Transpose kernel (0.2 ms for
//    784x400) and call the original kernel with the flags off; the numerics are the same products.
// 2. Identity shares buffers instead of copying (the engine clones every tensor a gradient saves).
// 3. WasmAdamOptimizer: tf.AdamOptimizer whose update is one SIMD wasm pass per weight.
// 4. The training loss's Bernoulli term as one kernel: the fused SIMD forward, the stock gradient to the bit.
// 5. Sum over leading axes (the bias gradients) as column sums on our GEMM, the stock sums to the bit.
// initBackend (backend.ts) calls registerFastWasmMatMul right after the wasm backend is set.
// One file per fast path: wasm-matmul.ts (1), wasm-identity.ts (2), wasm-adam.ts (3),
// wasm-bce-trainable.ts (4, registered on its first use), wasm-sum.ts (5); this file registers 1, 2 and 5.
import * as tf from '@tensorflow/tfjs';
import { WRAPPED, type KernelConfig, type KernelFunc, type WrappedFunc } from './kernel-wrapper';
import { makeSharedIdentity } from './wasm-identity';
import { makeWrapper } from './wasm-matmul';
import { makeColumnSum } from './wasm-sum';

export { setMatMulRoute, type MatMulRoute } from './wasm-matmul';
export { WasmAdamOptimizer, isWasmAdam } from './wasm-adam';

/** Kernel names whose transposed variants we reroute. */
export const WRAPPED_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
/** Kernels replaced outright (Identity: share the buffer instead of copying it; Sum: leading axes on our GEMM). */
export const REPLACED_KERNELS = ['Identity', 'Sum'] as const;
const REPLACEMENTS: Record<(typeof REPLACED_KERNELS)[number], (original: KernelFunc) => WrappedFunc> = {
  Identity: makeSharedIdentity,
  Sum: makeColumnSum,
};

export interface WasmKernelReport {
  /** Kernels wrapped by this call (empty when already wrapped or not on wasm). */
  wrapped: string[];
  /** Kernels that were already wrapped before this call. */
  alreadyWrapped: string[];
}

/**
 * Re-register the wasm BatchMatMul and _FusedMatMul kernels so that transposed products run through
 * an explicit Transpose plus the fast untransposed path, and Identity so that it shares buffers
 * instead of copying them. Idempotent: a second call finds the wrappers and does nothing. Safe to call before the wasm backend is registered (does nothing then).
 */
export function registerFastWasmMatMul(): WasmKernelReport {
  const report: WasmKernelReport = { wrapped: [], alreadyWrapped: [] };
  const transposeCfg = tf.getKernel('Transpose', 'wasm');
  if (!transposeCfg) return report;
  for (const name of WRAPPED_KERNELS) {
    const cfg = tf.getKernel(name, 'wasm');
    if (!cfg) continue;
    if ((cfg.kernelFunc as WrappedFunc)[WRAPPED]) {
      report.alreadyWrapped.push(name);
      continue;
    }
    const next: KernelConfig = {
      kernelName: name,
      backendName: 'wasm',
      // The fused kernel adds a bias along the last axis, which does not survive C^T; only the
      // plain matmul (and a bias-free fused one) may take the output route.
      kernelFunc: makeWrapper(
        cfg.kernelFunc,
        transposeCfg.kernelFunc,
        (args) => name === 'BatchMatMul' || (args.inputs.bias == null && args.inputs.preluActivationWeights == null),
      ),
    };
    // Keep the original setup/dispose so a later re-initialisation of the backend still works.
    if (cfg.setupFunc) next.setupFunc = cfg.setupFunc;
    if (cfg.disposeFunc) next.disposeFunc = cfg.disposeFunc;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(next);
    report.wrapped.push(name);
  }
  for (const name of REPLACED_KERNELS) {
    const cfg = tf.getKernel(name, 'wasm');
    if (!cfg) continue;
    if ((cfg.kernelFunc as WrappedFunc)[WRAPPED]) {
      report.alreadyWrapped.push(name);
      continue;
    }
    const next: KernelConfig = { ...cfg, kernelFunc: REPLACEMENTS[name](cfg.kernelFunc) };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(next);
    report.wrapped.push(name);
  }
  return report;
}

/** Restore the original wasm kernels (benchmarks compare before/after). Idempotent. */
export function unregisterFastWasmMatMul(): string[] {
  const restored: string[] = [];
  for (const name of [...WRAPPED_KERNELS, ...REPLACED_KERNELS]) {
    const cfg = tf.getKernel(name, 'wasm');
    const original = cfg ? (cfg.kernelFunc as WrappedFunc)[WRAPPED] : undefined;
    if (!cfg || !original) continue;
    const next: KernelConfig = { kernelName: name, backendName: 'wasm', kernelFunc: original };
    if (cfg.setupFunc) next.setupFunc = cfg.setupFunc;
    if (cfg.disposeFunc) next.disposeFunc = cfg.disposeFunc;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(next);
    restored.push(name);
  }
  return restored;
}

/** Whether the fast wrappers are currently registered for this kernel. */
export function isFastWasmMatMulRegistered(
  name: (typeof WRAPPED_KERNELS)[number] | (typeof REPLACED_KERNELS)[number] = 'BatchMatMul',
): boolean {
  const cfg = tf.getKernel(name, 'wasm');
  return Boolean(cfg && (cfg.kernelFunc as WrappedFunc)[WRAPPED]);
}
