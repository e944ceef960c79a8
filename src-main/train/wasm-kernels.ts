// Faster transposed matmuls on the tfjs wasm backend.
//
// @tensorflow/tfjs-backend-wasm 4.22 runs BatchMatMul / _FusedMatMul through XNNPACK's fully-connected
// operator only when neither operand is transposed; with transposeA or transposeB it falls back to a
// scalar loop that is ~10x slower (measured: ~27 vs ~2.2 GFLOP/s for 128x784 @ 784x400). The backward
// pass of every dense layer uses exactly those transposed products (dW = x^T dy, dx = dy W^T; see
// tfjs-core gradients/BatchMatMul_grad.js and ops/fused/mat_mul.js, both dispatch 'BatchMatMul').
// We re-register both kernels for 'wasm' with wrappers that materialise the transpose with the wasm
// Transpose kernel (cheap: a memory pass) and then call the original kernel with transposes off.
// Model code is unchanged; numerics are the same products, summed in a different order.
import * as tf from '@tensorflow/tfjs';

type KernelConfig = tf.KernelConfig;
type KernelFunc = tf.KernelFunc;
type TensorInfo = tf.TensorInfo;
type BackendLike = { disposeData(dataId: object, force?: boolean): boolean };

const WRAPPED = Symbol.for('vae-workbench.wasm-kernels.wrapped');
type WrappedFunc = KernelFunc & { [WRAPPED]?: KernelFunc };

/** Kernel names whose transposed variants we reroute. */
export const WRAPPED_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
/** Kernels replaced outright (Identity: share the buffer instead of copying it). */
export const REPLACED_KERNELS = ['Identity'] as const;

export interface WasmKernelReport {
  /** Kernels wrapped by this call (empty when already wrapped or not on wasm). */
  wrapped: string[];
  /** Kernels that were already wrapped before this call. */
  alreadyWrapped: string[];
}

type RefCountingBackend = { incRef(dataId: object): void };

/**
 * The wasm Identity kernel copies the whole buffer. The engine calls it for every tensor a gradient
 * saves (engine.saveTensorsForBackwardMode clones them) and for tf.clone, ~60 copies per VAE step.
 * tfjs tensors are immutable and the wasm backend reference-counts its buffers (Reshape already
 * shares them), so Identity can share too, exactly as the cpu backend's Identity does.
 */
function makeSharedIdentity(original: KernelFunc): WrappedFunc {
  const identity: WrappedFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    if (x.dtype === 'string') return original(args);
    (args.backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  identity[WRAPPED] = original;
  return identity;
}

/** Swap the last two axes' permutation for a tensor of this rank. */
function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** How a transposed product is rerouted (see chooseRoute). */
export type MatMulRoute = 'inputs' | 'output';
/** Force one route for every call (benchmarks); null = pick the cheaper per call. */
let forcedRoute: MatMulRoute | null = null;
export function setMatMulRoute(route: MatMulRoute | null): void {
  forcedRoute = route;
}

const size = (t: TensorInfo): number => t.shape.reduce((p, d) => p * d, 1);

/**
 * C = op(A) op(B). Route 'inputs' transposes the flagged operands and multiplies. Route 'output'
 * uses C^T = op(B)^T op(A)^T: the operands whose flag is OFF are transposed, the product is taken
 * with the sides swapped, and C^T is transposed back. XNNPACK packs its right operand for every new
 * tensor, and measured here packing costs about twice a transpose per element, so the cost model is
 * (elements transposed) + 2 * (elements of the right operand). For 128x784x400 this picks 'output'
 * for every mode (e.g. TN 3.0 ms vs 3.7 ms, NT 3.0 vs 3.9).
 */
function chooseRoute(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean, outSize: number): MatMulRoute {
  if (forcedRoute) return forcedRoute;
  const sa = size(a);
  const sb = size(b);
  const costInputs = (tA ? sa : 0) + (tB ? sb : 0) + 2 * sb;
  const costOutput = (tA ? 0 : sa) + (tB ? 0 : sb) + outSize + 2 * sa;
  return costOutput < costInputs ? 'output' : 'inputs';
}

function batchShape(t: TensorInfo): number[] {
  return t.shape.slice(0, -2);
}

function makeWrapper(original: KernelFunc, transposeFunc: KernelFunc, allowOutputRoute: (args: Parameters<KernelFunc>[0]) => boolean): WrappedFunc {
  const wrapper: WrappedFunc = (args) => {
    const attrs = args.attrs as { transposeA?: boolean; transposeB?: boolean } | undefined;
    if (!attrs || (!attrs.transposeA && !attrs.transposeB)) return original(args);
    const backend = args.backend as unknown as BackendLike;
    const inputs = { ...args.inputs } as Record<string, TensorInfo>;
    const a = inputs.a!;
    const b = inputs.b!;
    const tA = Boolean(attrs.transposeA);
    const tB = Boolean(attrs.transposeB);
    const temps: TensorInfo[] = [];
    const transposed = (x: TensorInfo): TensorInfo => {
      const t = transposeFunc({ inputs: { x }, backend: args.backend, attrs: { perm: lastTwoSwapped(x.shape.length) } }) as TensorInfo;
      temps.push(t);
      return t;
    };
    try {
      const m = tA ? a.shape[a.shape.length - 1]! : a.shape[a.shape.length - 2]!;
      const n = tB ? b.shape[b.shape.length - 2]! : b.shape[b.shape.length - 1]!;
      const batch = Math.max(size({ ...a, shape: batchShape(a) }), size({ ...b, shape: batchShape(b) }));
      const route = allowOutputRoute(args) ? chooseRoute(a, b, tA, tB, batch * m * n) : 'inputs';
      const off = { ...attrs, transposeA: false, transposeB: false };
      if (route === 'inputs') {
        if (tA) inputs.a = transposed(a);
        if (tB) inputs.b = transposed(b);
        return original({ ...args, inputs, attrs: off });
      }
      // C^T = op(B)^T op(A)^T: new left = op(B)^T (= B when tB), new right = op(A)^T (= A when tA).
      inputs.a = tB ? b : transposed(b);
      inputs.b = tA ? a : transposed(a);
      const ct = original({ ...args, inputs, attrs: off }) as TensorInfo;
      temps.push(ct);
      return transposeFunc({ inputs: { x: ct }, backend: args.backend, attrs: { perm: lastTwoSwapped(ct.shape.length) } });
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  };
  wrapper[WRAPPED] = original;
  return wrapper;
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
      kernelFunc: makeWrapper(cfg.kernelFunc, transposeCfg.kernelFunc, (args) =>
        name === 'BatchMatMul' || (args.inputs.bias == null && args.inputs.preluActivationWeights == null)),
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
    const next: KernelConfig = { ...cfg, kernelFunc: makeSharedIdentity(cfg.kernelFunc) };
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
