// Our wasm SIMD GEMM (src-main/kernels/wasm-gemm*.ts): the module itself in both variants against a float64
// reference, and the registered BatchMatMul / _FusedMatMul kernels against the stock tfjs-wasm kernels (XNNPACK)
// on random and edge shapes (1 row, odd sizes, k not a multiple of the block, k = 0, batches, broadcasting).
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src-main/train/compute/backend';
import { gemmModuleBytes, type GemmFn, type PackFn } from '../../src-main/kernels/wasm-gemm-module';
import { activeGemmVariant, ownGemmCalls, setOwnGemm } from '../../src-main/kernels/wasm-gemm';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}
const rand = (rng: () => number, n: number) => Float32Array.from({ length: n }, rng);

/** max |x - ref| / max(|ref|, 1): the error relative to the scale of the products. */
function relErr(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(x.length).toBe(ref.length);
  let num = 0;
  let den = 1;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(x[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return num / den;
}

// [m, k, n]: 1 row, one of everything, a whole block, odd sizes, k not a multiple of anything, k = 0, the reference shapes
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 37, 9],
  [3, 5, 7],
  [4, 8, 8],
  [5, 9, 17],
  [13, 33, 15],
  [7, 0, 9],
  [9, 1, 3],
  [128, 784, 400],
  [784, 128, 400],
  [128, 400, 784],
  [2, 20, 784],
];

describe('the GEMM module (both variants)', () => {
  for (const fma of [false, true]) {
    it(`${fma ? 'relaxed-simd (FMA)' : 'simd (mul + add)'} equals a float64 reference in every transpose mode, with bias and relu`, () => {
      // Node 20 needs the flag the trainers are started with; set it here for this test process.
      if (fma && !WebAssembly.validate(gemmModuleBytes(true))) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      expect(WebAssembly.validate(gemmModuleBytes(fma))).toBe(true);
      const memory = new WebAssembly.Memory({ initial: 1024 });
      const exports = new WebAssembly.Instance(new WebAssembly.Module(gemmModuleBytes(fma)), { env: { memory } }).exports;
      const pack = exports.pack as PackFn;
      const gemm = exports.gemm as GemmFn;
      const rng = seeded(fma ? 2 : 1);
      for (const [m, k, n] of SHAPES)
        for (const tA of [false, true])
          for (const tB of [false, true]) {
            const flags = (m + k + n + (tA ? 1 : 0) + (tB ? 2 : 0)) % 4; // every combination of bias / relu across the cases
            const [A, B, bias] = [rand(rng, m * k), rand(rng, k * n), rand(rng, n + 8)];
            const pA = 64;
            const pB = pA + m * k * 4 + 64;
            const pP = pB + k * n * 4 + 64;
            const pC = pP + Math.ceil(n / 8) * 8 * k * 4 + 64;
            const pBias = pC + m * n * 4 + 64;
            const pS = pBias + (n + 8) * 4 + 64;
            const heap = new Float32Array(memory.buffer);
            heap.fill(NaN, pC / 4 - 16, pC / 4 + m * n + 16); // catches unwritten outputs and writes past the end
            heap.set(A, pA / 4);
            heap.set(B, pB / 4);
            heap.set(bias, pBias / 4);
            pack(pB, tB ? 4 : n * 4, tB ? k * 4 : 4, pP, k, n);
            gemm(pA, tA ? 4 : k * 4, tA ? m * 4 : 4, pP, pC, n * 4, m, n, k, pBias, flags, pS);
            const ref = new Float64Array(m * n);
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let s = flags & 1 ? bias[j]! : 0;
                for (let p = 0; p < k; p++) s += (tA ? A[p * m + i]! : A[i * k + p]!) * (tB ? B[j * k + p]! : B[p * n + j]!);
                ref[i * n + j] = flags & 2 ? Math.max(s, 0) : s;
              }
            const label = `${m}x${k}x${n} tA=${tA} tB=${tB} flags=${flags}`;
            expect(relErr(heap.subarray(pC / 4, pC / 4 + m * n), ref), label).toBeLessThan(2e-6 * Math.max(1, Math.sqrt(k)));
            expect(Number.isNaN(heap[pC / 4 - 1]!) && Number.isNaN(heap[pC / 4 + m * n]!), `${label}: writes stay inside C`).toBe(true);
          }
    });
  }
});

describe('the GEMM as the tfjs-wasm matmul kernels', () => {
  beforeAll(async () => {
    expect((await initBackend('wasm')).active).toBe('wasm');
  });
  afterAll(() => setOwnGemm(true));

  /** The same computation with our GEMM and with the stock kernels (XNNPACK), as plain arrays. */
  function both(fn: () => tf.Tensor): { own: Float32Array; stock: Float32Array; shape: number[]; ran: boolean } {
    setOwnGemm(true);
    const before = ownGemmCalls();
    const own = tf.tidy(() => fn().dataSync() as Float32Array).slice();
    const ran = ownGemmCalls() > before;
    const shape = tf.tidy(() => fn().shape);
    setOwnGemm(false);
    const stock = tf.tidy(() => fn().dataSync() as Float32Array).slice();
    setOwnGemm(true);
    return { own, stock, shape, ran };
  }

  it('runs a variant on this runtime', () => {
    expect(['simd', 'relaxed-simd']).toContain(activeGemmVariant());
  });

  it('matMul equals the stock kernels on random and edge shapes, every transpose mode, batched and broadcast', () => {
    const rng = seeded(5);
    for (const [m, k, n] of SHAPES.filter(([, k]) => k > 0))
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const batch of (m * k * n > 1e5 ? [[]] : [[], [3], [1, 2]]) as number[][]) {
            const a = rand(
              rng,
              Math.max(
                1,
                batch.reduce((p, d) => p * d, 1),
              ) *
                m *
                k,
            );
            const b = rand(rng, k * n);
            const aShape = [...batch, ...(tA ? [k, m] : [m, k])];
            const bShape = tB ? [n, k] : [k, n];
            const r = both(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), tA, tB));
            const label = `${aShape} x ${bShape} tA=${tA} tB=${tB}`;
            expect(r.ran, label).toBe(true);
            expect(relErr(r.own, r.stock), label).toBeLessThan(1e-5);
          }
  });

  it('fused matMul (bias, relu / linear) equals the stock kernel; elu falls back to it', () => {
    const rng = seeded(9);
    for (const [m, k, n] of [
      [1, 784, 400],
      [19, 41, 23],
      [128, 400, 784],
      [5, 3, 1],
    ] as [number, number, number][])
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const activation of ['relu', 'linear', 'elu'] as const)
            for (const withBias of [true, false]) {
              const [a, b, bias] = [rand(rng, m * k), rand(rng, k * n), rand(rng, n)];
              const r = both(() =>
                tf.fused.matMul({
                  a: tf.tensor2d(a, tA ? [k, m] : [m, k]),
                  b: tf.tensor2d(b, tB ? [n, k] : [k, n]),
                  transposeA: tA,
                  transposeB: tB,
                  bias: withBias ? tf.tensor1d(bias) : undefined,
                  activation,
                }),
              );
              const label = `${m}x${k}x${n} tA=${tA} tB=${tB} ${activation} bias=${withBias}`;
              expect(r.ran, label).toBe(activation !== 'elu');
              expect(relErr(r.own, r.stock), label).toBeLessThan(1e-5);
            }
  });

  it('gradients of a dense layer equal the stock kernels (both gradient products)', () => {
    const rng = seeded(13);
    const [batch, inDim, hidden] = [37, 53, 29];
    const [x, w, bias] = [rand(rng, batch * inDim), rand(rng, inDim * hidden), rand(rng, hidden)];
    const grads = () => {
      const xs = tf.tensor2d(x, [batch, inDim]);
      const f = (X: tf.Tensor, W: tf.Tensor, B: tf.Tensor) =>
        tf.fused
          .matMul({ a: X as tf.Tensor2D, b: W as tf.Tensor2D, bias: B, activation: 'linear' })
          .square()
          .sum() as tf.Scalar;
      return tf.concat(
        tf
          .grads(f)([xs, tf.tensor2d(w, [inDim, hidden]), tf.tensor1d(bias)])
          .map((g) => g.flatten()),
      );
    };
    const r = both(grads);
    expect(r.ran).toBe(true);
    expect(relErr(r.own, r.stock)).toBeLessThan(1e-5);
  });
});
