// The fused SIMD Bernoulli log-likelihood (wasm-bce.ts) against the stock kernels it replaces in
// evaluation: softplus(l) - l * x summed per row, over ordinary and extreme logits, on the wasm backend; and the
// training loss's kernel built on it, whose gradient must be the stock graph's bit for bit.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src-main/train/compute/backend';
import { bceModuleBytes, bceRowSums } from '../../src-main/kernels/wasm-bce';
import { bceRowSumsTrainable } from '../../src-main/kernels/wasm-bce-trainable';

beforeAll(async () => {
  await initBackend('wasm');
});

const stock = (l: tf.Tensor2D, x: tf.Tensor2D, k: number) =>
  tf.tidy(() => {
    const l3 = tf.reshape(l, [k, x.shape[0], x.shape[1]]);
    return tf.sum(tf.sub(tf.softplus(l3), tf.mul(l3, x)), 2).dataSync();
  });

describe('fused Bernoulli row sums on wasm', () => {
  it('is valid WebAssembly and runs on the wasm backend', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(WebAssembly.validate(bceModuleBytes())).toBe(true);
  });

  it('equals softplus(l) - l x summed per row, sample-major rows against broadcast x', () => {
    const [k, n, d] = [7, 5, 784];
    const l = tf.mul(tf.randomNormal([k * n, d], 0, 1, 'float32', 1), 6) as tf.Tensor2D;
    const x = tf.cast(tf.greater(tf.randomUniform([n, d], 0, 1, 'float32', 2), 0.6), 'float32') as tf.Tensor2D;
    const fast = bceRowSums(l, x, k)!;
    expect(fast.shape).toEqual([k, n]);
    const a = fast.dataSync();
    const b = stock(l, x, k);
    for (let i = 0; i < k * n; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5 * Math.abs(b[i]!) + 1e-3);
    expect(new Set(Array.from(a)).size).toBe(k * n);
    tf.dispose([l, x, fast]);
  });

  it('extreme logits: every value within float noise of the stock softplus', () => {
    const values = [-1000, -100, -88, -30, -5, -0.1, -1e-6, 0, 1e-6, 0.1, 5, 30, 87, 88, 100, 1000];
    for (const xv of [0, 1]) {
      for (const v of values) {
        const l = tf.fill([1, 4], v) as tf.Tensor2D;
        const x = tf.fill([1, 4], xv) as tf.Tensor2D;
        const a = bceRowSums(l, x, 1)!.dataSync()[0]!;
        const b = stock(l, x, 1)[0]!;
        expect(Number.isFinite(a)).toBe(true);
        expect(Math.abs(a - b)).toBeLessThan(2e-6 * Math.abs(b) + 1e-6);
        tf.dispose([l, x]);
      }
    }
  });

  it('declines what it cannot do (d not a multiple of 4), so the caller uses the stock kernels', () => {
    const l = tf.zeros([2, 6]) as tf.Tensor2D;
    const x = tf.zeros([2, 6]) as tf.Tensor2D;
    expect(bceRowSums(l, x, 1)).toBeNull();
    tf.dispose([l, x]);
  });
});

describe('the training loss kernel (wasm-bce-trainable.ts)', () => {
  const stockRowSums = (l: tf.Tensor2D, x: tf.Tensor2D) => tf.sum(tf.sub(tf.softplus(l), tf.mul(l, x)), 1);
  const data = () => {
    const l = tf.mul(tf.randomNormal([33, 784], 0, 1, 'float32', 3), 5) as tf.Tensor2D;
    const x = tf.cast(tf.greater(tf.randomUniform([33, 784], 0, 1, 'float32', 4), 0.7), 'float32') as tf.Tensor2D;
    // an upstream gradient that differs per row, as a weighted mean over the rows gives
    const w = tf.randomUniform([33], -2, 2, 'float32', 5) as tf.Tensor1D;
    return { l, x, w };
  };

  it('has the stock gradient bit for bit, and values within float noise of the stock ones', () => {
    const { l, x, w } = data();
    const fused = bceRowSumsTrainable(l, x);
    expect(fused).not.toBeNull();
    const a = fused!.dataSync();
    const b = stockRowSums(l, x).dataSync();
    for (let i = 0; i < 33; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5 * Math.abs(b[i]!) + 1e-3);
    const gFused = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(bceRowSumsTrainable(t as tf.Tensor2D, x)!, w)))(l)
      .dataSync();
    const gStock = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(stockRowSums(t as tf.Tensor2D, x), w)))(l)
      .dataSync();
    expect(gFused.length).toBe(33 * 784);
    let differ = 0;
    for (let i = 0; i < gFused.length; i++) if (!Object.is(gFused[i], gStock[i])) differ++;
    expect(differ).toBe(0);
    // and it is the gradient: sigmoid(l) - x, scaled by the row's weight
    const s = tf.sigmoid(l).dataSync();
    const xs = x.dataSync();
    const ws = w.dataSync();
    expect(gFused[784 * 7 + 100]).toBeCloseTo(ws[7]! * (s[784 * 7 + 100]! - xs[784 * 7 + 100]!), 5);
    tf.dispose([l, x, w, fused!]);
  });

  it('the gradient with respect to x is -l per row weight, as the stock graph gives', () => {
    const { l, x, w } = data();
    const gFused = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(bceRowSumsTrainable(l, t as tf.Tensor2D)!, w)))(x)
      .dataSync();
    const gStock = tf
      .grad((t: tf.Tensor) => tf.sum(tf.mul(stockRowSums(l, t as tf.Tensor2D), w)))(x)
      .dataSync();
    let differ = 0;
    for (let i = 0; i < gFused.length; i++) if (!Object.is(gFused[i], gStock[i])) differ++;
    expect(differ).toBe(0);
    tf.dispose([l, x, w]);
  });

  it('declines (null) where the fused pass cannot run: turned off, or d not a multiple of 4', () => {
    const l = tf.zeros([2, 6]) as tf.Tensor2D;
    expect(bceRowSumsTrainable(l, tf.zeros([2, 6]) as tf.Tensor2D)).toBeNull();
    process.env.VAE_WORKBENCH_WASM_FUSED_BCE = '0';
    try {
      expect(bceRowSumsTrainable(tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([2, 8]) as tf.Tensor2D)).toBeNull();
    } finally {
      delete process.env.VAE_WORKBENCH_WASM_FUSED_BCE;
    }
    expect(bceRowSumsTrainable(tf.zeros([2, 8]) as tf.Tensor2D, tf.zeros([2, 8]) as tf.Tensor2D)).not.toBeNull();
  });
});
