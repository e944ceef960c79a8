// Fast paths for training on the tfjs wasm backend (tfjs 4.22), without changing model code:
//
// 1. Transposed matmuls. @tensorflow/tfjs-backend-wasm runs BatchMatMul / _FusedMatMul through
//    XNNPACK's fully-connected operator only when neither operand is transposed; with transposeA or
//    transposeB it falls back to a scalar loop ~10x slower (128x784x400: ~25 vs ~2.3 GFLOP/s). The
//    backward pass of every dense layer uses exactly those (dW = x^T dy, dx = dy W^T): the gradients
//    of both BatchMatMul (gradients/BatchMatMul_grad.js) and _FusedMatMul (ops/fused/mat_mul.js)
//    dispatch plain 'BatchMatMul' with transpose flags. registerFastWasmMatMul re-registers both
//    kernels with wrappers that materialise a transpose with the wasm Transpose kernel (0.2 ms for
//    784x400) and call the original kernel with the flags off; the numerics are the same products.
// 2. Identity shares buffers instead of copying (the engine clones every tensor a gradient saves).
// 3. WasmAdamOptimizer: tf.AdamOptimizer whose update is one SIMD wasm pass per weight.
// initBackend (backend.ts) calls registerFastWasmMatMul right after the wasm backend is set.
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

// ---------------------------------------------------------------------------------------------
// Adam as one SIMD pass per weight.
//
// tf.train.adam runs ~13 kernels per weight, each a full pass over it (wasm Sqrt alone is slow),
// ~4.3 ms per step for the 653k weights of a 784-400-20 VAE on one core, ~15% of the step. The
// update below is a hand-assembled 276-byte WebAssembly SIMD function that reads w, m, v, g from
// the tfjs wasm heap and writes fresh w', m', v' buffers (tensors are never mutated in place):
// ~0.5 ms for the same weights. WasmAdamOptimizer subclasses tf.AdamOptimizer, so its slots,
// getWeights/setWeights and class name ('Adam') are exactly tf.train.adam's; off wasm (or on the
// threaded build, whose memory is shared) it falls back to the stock update.

type AdamSimd = (
  pw: number, pm: number, pv: number, pg: number, qw: number, qm: number, qv: number, nBytes: number,
  b1: number, b2: number, lrT: number, invC2: number, eps: number, omb1: number, omb2: number,
) => void;

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** The module: imports env.memory, exports adam(...) over 4-float lanes (nBytes a multiple of 16). */
function adamModuleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...leb128(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, ...leb128(body.length), ...body];
  const I32 = 0x7f;
  const F32 = 0x7d;
  const V128 = 0x7b;
  const params = [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32];
  const [PW, PM, PV, PG, QW, QM, QV, NB, B1, B2, LR, IC2, EPS, OMB1, OMB2] = params.map((_, i) => i) as number[];
  // locals: i (i32), then v128: b1 b2 lr ic2 eps omb1 omb2 g m v
  const I = 15;
  const [VB1, VB2, VLR, VIC2, VEPS, VOMB1, VOMB2, G, MM, VV] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const simd = (op: number) => [0xfd, ...leb128(op)];
  const load = [...simd(0x00), 0x00, 0x00];
  const store = [...simd(0x0b), 0x00, 0x00];
  const splat = simd(0x13);
  const [fsqrt, fadd, fsub, fmul, fdiv] = [simd(0xe3), simd(0xe4), simd(0xe5), simd(0xe6), simd(0xe7)];
  const at = (p: number) => [...get(p!), ...get(I), 0x6a];
  const splatTo = (from: number, to: number) => [...get(from), ...splat, ...set(to)];
  const body = [
    ...splatTo(B1!, VB1!), ...splatTo(B2!, VB2!), ...splatTo(LR!, VLR!), ...splatTo(IC2!, VIC2!),
    ...splatTo(EPS!, VEPS!), ...splatTo(OMB1!, VOMB1!), ...splatTo(OMB2!, VOMB2!),
    0x41, 0x00, ...set(I),
    0x02, 0x40, 0x03, 0x40,
    ...get(I), ...get(NB!), 0x4f, 0x0d, 0x01, // if i >= nBytes break
    ...at(PG!), ...load, ...set(G!),
    ...at(PM!), ...load, ...get(VB1!), ...fmul, ...get(G!), ...get(VOMB1!), ...fmul, ...fadd, ...set(MM!),
    ...at(PV!), ...load, ...get(VB2!), ...fmul, ...get(G!), ...get(G!), ...fmul, ...get(VOMB2!), ...fmul, ...fadd, ...set(VV!),
    ...at(QM!), ...get(MM!), ...store,
    ...at(QV!), ...get(VV!), ...store,
    ...at(QW!), ...at(PW!), ...load, ...get(MM!), ...get(VLR!), ...fmul,
    ...get(VV!), ...get(VIC2!), ...fmul, ...fsqrt, ...get(VEPS!), ...fadd, ...fdiv, ...fsub, ...store,
    ...get(I), 0x41, 0x10, 0x6a, ...set(I),
    0x0c, 0x00,
    0x0b, 0x0b,
    0x0b,
  ];
  const func = [0x02, 0x01, I32, 0x0a, V128, ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, ...leb128(params.length), ...params, 0x00]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, ...name('adam'), 0x00, 0x00]),
    ...section(10, [0x01, ...leb128(func.length), ...func]),
  ]);
}

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  wasm: { HEAPF32: Float32Array; asm?: { memory?: WebAssembly.Memory } };
}

const adamByMemory = new WeakMap<WebAssembly.Memory, AdamSimd | null>();

/** The SIMD Adam bound to the active wasm backend's memory, or null where it cannot run. */
function simdAdamFor(backend: WasmHeapBackend): AdamSimd | null {
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (adamByMemory.has(memory)) return adamByMemory.get(memory)!;
  let fn: AdamSimd | null = null;
  try {
    const isShared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = adamModuleBytes();
    if (!isShared && WebAssembly.validate(bytes)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      fn = instance.exports.adam as AdamSimd;
    }
  } catch {
    fn = null;
  }
  adamByMemory.set(memory, fn);
  return fn;
}

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

/** Drop-in for tf.train.adam(lr) (same slots, weights format and class name), fast on wasm. */
export class WasmAdamOptimizer extends tf.AdamOptimizer {
  /** Steps that took the SIMD path (tests check it is really used). */
  simdSteps = 0;

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon as number);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const backend = tf.backend() as unknown as WasmHeapBackend;
    const simd = tf.getBackend() === 'wasm' ? simdAdamFor(backend) : null;
    const list: { name: string; tensor: tf.Tensor | undefined }[] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => ({ name: v.name, tensor: v.tensor as tf.Tensor | undefined }))
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] as tf.Tensor | undefined }));
    const usable = list.every(({ name, tensor }) => {
      const v = tf.engine().registeredVariables[name];
      return tensor == null || (v != null && v.dtype === 'float32' && tensor.dtype === 'float32' && v.size === tensor.size);
    });
    if (!simd || !usable) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamInternals;
    const { beta1, beta2, epsilon } = self;
    const c1 = 1 - self.accBeta1.dataSync()[0]!;
    const c2 = 1 - self.accBeta2.dataSync()[0]!;
    const lrT = self.learningRate / c1;
    const invC2 = 1 / c2;
    list.forEach(({ name, tensor: g }, i) => {
      const value = tf.engine().registeredVariables[name]!;
      const slot = (store: AdamInternals['accumulatedFirstMoment'], suffix: string) => {
        if (store[i] == null) {
          store[i] = { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        }
        return store[i]!.variable;
      };
      const m = slot(self.accumulatedFirstMoment, 'm');
      const v = slot(self.accumulatedSecondMoment, 'v');
      if (g == null) return;
      const shape = [...value.shape];
      const outW = backend.makeOutput(shape, 'float32');
      const outM = backend.makeOutput(shape, 'float32');
      const outV = backend.makeOutput(shape, 'float32');
      const off = (t: { dataId: object }) => backend.dataIdMap.get(t.dataId).memoryOffset >>> 0;
      const p = [off(value), off(m), off(v), off(g), off(outW), off(outM), off(outV)] as const;
      const n = value.size;
      const nVec = n - (n % 4);
      simd(p[0], p[1], p[2], p[3], p[4], p[5], p[6], nVec * 4, beta1, beta2, lrT, invC2, epsilon, 1 - beta1, 1 - beta2);
      if (nVec < n) {
        const h = backend.wasm.HEAPF32; // read after the mallocs: the heap may have grown
        const [pw, pm, pv, pg, qw, qm, qv] = p.map((x) => x >>> 2) as unknown as number[];
        for (let k = nVec; k < n; k++) {
          const gk = h[pg! + k]!;
          const mk = beta1 * h[pm! + k]! + (1 - beta1) * gk;
          const vk = beta2 * h[pv! + k]! + (1 - beta2) * gk * gk;
          h[qm! + k] = mk;
          h[qv! + k] = vk;
          h[qw! + k] = h[pw! + k]! - (lrT * mk) / (Math.sqrt(vk * invC2) + epsilon);
        }
      }
      for (const [variable, info] of [[m, outM], [v, outV], [value, outW]] as const) {
        const t = tf.engine().makeTensorFromTensorInfo(info);
        variable.assign(t);
        t.dispose();
      }
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, beta2));
    });
    self.incrementIterations();
    this.simdSteps += 1;
  }
}
