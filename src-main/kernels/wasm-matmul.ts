// Fast path 1 (registered by wasm-kernels.ts): every matmul on our own GEMM (wasm-gemm.ts); where that cannot
// run, transposed matmuls through an explicit Transpose plus the fast untransposed XNNPACK path (why: the header
// of wasm-kernels.ts).
import { WRAPPED, type BackendLike, type KernelFunc, type TensorInfo, type WrappedFunc } from './kernel-wrapper';
import { ownMatMul } from './wasm-gemm';

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

export function makeWrapper(
  original: KernelFunc,
  transposeFunc: KernelFunc,
  allowOutputRoute: (args: Parameters<KernelFunc>[0]) => boolean,
): WrappedFunc {
  const wrapper: WrappedFunc = (args) => {
    const own = ownMatMul(args as Parameters<typeof ownMatMul>[0]);
    if (own) return own;
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
