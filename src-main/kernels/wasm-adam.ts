// Fast path 3: WasmAdamOptimizer, tf.AdamOptimizer whose update is one SIMD wasm pass per weight.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from './kernel-wrapper';

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
  pw: number,
  pm: number,
  pv: number,
  pg: number,
  qw: number,
  qm: number,
  qv: number,
  nBytes: number,
  b1: number,
  b2: number,
  lrT: number,
  invC2: number,
  eps: number,
  omb1: number,
  omb2: number,
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
// eslint-disable-next-line max-lines-per-function -- hand-assembled WebAssembly: the byte listing of one module
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
    ...splatTo(B1!, VB1!),
    ...splatTo(B2!, VB2!),
    ...splatTo(LR!, VLR!),
    ...splatTo(IC2!, VIC2!),
    ...splatTo(EPS!, VEPS!),
    ...splatTo(OMB1!, VOMB1!),
    ...splatTo(OMB2!, VOMB2!),
    0x41,
    0x00,
    ...set(I),
    0x02,
    0x40,
    0x03,
    0x40,
    ...get(I),
    ...get(NB!),
    0x4f,
    0x0d,
    0x01, // if i >= nBytes break
    ...at(PG!),
    ...load,
    ...set(G!),
    ...at(PM!),
    ...load,
    ...get(VB1!),
    ...fmul,
    ...get(G!),
    ...get(VOMB1!),
    ...fmul,
    ...fadd,
    ...set(MM!),
    ...at(PV!),
    ...load,
    ...get(VB2!),
    ...fmul,
    ...get(G!),
    ...get(G!),
    ...fmul,
    ...get(VOMB2!),
    ...fmul,
    ...fadd,
    ...set(VV!),
    ...at(QM!),
    ...get(MM!),
    ...store,
    ...at(QV!),
    ...get(VV!),
    ...store,
    ...at(QW!),
    ...at(PW!),
    ...load,
    ...get(MM!),
    ...get(VLR!),
    ...fmul,
    ...get(VV!),
    ...get(VIC2!),
    ...fmul,
    ...fsqrt,
    ...get(VEPS!),
    ...fadd,
    ...fdiv,
    ...fsub,
    ...store,
    ...get(I),
    0x41,
    0x10,
    0x6a,
    ...set(I),
    0x0c,
    0x00,
    0x0b,
    0x0b,
    0x0b,
  ];
  const func = [0x02, 0x01, I32, 0x0a, V128, ...body];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
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
      for (const [variable, info] of [
        [m, outM],
        [v, outV],
        [value, outW],
      ] as const) {
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
