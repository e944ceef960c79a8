// Sum over leading axes on our GEMM (src-main/kernels/wasm-sum.ts) against the stock tfjs-wasm Sum, bit for bit:
// bias-gradient shapes, odd sizes, 3-D with two leading axes, keepDims, a single row, and values that test the
// order of the additions (large and small magnitudes, -0, infinities, NaN). Other reductions go to the stock kernel.
import v8 from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src-main/train/compute/backend';
import { ownGemmCalls } from '../../src-main/kernels/wasm-gemm';
import { gemmModuleBytes, type GemmFn, type PackFn } from '../../src-main/kernels/wasm-gemm-module';
import { registerFastWasmMatMul, unregisterFastWasmMatMul } from '../../src-main/kernels/wasm-kernels';
import { leadingReduction } from '../../src-main/kernels/wasm-sum';

beforeAll(async () => {
  await initBackend('wasm');
});

/** The sum with our kernels, with the stock ones, and whether ours ran. */
function both(x: tf.Tensor, axis: number | number[], keepDims = false) {
  const before = ownGemmCalls();
  const ours = tf.sum(x, axis, keepDims);
  const ran = ownGemmCalls() > before;
  unregisterFastWasmMatMul();
  try {
    const stock = tf.sum(x, axis, keepDims);
    return { ours, stock, ran };
  } finally {
    registerFastWasmMatMul();
  }
}

function sameBits(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const [p, q] = [a.dataSync(), b.dataSync()];
  let differ = 0;
  for (let i = 0; i < p.length; i++) if (!Object.is(p[i], q[i])) differ++;
  return differ;
}

describe('Sum over leading axes on our GEMM', () => {
  it('gives the stock sums bit for bit on bias-gradient and odd shapes', () => {
    const cases: [number[], number | number[], boolean][] = [
      [[128, 784], 0, false],
      [[64, 400], [0], false],
      [[128, 20], 0, true],
      [[1, 128, 784], [0, 1], false],
      [[1, 128, 40], [1, 0], true],
      [[37, 13], 0, false],
      [[1, 9], 0, false],
      [[5, 3, 7], 0, false],
      [[300, 1], -2, false],
    ];
    for (const [shape, axis, keepDims] of cases) {
      // magnitudes from 1e-4 to 1e4, so that the order of the additions shows in the last bits
      const x = tf.tidy(() =>
        tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 11), tf.pow(10, tf.randomUniform(shape, -4, 4, 'float32', 12))),
      );
      const { ours, stock, ran } = both(x, axis, keepDims);
      expect(ran, `${shape} over ${axis}`).toBe(true);
      expect(sameBits(ours, stock), `${shape} over ${axis}`).toBe(0);
      tf.dispose([x, ours, stock]);
    }
  });

  it('keeps -0, infinities and NaN as the stock kernel does', () => {
    const v = [-0, -0, 0, -0, Infinity, 1, -Infinity, 2, NaN, 3, -0, 1e30, -1e30, 1e-30, 5, 7];
    const x = tf.tensor2d(v, [4, 4]);
    const { ours, stock, ran } = both(x, 0);
    expect(ran).toBe(true);
    expect(sameBits(ours, stock)).toBe(0);
    const allNegZero = tf.tensor2d([-0, -0, -0, -0], [2, 2]);
    const z = both(allNegZero, 0);
    expect(sameBits(z.ours, z.stock)).toBe(0);
    tf.dispose([x, ours, stock, allNegZero, z.ours, z.stock]);
  });

  it('leaves other reductions to the stock kernel: inner axes, all axes, int32', () => {
    expect(leadingReduction([128, 784], 1)).toBeNull();
    expect(leadingReduction([128, 784], [0, 1])).toBeNull();
    expect(leadingReduction([4, 5, 6], [0, 2])).toBeNull();
    expect(leadingReduction([784], 0)).toBeNull();
    expect(leadingReduction([4, 5, 6], [1, 0])).toEqual({ rows: 20, cols: 6, kept: [6] });
    const x = tf.randomNormal([6, 8], 0, 1, 'float32', 3);
    for (const axis of [1, [0, 1]]) {
      const { ours, stock, ran } = both(x, axis);
      expect(ran).toBe(false);
      expect(sameBits(ours, stock)).toBe(0);
      tf.dispose([ours, stock]);
    }
    const ints = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    const r = both(ints, 0);
    expect(r.ran).toBe(false);
    expect(Array.from(r.ours.dataSync())).toEqual([4, 6]);
    tf.dispose([x, ints, r.ours, r.stock]);
  });
});

describe('column sums in the GEMM module itself (both variants)', () => {
  for (const fma of [false, true]) {
    it(`${fma ? 'relaxed-simd (FMA)' : 'simd (mul + add)'}: a row of ones times x adds the rows in order from 0, as a scalar loop does`, () => {
      if (fma && !WebAssembly.validate(gemmModuleBytes(true))) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
      const memory = new WebAssembly.Memory({ initial: 64 });
      const exports = new WebAssembly.Instance(new WebAssembly.Module(gemmModuleBytes(fma)), { env: { memory } }).exports;
      const [pack, gemm] = [exports.pack as PackFn, exports.gemm as GemmFn];
      for (const [rows, cols] of [
        [128, 784],
        [37, 13],
        [1, 5],
      ] as const) {
        const heap = new Float32Array(memory.buffer);
        const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 12.9898) * 10 ** ((i % 9) - 4));
        const [pOne, pX, pP] = [64, 128, 128 + rows * cols * 4 + 64];
        const pOut = pP + Math.ceil(cols / 8) * 8 * rows * 4 + 64;
        const pS = pOut + cols * 4 + 64;
        heap[pOne / 4] = 1;
        heap.set(x, pX / 4);
        pack(pX, cols * 4, 4, pP, rows, cols);
        gemm(pOne, 0, 0, pP, pOut, cols * 4, 1, cols, rows, 0, 0, pS);
        let differ = 0;
        for (let j = 0; j < cols; j++) {
          let acc = 0;
          for (let i = 0; i < rows; i++) acc = Math.fround(acc + x[i * cols + j]!);
          if (!Object.is(acc, heap[pOut / 4 + j])) differ++;
        }
        expect(differ, `${rows}x${cols}`).toBe(0);
      }
    });
  }
});
