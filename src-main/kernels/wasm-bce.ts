// The Bernoulli log-likelihood of many decoded samples in one SIMD pass, for evaluation on the wasm backend.
//
// The importance-weighted -log p(x) decodes k samples per example and needs, per decoded row r = s*n + i,
//   sum_j softplus(l_rj) - l_rj * x_ij        (the binary cross-entropy with logits, summed over pixels).
// With stock kernels that is Softplus (libm exp and log1p, ~140 ms for 8,000 x 784 values on one core),
// Multiply, Sub and Sum: as long as the decoder's matrix product itself. The hand-assembled function below
// reads logits and x from the tfjs wasm heap and writes one float per row, 4 lanes at a time:
//   softplus(l) = max(l, 0) + log1p(exp(-|l|)),
//   exp(a) = 2^n * e^y with n = nearest(a / ln 2), y = a - n ln 2 in [-ln2/2, ln2/2] (Taylor to y^7),
//   log1p(e) = 2 atanh(u), u = e / (2 + e) in (0, 1/3] (odd series to u^13),
// both within ~1e-7 of the libm values (the test compares with the stock kernels). Forward only: it has no
// gradient, so only evaluation uses it; elsewhere (or on the threaded build, whose memory is shared)
// bceRowSums returns null and the caller uses the stock kernels.
import * as tf from '@tensorflow/tfjs';

type BceSimd = (pl: number, px: number, pout: number, k: number, n: number, dBytes: number) => void;

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

function f32(v: number): number[] {
  const b = new Uint8Array(new Float32Array([v]).buffer);
  return [0x43, ...b]; // f32.const
}

/** The module: imports env.memory, exports bce(pl, px, pout, k, n, dBytes), dBytes a multiple of 16. */
// eslint-disable-next-line max-lines-per-function -- hand-assembled WebAssembly: the byte listing of one module
export function bceModuleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...leb128(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]) => [id, ...leb128(body.length), ...body];
  const I32 = 0x7f;
  const V128 = 0x7b;
  // params: 0 pl, 1 px, 2 pout, 3 k, 4 n, 5 dBytes (all i32)
  const [PL, PX, POUT, K, N, DB] = [0, 1, 2, 3, 4, 5];
  // i32 locals: 6 s, 7 i, 8 j, 9 rowL (byte offset of the row's logits), 10 rowX, 11 out pointer
  const [S, I, J, RL, RX, OUT] = [6, 7, 8, 9, 10, 11];
  // v128 locals: 12 acc, 13 l, 14 a, 15 t, 16 e, 17 u, 18 w
  const [ACC, L, A, T, E, U, W] = [12, 13, 14, 15, 16, 17, 18];
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const tee = (i: number) => [0x22, i];
  const simd = (op: number) => [0xfd, ...leb128(op)];
  const load = [...simd(0x00), 0x00, 0x00];
  const splat = (v: number) => [...f32(v), ...simd(0x13)];
  const [fabs, fneg, fadd, fsub, fmul, fdiv, fmax] = [0xe0, 0xe1, 0xe4, 0xe5, 0xe6, 0xe7, 0xe9].map(simd) as number[][];
  const fnearest = simd(0x6a);
  const i32x4TruncSat = simd(0xf8);
  const i32x4Add = simd(0xae);
  const i32x4Shl = simd(0xab);
  const i32x4Splat = simd(0x11);
  const lane = (k: number) => [...simd(0x1f), k];
  const LN2 = Math.LN2;
  // Horner: ((c_m * v + c_{m-1}) * v + ...) * v + c_0, with v in local `v`.
  const horner = (coeffs: number[], v: number) => {
    const out: number[] = [...splat(coeffs[coeffs.length - 1]!)];
    for (let c = coeffs.length - 2; c >= 0; c--) out.push(...get(v), ...fmul, ...splat(coeffs[c]!), ...fadd);
    return out;
  };
  const fact = (m: number): number => (m <= 1 ? 1 : m * fact(m - 1));
  const inner = [
    // l = load(rowL + j); a = max(-|l|, -87)
    ...get(RL),
    ...get(J),
    0x6a,
    ...load,
    ...tee(L),
    ...fabs,
    ...fneg,
    ...splat(-87),
    ...fmax,
    ...set(A),
    // t = nearest(a / ln2); y = a - t ln2 (kept in A)
    ...get(A),
    ...splat(1 / LN2),
    ...fmul,
    ...fnearest,
    ...set(T),
    ...get(A),
    ...get(T),
    ...splat(LN2),
    ...fmul,
    ...fsub,
    ...set(A),
    // e = poly(y) * 2^t, 2^t from the exponent bits ((t + 127) << 23)
    ...horner(
      [0, 1, 2, 3, 4, 5, 6, 7].map((m) => 1 / fact(m)),
      A,
    ),
    ...get(T),
    ...i32x4TruncSat,
    0x41,
    0xff,
    0x00,
    ...i32x4Splat,
    ...i32x4Add,
    0x41,
    23,
    ...i32x4Shl,
    ...fmul,
    ...set(E),
    // u = e / (2 + e); w = u^2; log1p(e) = u * (2 + w (2/3 + w (2/5 + ...)))
    ...get(E),
    ...splat(2),
    ...get(E),
    ...fadd,
    ...fdiv,
    ...tee(U),
    ...get(U),
    ...fmul,
    ...set(W),
    ...get(U),
    ...horner([2, 2 / 3, 2 / 5, 2 / 7, 2 / 9, 2 / 11, 2 / 13], W),
    ...fmul,
    // + max(l, 0) - l * x, into the accumulator
    ...get(L),
    ...splat(0),
    ...fmax,
    ...fadd,
    ...get(L),
    ...get(RX),
    ...get(J),
    0x6a,
    ...load,
    ...fmul,
    ...fsub,
    ...get(ACC),
    ...fadd,
    ...set(ACC),
  ];
  const body = [
    ...get(POUT),
    ...set(OUT),
    ...get(PL),
    ...set(RL),
    0x41,
    0x00,
    ...set(S),
    0x02,
    0x40,
    0x03,
    0x40, // block loop (samples)
    ...get(S),
    ...get(K),
    0x4e,
    0x0d,
    0x01, // if s >= k break
    0x41,
    0x00,
    ...set(I),
    ...get(PX),
    ...set(RX),
    0x02,
    0x40,
    0x03,
    0x40, // block loop (examples)
    ...get(I),
    ...get(N),
    0x4e,
    0x0d,
    0x01,
    ...splat(0),
    ...set(ACC),
    0x41,
    0x00,
    ...set(J),
    0x02,
    0x40,
    0x03,
    0x40, // block loop (pixels, 4 at a time)
    ...get(J),
    ...get(DB),
    0x4e,
    0x0d,
    0x01,
    ...inner,
    ...get(J),
    0x41,
    0x10,
    0x6a,
    ...set(J),
    0x0c,
    0x00,
    0x0b,
    0x0b,
    // out[row] = the 4 lanes' sum
    ...get(OUT),
    ...get(ACC),
    ...lane(0),
    ...get(ACC),
    ...lane(1),
    0x92,
    ...get(ACC),
    ...lane(2),
    0x92,
    ...get(ACC),
    ...lane(3),
    0x92,
    0x38,
    0x02,
    0x00, // f32.store align=4
    ...get(OUT),
    0x41,
    0x04,
    0x6a,
    ...set(OUT),
    ...get(RL),
    ...get(DB),
    0x6a,
    ...set(RL),
    ...get(RX),
    ...get(DB),
    0x6a,
    ...set(RX),
    ...get(I),
    0x41,
    0x01,
    0x6a,
    ...set(I),
    0x0c,
    0x00,
    0x0b,
    0x0b,
    ...get(S),
    0x41,
    0x01,
    0x6a,
    ...set(S),
    0x0c,
    0x00,
    0x0b,
    0x0b,
    0x0b,
  ];
  const func = [0x02, 0x06, I32, 0x07, V128, ...body];
  const params = [I32, I32, I32, I32, I32, I32];
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
    ...section(7, [0x01, ...name('bce'), 0x00, 0x00]),
    ...section(10, [0x01, ...leb128(func.length), ...func]),
  ]);
}

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  wasm: { asm?: { memory?: WebAssembly.Memory } };
}

const byMemory = new WeakMap<WebAssembly.Memory, BceSimd | null>();

function simdBceFor(backend: WasmHeapBackend): BceSimd | null {
  const memory = backend.wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (byMemory.has(memory)) return byMemory.get(memory)!;
  let fn: BceSimd | null = null;
  try {
    const isShared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = bceModuleBytes();
    if (!isShared && WebAssembly.validate(bytes))
      fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports.bce as BceSimd;
  } catch {
    fn = null;
  }
  byMemory.set(memory, fn);
  return fn;
}

type Operand = { dataId: object; shape: number[]; dtype: string };

/** The fused pass for these operands, or null where it cannot run (not wasm, turned off, d not a multiple of 4, not float32). */
function fusedFor(logits: Operand, x: Operand, k: number): BceSimd | null {
  if (tf.getBackend() !== 'wasm' || process.env.VAE_WORKBENCH_WASM_FUSED_BCE === '0') return null;
  const [n, d] = x.shape as [number, number];
  if (x.shape.length !== 2 || logits.shape.length !== 2) return null;
  if (d % 4 !== 0 || logits.shape[0] !== k * n || logits.shape[1] !== d || logits.dtype !== 'float32' || x.dtype !== 'float32') return null;
  return simdBceFor(tf.backend() as unknown as WasmHeapBackend);
}

/** Whether bceRowSums / bceRowSumsInfo run for these operands. */
export function canFuseBce(logits: Operand, x: Operand, k: number): boolean {
  return fusedFor(logits, x, k) != null;
}

/** The row sums written into a new backend buffer (a kernel's output), shape `outShape`; null where the pass cannot run. */
export function bceRowSumsInfo(logits: Operand, x: Operand, k: number, outShape: number[]): tf.TensorInfo | null {
  const fn = fusedFor(logits, x, k);
  if (!fn) return null;
  const [n, d] = x.shape as [number, number];
  const backend = tf.backend() as unknown as WasmHeapBackend;
  const out = backend.makeOutput(outShape, 'float32');
  const off = (t: { dataId: object }) => backend.dataIdMap.get(t.dataId).memoryOffset >>> 0;
  fn(off(logits), off(x), off(out), k, n, d * 4);
  return out;
}

/**
 * sum_j softplus(l_rj) - l_rj x_ij for the k * n rows of `logits` (sample-major: row s*n + i belongs to
 * example i of x [n, d]), as a [k, n] tensor; null where the SIMD path cannot run (not wasm, d not a
 * multiple of 4, not float32). No gradient (wasm-bce-trainable.ts has the training loss's kernel).
 */
export function bceRowSums(logits: tf.Tensor2D, x: tf.Tensor2D, k: number): tf.Tensor2D | null {
  const out = bceRowSumsInfo(logits, x, k, [k, x.shape[0]]);
  return out ? (tf.engine().makeTensorFromTensorInfo(out) as tf.Tensor2D) : null;
}
