// Fast path 1 (registered by wasm-kernels.ts through wasm-matmul.ts): BatchMatMul and _FusedMatMul on our own
// wasm SIMD GEMM (wasm-gemm-module.ts) instead of XNNPACK plus a transpose. Every dense product of training and
// evaluation goes through these two kernels: the forward pass (x W + b, fused), both gradient products
// (dW = x^T dy, dx = dy W^T: BatchMatMul with transpose flags), and the IW decoder. Transposes are folded
// into the packing of B and the strides of A, so no transposed copy is ever made.
//
// Variant: the relaxed-SIMD (FMA) module where the runtime validates it (Electron 40, Node >= 22, Node 20 with
// --experimental-wasm-relaxed-simd, which the trainers are started with), else plain SIMD (mul + add).
// VAE_WORKBENCH_WASM_GEMM=0 turns the kernel off (the XNNPACK route then runs), =simd forces the plain variant.
// Where it cannot run (threaded build: its memory is shared; prelu / leaky relu / elu fused activations;
// batch shapes that broadcast other than 1 against n) ownMatMul returns null and the caller takes the old route.
import * as tf from '@tensorflow/tfjs';
import type { TensorInfo } from './kernel-wrapper';
import { gemmModuleBytes, type GemmFn, type PackFn } from './wasm-gemm-module';

export type GemmVariant = 'relaxed-simd' | 'simd';

interface GemmInstance {
  pack: PackFn;
  gemm: GemmFn;
  variant: GemmVariant;
  /** Persistent scratch in the heap (packed B, padded bias, partial-panel rows): grown, never freed per call. */
  scratch: number;
  scratchBytes: number;
}

interface WasmGemmBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { asm?: { memory?: WebAssembly.Memory }; _malloc(n: number): number; _free(p: number): void; HEAPF32: Float32Array };
}

const byMemory = new WeakMap<WebAssembly.Memory, GemmInstance | null>();
let enabled = process.env.VAE_WORKBENCH_WASM_GEMM !== '0';
let calls = 0;

/** How many products our GEMM has computed in this process (tests and benches check that it ran). */
export function ownGemmCalls(): number {
  return calls;
}

/** Turn our GEMM on or off for the calls that follow (benchmarks compare it with the XNNPACK route). */
export function setOwnGemm(on: boolean): void {
  enabled = on;
}

/** The variant this runtime would run (validated once), or null where SIMD itself is missing. */
export function gemmVariantAvailable(): GemmVariant | null {
  if (process.env.VAE_WORKBENCH_WASM_GEMM !== 'simd' && WebAssembly.validate(gemmModuleBytes(true))) return 'relaxed-simd';
  return WebAssembly.validate(gemmModuleBytes(false)) ? 'simd' : null;
}

/** Which variant ran on the active wasm backend (null: ours is off or cannot run there). */
export function activeGemmVariant(): GemmVariant | null {
  if (!enabled || tf.getBackend() !== 'wasm') return null;
  return instanceFor(tf.backend() as unknown as WasmGemmBackend)?.variant ?? null;
}

function instanceFor(backend: WasmGemmBackend): GemmInstance | null {
  const memory = backend.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || typeof backend.wasm._malloc !== 'function') return null;
  if (byMemory.has(memory)) return byMemory.get(memory)!;
  let inst: GemmInstance | null = null;
  try {
    const isShared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const variant = gemmVariantAvailable();
    if (!isShared && variant) {
      const module = new WebAssembly.Module(gemmModuleBytes(variant === 'relaxed-simd'));
      const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
      inst = { pack: exports.pack as PackFn, gemm: exports.gemm as GemmFn, variant, scratch: 0, scratchBytes: 0 };
    }
  } catch {
    inst = null;
  }
  byMemory.set(memory, inst);
  return inst;
}

/** A 64-byte-aligned scratch region of at least `bytes`, reused from call to call. */
function scratchOf(inst: GemmInstance, backend: WasmGemmBackend, bytes: number): number {
  if (inst.scratchBytes < bytes) {
    if (inst.scratch) backend.wasm._free(inst.scratch);
    const size = Math.max(bytes, Math.ceil(inst.scratchBytes * 1.5)) + 64;
    inst.scratch = backend.wasm._malloc(size) >>> 0;
    if (!inst.scratch) throw new Error(`wasm GEMM: could not allocate ${size} bytes of scratch`);
    inst.scratchBytes = size - 64;
  }
  return (inst.scratch + 63) & ~63;
}

const prod = (xs: number[]): number => xs.reduce((p, d) => p * d, 1);

interface MatMulArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

/** The output's batch dims, or null when the two batch shapes broadcast in a way we leave to the stock kernel. */
function batchDims(a: TensorInfo, b: TensorInfo): number[] | null {
  const da = a.shape.slice(0, -2);
  const db = b.shape.slice(0, -2);
  const na = prod(da);
  const nb = prod(db);
  if (na === 1 && nb === 1) return da.length >= db.length ? da : db;
  if (nb === 1 && da.length >= db.length) return da;
  if (na === 1 && db.length >= da.length) return db;
  if (da.length === db.length && da.every((d, i) => d === db[i])) return da;
  return null;
}

/**
 * C = op(A) op(B) (+ bias, relu) on our GEMM, as the BatchMatMul / _FusedMatMul kernels' output; null where it
 * cannot run (the caller then takes the stock route).
 */
export function ownMatMul(args: MatMulArgs): TensorInfo | null {
  if (!enabled) return null;
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string };
  const activation = attrs.activation ?? 'linear';
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || preluActivationWeights) return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  if (a.shape.length < 2 || b.shape.length < 2 || (bias && (bias.shape.length !== 1 || bias.dtype !== 'float32'))) return null;
  const dims = batchDims(a, b);
  if (!dims) return null;
  const backend = args.backend as WasmGemmBackend;
  const inst = instanceFor(backend);
  if (!inst) return null;
  const tA = Boolean(attrs.transposeA);
  const tB = Boolean(attrs.transposeB);
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [m, k] = tA ? [ac, ar] : [ar, ac];
  const [kB, n] = tB ? [bc, br] : [br, bc];
  if (k !== kB) throw new Error(`matMul: inner sizes ${k} and ${kB} (shapes ${a.shape} and ${b.shape}) differ`);
  if (bias && bias.shape[0] !== n && bias.shape[0] !== 1) return null;
  const out = backend.makeOutput([...dims, m, n], 'float32');
  calls++;
  run(inst, backend, { a, b, bias, out, m, n, k, tA, tB, relu: activation === 'relu', batches: prod(dims) });
  return out;
}

interface Job {
  a: TensorInfo;
  b: TensorInfo;
  bias: TensorInfo | undefined;
  out: TensorInfo;
  m: number;
  n: number;
  k: number;
  tA: boolean;
  tB: boolean;
  relu: boolean;
  batches: number;
}

function run(inst: GemmInstance, backend: WasmGemmBackend, job: Job): void {
  const { m, n, k, tA, tB } = job;
  const nPad = Math.ceil(n / 8) * 8;
  const packedBytes = nPad * k * 4;
  const base = scratchOf(inst, backend, packedBytes + nPad * 4 + 128 + 128);
  const pBias = base + packedBytes;
  const pS = pBias + nPad * 4 + 64;
  const off = (t: TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset >>> 0;
  const [pA, pB, pC] = [off(job.a), off(job.b), off(job.out)];
  let flags = job.relu ? 2 : 0;
  if (job.bias) {
    const heap = backend.wasm.HEAPF32;
    const from = off(job.bias) >>> 2;
    const at = pBias >>> 2;
    if (job.bias.shape[0] === n) heap.copyWithin(at, from, from + n);
    else heap.fill(heap[from]!, at, at + n);
    heap.fill(0, at + n, at + nPad);
    flags |= 1;
  }
  const aStride = m * k * 4;
  const bStride = k * n * 4;
  const aBatches = prod(job.a.shape.slice(0, -2));
  const bBatches = prod(job.b.shape.slice(0, -2));
  for (let t = 0; t < job.batches; t++) {
    if (t === 0 || bBatches > 1) inst.pack(pB + (bBatches > 1 ? t * bStride : 0), tB ? 4 : n * 4, tB ? k * 4 : 4, base, k, n);
    const aAt = pA + (aBatches > 1 ? t * aStride : 0);
    inst.gemm(aAt, tA ? 4 : k * 4, tA ? m * 4 : 4, base, pC + t * m * n * 4, n * 4, m, n, k, pBias, flags, pS);
  }
}

/** The largest packed copy a column sum makes (bias gradients of the reference model: 400 KB). */
const MAX_COLUMN_SUM_SCRATCH = 16 << 20;

/**
 * Column sums of x viewed as [rows, cols] (the sum over its leading axes): a [1, rows] x [rows, cols] product with
 * a row of ones, whose every output is summed over the rows in order from 0, as the stock Sum kernel sums (the
 * ones make each product exact, with or without FMA), so the sums are the stock ones bit for bit. The kernel's
 * output shaped `outShape`; null where our GEMM cannot run.
 */
export function ownColumnSums(x: TensorInfo, rows: number, cols: number, outShape: number[], backend: unknown): TensorInfo | null {
  if (!enabled || x.dtype !== 'float32' || rows < 1 || cols < 1) return null;
  const nPad = Math.ceil(cols / 8) * 8;
  const packedBytes = nPad * rows * 4;
  // the packed copy stays in the scratch, which is kept: large reductions go to the stock kernel
  if (packedBytes > MAX_COLUMN_SUM_SCRATCH) return null;
  const b = backend as WasmGemmBackend;
  const inst = instanceFor(b);
  if (!inst) return null;
  const base = scratchOf(inst, b, packedBytes + 64 + 128 + 64);
  const pOne = base + packedBytes;
  const pS = pOne + 64;
  const out = b.makeOutput(outShape, 'float32');
  b.wasm.HEAPF32[pOne >>> 2] = 1; // the heap after makeOutput: it may have grown
  const off = (t: TensorInfo) => b.dataIdMap.get(t.dataId)!.memoryOffset >>> 0;
  calls++;
  inst.pack(off(x), cols * 4, 4, base, rows, cols);
  // A = one 1.0 read for every (i, p): both strides 0
  inst.gemm(pOne, 0, 0, base, off(out), cols * 4, 1, cols, rows, 0, 0, pS);
  return out;
}
