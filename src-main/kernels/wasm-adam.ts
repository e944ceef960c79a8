// Fast path 3: WasmAdamOptimizer, tf.AdamOptimizer whose update is one SIMD wasm pass per weight.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from './kernel-wrapper';

// ---------------------------------------------------------------------------------------------
// Adam as one SIMD pass per weight.
//
// tf.train.adam runs ~13 kernels per weight, each a full pass over it (wasm Sqrt alone is slow),
// ~4.3 ms per step for the 653k weights of a 784-400-20 VAE on one core, ~15% of the step. The
// update below is a hand-assembled 276-byte WebAssembly SIMD function that reads w, m, v, g from
// the tfjs wasm heap and writes w', m', v' where it read them (fresh buffers when another tensor shares one):
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

/** adam2's extra parameter: a second gradient, g = g1 + g2 lane by lane (the sum of two shards' gradients). */
type AdamSumSimd = (...args: [...Parameters<AdamSimd>, pg2: number]) => void;

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const ADAM_PARAMS = [I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32];

/** The module: imports env.memory, exports adam(...) and adam2(..., pg2) over 4-float lanes (nBytes a multiple of 16). */
function adamModuleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...leb128(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, ...leb128(body.length), ...body];
  const funcType = (params: number[]) => [0x60, ...leb128(params.length), ...params, 0x00];
  const one = adamFunc(false);
  const two = adamFunc(true);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x02, ...funcType(ADAM_PARAMS), ...funcType([...ADAM_PARAMS, I32])]),
    ...section(2, [0x01, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00]),
    ...section(3, [0x02, 0x00, 0x01]),
    ...section(7, [0x02, ...name('adam'), 0x00, 0x00, ...name('adam2'), 0x00, 0x01]),
    ...section(10, [0x02, ...leb128(one.length), ...one, ...leb128(two.length), ...two]),
  ]);
}

/** One function's code entry: Adam over the lanes, g read from pg (or pg + pg2 when `sum`, pg2 its last parameter). */
// eslint-disable-next-line max-lines-per-function -- hand-assembled WebAssembly: the byte listing of one function
function adamFunc(sum: boolean): number[] {
  const [PW, PM, PV, PG, QW, QM, QV, NB, B1, B2, LR, IC2, EPS, OMB1, OMB2] = ADAM_PARAMS.map((_, i) => i) as number[];
  const PG2 = ADAM_PARAMS.length;
  // locals after the parameters: i (i32), then v128: b1 b2 lr ic2 eps omb1 omb2 g m v
  const I = ADAM_PARAMS.length + (sum ? 1 : 0);
  const [VB1, VB2, VLR, VIC2, VEPS, VOMB1, VOMB2, G, MM, VV] = Array.from({ length: 10 }, (_, j) => I + 1 + j);
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
    ...(sum ? [...at(PG2), ...load, ...fadd] : []),
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
  return [0x02, 0x01, I32, 0x0a, V128, ...body];
}

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  /** How many tensors share a buffer (a reshape or a variable's initial value shares its variable's). */
  refCount(dataId: object): number;
  wasm: { HEAPF32: Float32Array; asm?: { memory?: WebAssembly.Memory }; _malloc(n: number): number; _free(p: number): void };
}

interface AdamInstance {
  adam: AdamSimd;
  adam2: AdamSumSimd;
  /** Persistent heap room for a second gradient copied in from plain or shared memory (grown, never freed per step). */
  scratch: number;
  scratchBytes: number;
}

const adamByMemory = new WeakMap<WebAssembly.Memory, AdamInstance | null>();

/** The SIMD Adam bound to the active wasm backend's memory, or null where it cannot run. */
function simdAdamFor(backend: WasmHeapBackend): AdamInstance | null {
  const memory = backend.wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (adamByMemory.has(memory)) return adamByMemory.get(memory)!;
  let inst: AdamInstance | null = null;
  try {
    const isShared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = adamModuleBytes();
    if (!isShared && WebAssembly.validate(bytes)) {
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      inst = { adam: exports.adam as AdamSimd, adam2: exports.adam2 as AdamSumSimd, scratch: 0, scratchBytes: 0 };
    }
  } catch {
    inst = null;
  }
  adamByMemory.set(memory, inst);
  return inst;
}

/** The heap address of `values` copied into the instance's scratch (16-byte aligned). */
function copyToScratch(inst: AdamInstance, backend: WasmHeapBackend, values: Float32Array): number {
  const bytes = values.length * 4;
  if (inst.scratchBytes < bytes) {
    if (inst.scratch) backend.wasm._free(inst.scratch);
    inst.scratch = backend.wasm._malloc(bytes + 16) >>> 0;
    if (!inst.scratch) throw new Error(`wasm Adam: could not allocate ${bytes} bytes of scratch`);
    inst.scratchBytes = bytes;
  }
  const at = (inst.scratch + 15) & ~15;
  backend.wasm.HEAPF32.set(values, at >>> 2); // read after the malloc: the heap may have grown
  return at;
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

/** A weight's gradient, and with a second gradient the float offset of its values there. */
type GradientEntry = { name: string; tensor: tf.Tensor | undefined; second?: number };

/**
 * Whether `optimizer` is a WasmAdamOptimizer. Not `instanceof`: tfjs's Optimizer defines Symbol.hasInstance by duck
 * typing (anything with minimize, computeGradients and applyGradients), and subclasses inherit it, so every tfjs
 * optimizer, RMSprop and Adagrad included, is `instanceof WasmAdamOptimizer`.
 */
export function isWasmAdam(optimizer: unknown): optimizer is WasmAdamOptimizer {
  return typeof optimizer === 'object' && optimizer !== null && Object.prototype.isPrototypeOf.call(WasmAdamOptimizer.prototype, optimizer);
}

/** Drop-in for tf.train.adam(lr) (same slots, weights format and class name), fast on wasm. */
export class WasmAdamOptimizer extends tf.AdamOptimizer {
  /** Steps that took the SIMD path (tests check it is really used). */
  simdSteps = 0;

  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    super(learningRate, beta1, beta2, epsilon as number);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const list: GradientEntry[] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => ({ name: v.name, tensor: v.tensor as tf.Tensor | undefined }))
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] as tf.Tensor | undefined }));
    if (!this.applySimd(list, null)) super.applyGradients(variableGradients);
  }

  /**
   * Apply the gradients a[i] + b (b: the same weights' gradients in plain or shared memory, weight i's at float
   * offset offsets[i], by default one after the other) in one pass per weight, with no tensor made for the sum:
   * the sum of two shards' gradients (a + b equals tf.add(a, b) bit for bit, and b + a, so both sides of a
   * data-parallel step update to the same bits). False where the SIMD path cannot run (the caller then sums and
   * applies as usual); nothing was changed then.
   */
  applyGradientSum(vars: tf.Variable[], a: tf.Tensor[], b: Float32Array, offsets?: number[]): boolean {
    let next = 0;
    const at = offsets ?? vars.map((v) => ((next += v.size), next - v.size));
    const fits = at.length === vars.length && vars.every((v, i) => at[i]! >= 0 && at[i]! + v.size <= b.length);
    if (!fits || a.length !== vars.length || a.some((g, i) => g.size !== vars[i]!.size)) return false;
    return this.applySimd(
      vars.map((v, i) => ({ name: v.name, tensor: a[i], second: at[i]! })),
      b,
    );
  }

  /** The SIMD update of `list` (+ `second` when given); false (and nothing done) where it cannot run. */
  private applySimd(list: GradientEntry[], second: Float32Array | null): boolean {
    const backend = tf.backend() as unknown as WasmHeapBackend;
    const inst = tf.getBackend() === 'wasm' ? simdAdamFor(backend) : null;
    const usable = list.every(({ name, tensor }) => {
      const v = tf.engine().registeredVariables[name];
      return tensor == null || (v != null && v.dtype === 'float32' && tensor.dtype === 'float32' && v.size === tensor.size);
    });
    if (!inst || !usable || (second && list.some((e) => e.tensor == null))) return false;
    const self = this as unknown as AdamInternals;
    const pSecond = second ? copyToScratch(inst, backend, second) : 0;
    const c1 = 1 - self.accBeta1.dataSync()[0]!;
    const c2 = 1 - self.accBeta2.dataSync()[0]!;
    const hyper = { beta1: self.beta1, beta2: self.beta2, epsilon: self.epsilon, lrT: self.learningRate / c1, invC2: 1 / c2 };
    list.forEach(({ name, tensor: g, second: at }, i) => {
      const value = tf.engine().registeredVariables[name]!;
      const m = this.slot(self.accumulatedFirstMoment, i, name, 'm', value);
      const v = this.slot(self.accumulatedSecondMoment, i, name, 'v', value);
      if (g == null) return;
      updateWeight(inst, backend, { value, m, v, g, pg2: second ? pSecond + (at ?? 0) * 4 : 0 }, hyper);
    });
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
    this.simdSteps += 1;
    return true;
  }

  private slot(store: AdamInternals['accumulatedFirstMoment'], i: number, name: string, suffix: string, value: tf.Variable): tf.Variable {
    if (store[i] == null) {
      store[i] = { originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    }
    return store[i]!.variable;
  }
}

type Hyper = { beta1: number; beta2: number; epsilon: number; lrT: number; invC2: number };

/**
 * One weight's update. Each of w, m, v is updated in its own buffer when no other tensor shares it (refCount 1: the
 * usual case, the optimizer's own slots and a model's own variables): each lane is read before it is written, so
 * the pass may write where it reads, and a step allocates nothing and touches each buffer once. A buffer still
 * shared (a variable holding the tensor it was made or assigned from) gets a fresh one, assigned to the variable,
 * so that the sharing tensor keeps its values. The same arithmetic either way.
 */
function updateWeight(
  inst: AdamInstance,
  backend: WasmHeapBackend,
  t: { value: tf.Variable; m: tf.Variable; v: tf.Variable; g: tf.Tensor; pg2: number },
  h: Hyper,
): void {
  const { value, m, v, g, pg2 } = t;
  const { beta1, beta2, epsilon, lrT, invC2 } = h;
  const shape = [...value.shape];
  // per buffer: in place when the variable alone holds it, else a fresh one (assigned below)
  const held = [value, m, v] as const;
  const fresh = held.map((x) => (backend.refCount(x.dataId) === 1 ? null : backend.makeOutput(shape, 'float32')));
  const off = (x: { dataId: object }) => backend.dataIdMap.get(x.dataId).memoryOffset >>> 0;
  const into = (i: number) => off(fresh[i] ?? held[i]!);
  const p = [off(value), off(m), off(v), off(g), into(0), into(1), into(2)] as const;
  const n = value.size;
  const nVec = n - (n % 4);
  const args = [...p, nVec * 4, beta1, beta2, lrT, invC2, epsilon, 1 - beta1, 1 - beta2] as const;
  if (pg2) inst.adam2(...args, pg2);
  else inst.adam(...args);
  if (nVec < n) {
    const heap = backend.wasm.HEAPF32; // read after the mallocs: the heap may have grown
    const [pw, pm, pv, pg, qw, qm, qv] = p.map((x) => x >>> 2) as unknown as number[];
    const q2 = pg2 >>> 2;
    for (let k = nVec; k < n; k++) {
      const gk = pg2 ? Math.fround(heap[pg! + k]! + heap[q2 + k]!) : heap[pg! + k]!;
      const mk = beta1 * heap[pm! + k]! + (1 - beta1) * gk;
      const vk = beta2 * heap[pv! + k]! + (1 - beta2) * gk * gk;
      heap[qm! + k] = mk;
      heap[qv! + k] = vk;
      heap[qw! + k] = heap[pw! + k]! - (lrT * mk) / (Math.sqrt(vk * invC2) + epsilon);
    }
  }
  for (const [variable, info] of [
    [m, fresh[1]],
    [v, fresh[2]],
    [value, fresh[0]],
  ] as const) {
    if (!info) continue;
    const made = tf.engine().makeTensorFromTensorInfo(info);
    variable.assign(made);
    made.dispose();
  }
}
