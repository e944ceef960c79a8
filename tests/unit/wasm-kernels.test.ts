import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src-main/train/compute/backend';
import {
  isFastWasmMatMulRegistered,
  registerFastWasmMatMul,
  setMatMulRoute,
  unregisterFastWasmMatMul,
  WasmAdamOptimizer,
  type MatMulRoute,
} from '../../src-main/kernels/wasm-kernels';
import { regionLayout } from '../../src-main/train/compute/shard-link';

/** Deterministic normal-ish numbers (mulberry32 + Box-Muller). */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  const uni = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uni() + 1e-12)) * Math.cos(2 * Math.PI * uni());
}

function randArray(rng: () => number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng();
  return out;
}

/** Run fn on the named backend with fresh tensors, return plain arrays; restores wasm afterwards. */
async function on<T>(backend: string, fn: () => T): Promise<T> {
  await tf.setBackend(backend);
  try {
    let out: T | undefined;
    tf.tidy(() => {
      out = fn();
    });
    return out as T;
  } finally {
    await tf.setBackend('wasm');
  }
}

/** max |x - ref| / max |ref|: error relative to the scale of the reference. */
function relErr(x: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(x.length).toBe(ref.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(x[i]! - ref[i]!));
    den = Math.max(den, Math.abs(ref[i]!));
  }
  return num / Math.max(den, 1e-30);
}

interface Case {
  name: string;
  aShape: number[];
  bShape: number[];
  tA: boolean;
  tB: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  const [m, k, n] = [37, 53, 29];
  for (const tA of [false, true]) {
    for (const tB of [false, true]) {
      const a2 = tA ? [k, m] : [m, k];
      const b2 = tB ? [n, k] : [k, n];
      out.push({ name: `rank2 tA=${tA} tB=${tB}`, aShape: a2, bShape: b2, tA, tB });
      out.push({ name: `rank3 tA=${tA} tB=${tB}`, aShape: [3, ...a2], bShape: [3, ...b2], tA, tB });
      out.push({ name: `rank3 broadcast tA=${tA} tB=${tB}`, aShape: [1, ...a2], bShape: [3, ...b2], tA, tB });
      out.push({ name: `vector-ish tA=${tA} tB=${tB}`, aShape: tA ? [k, 1] : [1, k], bShape: b2, tA, tB });
    }
  }
  return out;
}

describe('fast wasm matmul kernels', () => {
  beforeAll(async () => {
    const r = await initBackend('wasm');
    expect(r.active).toBe('wasm');
  });
  afterAll(() => setMatMulRoute(null));

  it('are registered by initBackend on wasm', () => {
    expect(isFastWasmMatMulRegistered('BatchMatMul')).toBe(true);
    expect(isFastWasmMatMulRegistered('_FusedMatMul')).toBe(true);
  });

  for (const route of [null, 'inputs', 'output'] as (MatMulRoute | null)[]) {
    it(`matMul equals the cpu backend in every transpose mode (route ${route ?? 'auto'})`, async () => {
      setMatMulRoute(route);
      const rng = seeded(7);
      for (const c of cases()) {
        const a = randArray(
          rng,
          c.aShape.reduce((p, d) => p * d, 1),
        );
        const b = randArray(
          rng,
          c.bShape.reduce((p, d) => p * d, 1),
        );
        const run = () => tf.matMul(tf.tensor(a, c.aShape), tf.tensor(b, c.bShape), c.tA, c.tB).dataSync().slice();
        const shapeRun = () => tf.matMul(tf.tensor(a, c.aShape), tf.tensor(b, c.bShape), c.tA, c.tB).shape;
        const ref = await on('cpu', run);
        const got = tf.tidy(run);
        expect(tf.tidy(shapeRun), c.name).toEqual(await on('cpu', shapeRun));
        expect(relErr(got, ref), c.name).toBeLessThan(1e-5);
      }
      setMatMulRoute(null);
    });
  }

  it('fused matMul (bias + relu / linear, with and without bias) equals cpu in every transpose mode', async () => {
    const rng = seeded(11);
    const [m, k, n] = [19, 41, 23];
    for (const route of [null, 'inputs', 'output'] as (MatMulRoute | null)[]) {
      setMatMulRoute(route);
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const activation of ['relu', 'linear', 'elu'] as const) {
            for (const withBias of [true, false]) {
              const aShape = tA ? [k, m] : [m, k];
              const bShape = tB ? [n, k] : [k, n];
              const a = randArray(rng, m * k);
              const b = randArray(rng, n * k);
              const bias = randArray(rng, n);
              const run = () =>
                tf.fused
                  .matMul({
                    a: tf.tensor2d(a, aShape as [number, number]),
                    b: tf.tensor2d(b, bShape as [number, number]),
                    transposeA: tA,
                    transposeB: tB,
                    bias: withBias ? tf.tensor1d(bias) : undefined,
                    activation,
                  })
                  .dataSync()
                  .slice();
              const label = `route=${route} tA=${tA} tB=${tB} ${activation} bias=${withBias}`;
              expect(relErr(tf.tidy(run), await on('cpu', run)), label).toBeLessThan(1e-5);
            }
          }
        }
      }
    }
    setMatMulRoute(null);
  });

  it('gradients of a small dense network equal the cpu backend within 1e-4', async () => {
    const rng = seeded(3);
    const [batch, inDim, hidden, outDim] = [17, 31, 13, 7];
    const x = randArray(rng, batch * inDim);
    const w1 = randArray(rng, inDim * hidden).map((v) => v * 0.3);
    const b1 = randArray(rng, hidden).map((v) => v * 0.1);
    const w2 = randArray(rng, hidden * outDim).map((v) => v * 0.3);
    const w3 = randArray(rng, outDim * inDim).map((v) => v * 0.3);
    const run = () => {
      const xs = tf.tensor2d(x, [batch, inDim]);
      const f = (W1: tf.Tensor, B1: tf.Tensor, W2: tf.Tensor, W3: tf.Tensor): tf.Scalar => {
        // fused (matMul + bias + relu), a plain matMul, and a matMul with transposeB in the forward.
        const h = tf.fused.matMul({ a: xs, b: W1 as tf.Tensor2D, bias: B1, activation: 'relu' });
        const z = tf.tanh(tf.matMul(h, W2));
        const logits = tf.matMul(z, W3.transpose(), false, true);
        return tf.losses.sigmoidCrossEntropy(xs.greater(0).toFloat(), logits) as tf.Scalar;
      };
      const grads = tf.grads(f)([
        tf.tensor2d(w1, [inDim, hidden]),
        tf.tensor1d(b1),
        tf.tensor2d(w2, [hidden, outDim]),
        tf.tensor2d(w3, [outDim, inDim]),
      ]);
      return grads.map((g) => g.dataSync().slice());
    };
    const ref = await on('cpu', run);
    for (const route of [null, 'inputs', 'output'] as (MatMulRoute | null)[]) {
      setMatMulRoute(route);
      const got = tf.tidy(run);
      expect(got.length).toBe(4);
      got.forEach((g, i) => {
        expect(relErr(g, ref[i]!), `route ${route} grad ${i}`).toBeLessThan(1e-4);
      });
    }
    setMatMulRoute(null);
  });

  it('registration is idempotent and reversible', () => {
    const before = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    const again = registerFastWasmMatMul();
    expect(again.wrapped).toEqual([]);
    expect(again.alreadyWrapped).toEqual(['BatchMatMul', '_FusedMatMul', 'Identity', 'Sum']);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(before);
    // One unregister restores the original kernels (no wrapper under the wrapper).
    expect(unregisterFastWasmMatMul()).toEqual(['BatchMatMul', '_FusedMatMul', 'Identity', 'Sum']);
    expect(isFastWasmMatMulRegistered('BatchMatMul')).toBe(false);
    expect(isFastWasmMatMulRegistered('_FusedMatMul')).toBe(false);
    expect(unregisterFastWasmMatMul()).toEqual([]);
    expect(isFastWasmMatMulRegistered('Identity')).toBe(false);
    expect(registerFastWasmMatMul().wrapped).toEqual(['BatchMatMul', '_FusedMatMul', 'Identity', 'Sum']);
    expect(isFastWasmMatMulRegistered('BatchMatMul')).toBe(true);
  });

  it('Identity shares the buffer: clones read the same values, outlive the original, free memory once', () => {
    expect(isFastWasmMatMulRegistered('Identity')).toBe(true);
    const backend = tf.backend();
    const ids = backend.numDataIds();
    const bytes = tf.memory().numBytes;
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const c = tf.clone(a);
    const c2 = tf.clone(c);
    const d = c2.reshape([3, 2]);
    c2.dispose();
    expect(backend.numDataIds()).toBe(ids + 1); // one buffer for all of them
    a.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    c.dispose();
    expect(d.shape).toEqual([3, 2]);
    expect(Array.from(d.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    d.dispose();
    expect(backend.numDataIds()).toBe(ids);
    expect(tf.memory().numBytes).toBe(bytes);
    // A variable assigned from a clone keeps its value when the source is disposed, and a later
    // assign does not change the clone.
    const src = tf.tensor1d([7, 8, 9]);
    const v = tf.variable(tf.clone(src));
    const snapshot = tf.clone(v);
    src.dispose();
    v.assign(tf.tensor1d([0, 0, 1]));
    expect(Array.from(snapshot.dataSync())).toEqual([7, 8, 9]);
    expect(Array.from(v.dataSync())).toEqual([0, 0, 1]);
    v.dispose();
    snapshot.dispose();
  });

  it('frees its intermediates (no wasm memory growth over many transposed calls)', () => {
    const a = tf.randomNormal([64, 100], 0, 1, 'float32', 1);
    const b = tf.randomNormal([80, 100], 0, 1, 'float32', 2);
    const backend = tf.backend();
    const warm = tf.matMul(a, b, false, true);
    warm.dispose();
    const ids = backend.numDataIds();
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      tf.tidy(() => {
        tf.matMul(a, b, false, true);
        tf.matMul(b, a, false, true);
        tf.matMul(a, a, true, false);
        tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, transposeB: true, bias: tf.zeros([80]), activation: 'relu' });
      });
    }
    expect(backend.numDataIds()).toBe(ids);
    expect(tf.memory().numTensors).toBe(tensors);
    a.dispose();
    b.dispose();
  });

  it('makes a transposed 128x784x400 matMul several times faster than the stock kernel', () => {
    const x = tf.randomNormal([128, 784], 0, 1, 'float32', 5);
    const w = tf.randomNormal([400, 784], 0, 1, 'float32', 6);
    const median = (reps: number): number => {
      const ts: number[] = [];
      for (let i = 0; i < reps + 1; i++) {
        const t0 = performance.now();
        const y = tf.matMul(x, w, false, true);
        y.dataSync();
        y.dispose();
        if (i > 0) ts.push(performance.now() - t0);
      }
      ts.sort((p, q) => p - q);
      return ts[Math.floor(ts.length / 2)]!;
    };
    const fast = median(7);
    unregisterFastWasmMatMul();
    const slow = median(3);
    registerFastWasmMatMul();
    expect(fast * 3).toBeLessThan(slow);
    x.dispose();
    w.dispose();
  });

  describe('WasmAdamOptimizer', () => {
    // Odd sizes on purpose: 407 = 4*101 + 3 (SIMD + scalar tail), 3 (tail only), 512 (SIMD only).
    const shapes: number[][] = [[37, 11], [3], [64, 8]];
    let nameCounter = 0;

    function makeVars(seed: number): tf.Variable[] {
      const rng = seeded(seed);
      return shapes.map((shape) => {
        const n = shape.reduce((p, d) => p * d, 1);
        return tf.variable(tf.tensor(randArray(rng, n), shape), true, `adamtest${nameCounter++}`);
      });
    }

    function grads(step: number): Float32Array[] {
      const rng = seeded(100 + step);
      return shapes.map((shape) =>
        randArray(
          rng,
          shape.reduce((p, d) => p * d, 1),
        ),
      );
    }

    function step(opt: tf.Optimizer, vars: tf.Variable[], s: number, asMap = false): void {
      const g = grads(s).map((data, i) => tf.tensor(data, shapes[i]!));
      if (asMap) opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, g[i]!])));
      else opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: g[i]! })));
      tf.dispose(g);
    }

    it('matches tf.train.adam (weights, m and v slots, iterations) and takes the SIMD path', async () => {
      const a = makeVars(1);
      const b = makeVars(1);
      const ref = tf.train.adam(0.01);
      const fast = new WasmAdamOptimizer(0.01);
      for (let s = 0; s < 6; s++) {
        step(ref, a, s);
        step(fast, b, s, s % 2 === 1);
      }
      expect(fast.simdSteps).toBe(6);
      a.forEach((v, i) => expect(relErr(b[i]!.dataSync(), v.dataSync()), `weight ${i}`).toBeLessThan(1e-5));
      const wr = await ref.getWeights();
      const wf = await fast.getWeights();
      expect(wf.map((w) => w.name.replace(/adamtest\d+/, 'X'))).toEqual(wr.map((w) => w.name.replace(/adamtest\d+/, 'X')));
      wr.forEach((w, i) => expect(relErr(wf[i]!.tensor.dataSync(), w.tensor.dataSync()), w.name).toBeLessThan(1e-5));
      expect(await fast.iterations).toBe(6);
      expect(fast.getClassName()).toBe('Adam');
      tf.dispose([...a, ...b]);
      ref.dispose();
      fast.dispose();
    });

    it('updates in place when nothing shares the buffers (same bits, no new buffer), into fresh ones when a tensor does', () => {
      const rng = seeded(11);
      const initial = tf.tensor(randArray(rng, 407), [37, 11]);
      const shared = tf.variable(initial, true, `adamtest${nameCounter++}`); // shares its buffer with `initial`
      const copy = tf.tensor(initial.dataSync(), [37, 11]); // a buffer of its own (clone() would share)
      const own = tf.variable(copy, true, `adamtest${nameCounter++}`);
      copy.dispose(); // now the variable alone holds its buffer
      const keep = Array.from(initial.dataSync());
      const [o1, o2] = [new WasmAdamOptimizer(0.01), new WasmAdamOptimizer(0.01)];
      const g = tf.tensor(randArray(rng, 407), [37, 11]);
      const ids: object[] = [];
      for (let s = 0; s < 3; s++) {
        ids.push(own.dataId);
        o1.applyGradients([{ name: shared.name, tensor: g }]);
        o2.applyGradients([{ name: own.name, tensor: g }]);
        expect(Array.from(own.dataSync()), `step ${s}`).toEqual(Array.from(shared.dataSync()));
      }
      expect(Array.from(initial.dataSync())).toEqual(keep); // the tensor that shared the first buffer kept its values
      expect(Array.from(own.dataSync())).not.toEqual(keep);
      ids.push(own.dataId);
      expect(new Set(ids).size).toBe(1); // the variable alone held its buffer: updated in it at every step
      expect(shared.dataId).not.toBe(initial.dataId); // the one that shared it moved to a fresh one
      expect([o1.simdSteps, o2.simdSteps]).toEqual([3, 3]);
      tf.dispose([initial, shared, own, g]);
      o1.dispose();
      o2.dispose();
    });

    it('falls back to the stock update off wasm, with the same results', async () => {
      const run = (make: () => tf.Optimizer) => {
        const vars = makeVars(2);
        const opt = make();
        for (let s = 0; s < 3; s++) step(opt, vars, s);
        const out = vars.map((v) => Float32Array.from(v.dataSync()));
        tf.dispose(vars);
        return { out, opt };
      };
      await tf.setBackend('cpu');
      let cpuFast: { out: Float32Array[]; opt: tf.Optimizer };
      let cpuRef: { out: Float32Array[]; opt: tf.Optimizer };
      try {
        cpuFast = run(() => new WasmAdamOptimizer(0.02));
        cpuRef = run(() => tf.train.adam(0.02));
      } finally {
        await tf.setBackend('wasm');
      }
      expect((cpuFast.opt as WasmAdamOptimizer).simdSteps).toBe(0);
      cpuFast.out.forEach((o, i) => expect(Array.from(o)).toEqual(Array.from(cpuRef.out[i]!)));
    });

    it('applyGradientSum(a, b) updates to the bits of applyGradients(tf.add(a, b)), in either order, with no tensor made', () => {
      const [ref, mine, swapped] = [makeVars(4), makeVars(4), makeVars(4)];
      const [o1, o2, o3] = [new WasmAdamOptimizer(0.01), new WasmAdamOptimizer(0.01), new WasmAdamOptimizer(0.01)];
      const flat = (xs: Float32Array[]) => {
        const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0) + 3); // a region: trailing scalars too
        let at = 0;
        for (const x of xs) {
          out.set(x, at);
          at += x.length;
        }
        return out;
      };
      for (let s = 0; s < 4; s++) {
        const [ga, gb] = [grads(2 * s), grads(2 * s + 1)];
        const ta = ga.map((d, i) => tf.tensor(d, shapes[i]!));
        const tb = gb.map((d, i) => tf.tensor(d, shapes[i]!));
        const summed = ta.map((t, i) => tf.add(t, tb[i]!));
        o1.applyGradients(ref.map((v, i) => ({ name: v.name, tensor: summed[i]! })));
        const before = tf.memory().numTensors;
        expect(o2.applyGradientSum(mine, ta, flat(gb))).toBe(true);
        expect(o3.applyGradientSum(swapped, tb, flat(ga))).toBe(true);
        if (s > 0) expect(tf.memory().numTensors).toBe(before); // the slots exist after the first step
        tf.dispose([...ta, ...tb, ...summed]);
      }
      expect([o2.simdSteps, o3.simdSteps]).toEqual([4, 4]);
      ref.forEach((v, i) => {
        expect(Array.from(mine[i]!.dataSync()), `weight ${i}`).toEqual(Array.from(v.dataSync()));
        expect(Array.from(swapped[i]!.dataSync()), `weight ${i}, swapped`).toEqual(Array.from(v.dataSync()));
      });
      // a region too short for the weights, or gradients of the wrong sizes: refused, nothing changed
      const kept = mine.map((v) => Array.from(v.dataSync()));
      const g = grads(9).map((d, i) => tf.tensor(d, shapes[i]!));
      expect(o2.applyGradientSum(mine, g, new Float32Array(5))).toBe(false);
      expect(o2.applyGradientSum(mine, g.slice(1), flat(grads(8)))).toBe(false);
      mine.forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(kept[i]));
      expect(o2.simdSteps).toBe(4);
      tf.dispose([...g, ...ref, ...mine, ...swapped]);
      for (const o of [o1, o2, o3]) o.dispose();
    });

    it("applyGradientSum reads b at the offsets of a data-parallel region's layout (each weight 16-byte aligned, odd sizes padded)", () => {
      const layout = regionLayout(shapes.map((sh) => sh.reduce((p, d) => p * d, 1)));
      expect(layout.offsets).toEqual([0, 408, 412]); // 407 floats, padded to 408; 3, padded to 4
      expect(layout.scalarsAt).toBe(412 + 512);
      expect(layout.length % 16).toBe(0);
      const [ref, mine] = [makeVars(4), makeVars(4)];
      const [o1, o2] = [new WasmAdamOptimizer(0.01), new WasmAdamOptimizer(0.01)];
      for (let s = 0; s < 3; s++) {
        const [ga, gb] = [grads(2 * s), grads(2 * s + 1)];
        const ta = ga.map((d, i) => tf.tensor(d, shapes[i]!));
        const summed = ta.map((t, i) => tf.add(t, tf.tensor(gb[i]!, shapes[i]!)));
        o1.applyGradients(ref.map((v, i) => ({ name: v.name, tensor: summed[i]! })));
        const region = new Float32Array(layout.length).fill(NaN); // the padding must never be read
        gb.forEach((g, i) => region.set(g, layout.offsets[i]!));
        expect(o2.applyGradientSum(mine, ta, region, layout.offsets)).toBe(true);
        tf.dispose([...ta, ...summed]);
      }
      ref.forEach((v, i) => expect(Array.from(mine[i]!.dataSync()), `weight ${i}`).toEqual(Array.from(v.dataSync())));
      // offsets that run past the region: refused
      const g = grads(9).map((d, i) => tf.tensor(d, shapes[i]!));
      expect(o2.applyGradientSum(mine, g, new Float32Array(layout.length), [0, 408, layout.length - 100])).toBe(false);
      tf.dispose([...g, ...ref, ...mine]);
      for (const o of [o1, o2]) o.dispose();
    });

    it('resumes from getWeights/setWeights exactly like an uninterrupted run, without leaking tensors', async () => {
      const straight = makeVars(3);
      const resumed = makeVars(3);
      const o1 = new WasmAdamOptimizer(0.01);
      const o2 = new WasmAdamOptimizer(0.01);
      for (let s = 0; s < 3; s++) {
        step(o1, straight, s);
        step(o2, resumed, s);
      }
      // Re-key the saved slots to the same variables (names are per variable) and load them into a fresh optimizer.
      const saved = await o2.getWeights();
      const o3 = new WasmAdamOptimizer(0.01);
      await o3.setWeights(saved);
      tf.dispose(saved.map((w) => w.tensor).filter((t) => !(t instanceof tf.Variable)));
      const tensorsBefore = tf.memory().numTensors;
      for (let s = 3; s < 6; s++) {
        step(o1, straight, s);
        step(o3, resumed, s);
      }
      expect(o3.simdSteps).toBe(3);
      straight.forEach((v, i) => expect(relErr(resumed[i]!.dataSync(), v.dataSync()), `weight ${i}`).toBeLessThan(1e-6));
      // setWeights replaced o3's slots, so later steps allocate nothing new: the count is flat.
      expect(tf.memory().numTensors).toBe(tensorsBefore);
      tf.dispose([...straight, ...resumed]);
      for (const o of [o1, o2, o3]) o.dispose();
    });
  });
});
