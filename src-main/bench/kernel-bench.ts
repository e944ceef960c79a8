// Kernel and training-step microbenchmarks for the tfjs wasm backend.
// Run alone: `node --import tsx src-main/bench/kernel-bench.ts` (prints JSON; ~1 min). Wall-clock
// figures are only meaningful on an idle machine (the JSON carries os.loadavg()); the step variants
// also report process CPU ms per step, which survives background load much better.
//
// MEASURED (tfjs 4.22, wasm SIMD build, Node 20, one core, idle machine unless noted;
// model = MLP VAE 784-400-20 / 20-400-784, Bernoulli, analytic KL, Adam, batch 128):
// * matmul 128x784x400, fresh operands each call: NN 3.6 ms (22 GFLOP/s; 2.6 ms if XNNPACK may reuse
//   a packed weight, which training never allows: weights change every step). Stock TN/NT/TT:
//   34.5 ms (2.3 GFLOP/s). With registerFastWasmMatMul (src-main/kernels/wasm-kernels.ts, called by
//   initBackend): TN 3.1, NT 3.2, TT 3.1 ms (25-27 GFLOP/s). A 784x400 wasm Transpose is 0.2 ms.
// * training step: stock 135 ms (950 samples/s) -> fast matmul 32.7 ms (3900/s) -> plus zero-copy
//   Identity 28.0 ms (4570/s). CPU time per step under load: 139 ms -> 29.6 ms.
// * where the 32.7 ms went (per step, before the Identity fix): matmul incl. its transposes 20.4 ms
//   (14 calls, 63%); elementwise 7.5 ms (200 calls), of which Adam ~4.7 ms; Identity copies 1.7 ms
//   (61 calls: the engine clones every tensor a gradient saves; now shared, ~0.2 ms); reductions
//   0.6 ms. ~334 kernel calls per step; one tiny op costs 3.7-5.4 us of dispatch -> ~1.5 ms/step.
// * elementwise on 128x784 (100k floats, us, loaded machine so absolute values ~2x high, ratios
//   hold): add 28, mul 39, relu 17, abs 19, square 19, div 44, sigmoid 113 (XNNPACK, vectorised),
//   sqrt 386, exp 724, log1p 731, softplus 1392, sum 90. Transcendentals cost ~25 adds.
//
// RECOMMENDATIONS for the engine (vae/, train/):
// 1. Nothing to do for matmuls: initBackend registers the fast kernels on wasm (opt out with
//    VAE_WORKBENCH_WASM_FAST_MATMUL=0). The remaining floor is XNNPACK itself: ~17 ms of matmul
//    FLOPs per step at 25 GFLOP/s; more speed needs fewer FLOPs (smaller hidden layer / batch).
// 2. tf.fused.matMul with relu does NOT fuse in training: tfjs-core's shouldFuse() refuses any
//    activation but 'linear' while gradients are recorded, so it runs matMul+add+relu. Linear layers
//    do fuse the bias. Fused vs unfused measured within noise (CPU 29.6 vs 28.9 ms/step): keep the
//    model code as it is, no gain either way.
// 3. Adam costs ~15% of the step (apply 4.3-5.2 ms vs SGD 0.55 ms): tf.train.adam runs 13 kernels
//    per weight, each a full pass (sqrt alone ~1 ms), plus scalar uploads. USE WasmAdamOptimizer
//    (src-main/kernels/wasm-kernels.ts): `new WasmAdamOptimizer(lr)` is a tf.AdamOptimizer subclass
//    (same slots, getWeights/setWeights, class name 'Adam', so checkpoints are unchanged) whose
//    update is one hand-assembled SIMD wasm pass per weight: apply ~0.5-1.2 ms instead of 4.3+,
//    step CPU 30.2 -> 24.5-28 ms with the engine's own model/objective/optimizerStep (under load),
//    25.9 ms in this bench vs the SGD floor 25.6. Off wasm it falls back to the stock update. In
//    vae/optimizer.ts: `case 'adam': return new WasmAdamOptimizer(opt.learningRate);`.
//    (SinglePassAdam below, the same loop in plain JS, only reaches ~3.5 ms: V8 does not vectorise.)
// 4. Bernoulli loss: write BCE-with-logits as tf.customGrad with gradient sigmoid(l) - x
//    (bceWithLogitsSum below; equal to autodiff within 2e-7). Autodiff of the stable formula runs ~10
//    elementwise kernels backwards over the 128x784 logits incl. exp; this runs two (sigmoid is
//    fast). Small win, within noise here (CPU 29.6 -> 29.1-30.8 ms): optional.
// 5. Multithreading: not available in Node. tfjs-backend-wasm 4.22 sets WASM_HAS_MULTITHREAD_SUPPORT
//    false under Node (flags_wasm.ts, tfjs issue #3830). Forcing it fails (worker from a blob: URL,
//    ERR_WORKER_PATH); with a Blob/createObjectURL shim writing the scripts to temp files the
//    threaded-SIMD build starts, but XNNPACK reports getThreadsCount() = 1 after setThreadsCount(2)
//    (8 idle workers) and NN matmul got slower (4.1-4.4 vs 3.5 ms). Use process-level parallelism
//    instead: one trainer process per core (2 concurrent runs here).
// 6. Minor: concatenating the mu/logvar heads into one 400x40 dense saves 2-3 small matmuls and
//    ~10 dispatches per step (<0.5 ms). Reading the loss every step (dataSync) is free on wasm
//    (kernels are synchronous; it is a 4-byte copy).
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../train/compute/backend';
import { registerFastWasmMatMul, unregisterFastWasmMatMul, WasmAdamOptimizer } from '../kernels/wasm-kernels';
import { timeKernels } from './step-profile';

export interface BenchEntry {
  /** Median milliseconds per call (matmul) or per training step. */
  ms: number;
  /** Useful floating-point work per second (matmul FLOPs, or the step's matmul FLOPs), in GFLOP/s. */
  gflops: number;
  /** Training-step entries only: examples per second (wall clock). */
  samplesPerSec?: number;
  /** Training-step entries only: process CPU ms per step (less sensitive to background load). */
  cpuMs?: number;
}

const M = 128;
const K = 784;
const N = 400;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

type Mode = 'NN' | 'TN' | 'NT' | 'TT';
const MODES: Mode[] = ['NN', 'TN', 'NT', 'TT'];

/**
 * Median ms of one M x K x N product in a transpose mode. Operands are fresh tensors on every call
 * (as in training, where weights change every step): XNNPACK caches its packed right operand per
 * tensor, so reusing one tensor would hide the packing cost.
 */
function timeMatMul(mode: Mode, reps: number): number {
  const tA = mode[0] === 'T';
  const tB = mode[1] === 'T';
  const a0 = tf.randomNormal(tA ? [K, M] : [M, K], 0, 1, 'float32', 1);
  const b0 = tf.randomNormal(tB ? [N, K] : [K, N], 0, 1, 'float32', 2);
  const ts: number[] = [];
  for (let i = 0; i < reps + 2; i++) {
    const a = tf.add(a0, 0);
    const b = tf.add(b0, 0);
    const t0 = performance.now();
    const c = tf.matMul(a, b, tA, tB);
    const t1 = performance.now(); // wasm kernels run synchronously: the call's wall time is the kernel's
    if (i >= 2) ts.push(t1 - t0);
    c.dispose();
    a.dispose();
    b.dispose();
  }
  a0.dispose();
  b0.dispose();
  return median(ts);
}

// ---------------------------------------------------------------------------------------------
// A dense VAE 784-400-20 (decoder 20-400-784), Bernoulli likelihood, analytic KL, Adam, batch 128.

const ARCH = { x: 784, h: 400, z: 20 };
/** Matmul FLOPs of one step: forward 2*B*sum(in*out); backward ~2x (no dx for the first layer). */
const LAYER_MACS = ARCH.x * ARCH.h + 2 * ARCH.h * ARCH.z + ARCH.z * ARCH.h + ARCH.h * ARCH.x;
const STEP_FLOPS = 2 * M * LAYER_MACS * 3 - 2 * M * ARCH.x * ARCH.h;

interface VaeVars {
  list: tf.Variable[];
  W1: tf.Variable;
  b1: tf.Variable;
  Wmu: tf.Variable;
  bmu: tf.Variable;
  Wlv: tf.Variable;
  blv: tf.Variable;
  W3: tf.Variable;
  b3: tf.Variable;
  W4: tf.Variable;
  b4: tf.Variable;
}

let varCounter = 0;
function makeVars(): VaeVars {
  const id = `kb${varCounter++}`;
  const w = (r: number, c: number, seed: number, name: string) =>
    tf.variable(tf.randomNormal([r, c], 0, Math.sqrt(2 / r), 'float32', seed), true, `${id}/${name}`);
  const b = (n: number, name: string) => tf.variable(tf.zeros([n]), true, `${id}/${name}`);
  const v = {
    W1: w(ARCH.x, ARCH.h, 11, 'W1'),
    b1: b(ARCH.h, 'b1'),
    Wmu: w(ARCH.h, ARCH.z, 12, 'Wmu'),
    bmu: b(ARCH.z, 'bmu'),
    Wlv: w(ARCH.h, ARCH.z, 13, 'Wlv'),
    blv: b(ARCH.z, 'blv'),
    W3: w(ARCH.z, ARCH.h, 14, 'W3'),
    b3: b(ARCH.h, 'b3'),
    W4: w(ARCH.h, ARCH.x, 15, 'W4'),
    b4: b(ARCH.x, 'b4'),
  };
  return { ...v, list: Object.values(v) };
}

function dense(x: tf.Tensor2D, W: tf.Variable, b: tf.Variable, relu: boolean, fused: boolean): tf.Tensor2D {
  if (fused) return tf.fused.matMul({ a: x, b: W as unknown as tf.Tensor2D, bias: b, activation: relu ? 'relu' : 'linear' }) as tf.Tensor2D;
  const y = tf.add(tf.matMul(x, W as unknown as tf.Tensor2D), b) as tf.Tensor2D;
  return relu ? (tf.relu(y) as tf.Tensor2D) : y;
}

/**
 * Summed Bernoulli cross-entropy from logits with a hand-written gradient: d/dl = sigmoid(l) - x.
 * Autodiff of the stable formula max(l,0) - l*x + log1p(exp(-|l|)) runs ~10 elementwise kernels
 * backwards over the 128x784 logits; this runs two.
 */
const bceWithLogitsSum = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [logits, x, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([logits, x]);
  const value = tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [l, t] = saved as [tf.Tensor, tf.Tensor];
      return [tf.mul(tf.sub(tf.sigmoid(l), t), dy), tf.zerosLike(t)];
    },
  };
});

/** -ELBO per example (nats): Bernoulli reconstruction from logits + analytic KL. */
function vaeLoss(v: VaeVars, x: tf.Tensor2D, eps: tf.Tensor2D, fused: boolean, customBce = false): tf.Scalar {
  const h = dense(x, v.W1, v.b1, true, fused);
  const mu = dense(h, v.Wmu, v.bmu, false, fused);
  const logvar = dense(h, v.Wlv, v.blv, false, fused);
  const z = tf.add(mu, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps)) as tf.Tensor2D;
  const h2 = dense(z, v.W3, v.b3, true, fused);
  const logits = dense(h2, v.W4, v.b4, false, fused);
  // BCE with logits, stable form: max(l,0) - l*x + log(1 + exp(-|l|)).
  const rec = customBce
    ? (bceWithLogitsSum(logits, x) as tf.Scalar)
    : tf.sum(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, x)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))));
  const kl = tf.mul(-0.5, tf.sum(tf.sub(tf.sub(tf.add(1, logvar), tf.square(mu)), tf.exp(logvar))));
  return tf.div(tf.add(rec, kl), x.shape[0]) as tf.Scalar;
}

// ---------------------------------------------------------------------------------------------
// Prototype: Adam as ONE pass over each weight, in JS directly on the wasm heap, instead of tfjs
// Adam's ~13 tensor ops per weight (each a full pass plus a kernel dispatch and scalar uploads).
// It writes fresh buffers (never mutates a tensor in place) and assigns them to the variables.

interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  dataIdMap: { get(dataId: object): { memoryOffset: number } };
  wasm: { HEAPF32: Float32Array };
}

export class SinglePassAdam {
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  private t = 0;
  constructor(
    private readonly lr = 1e-3,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-7,
  ) {}

  applyGradients(list: { name: string; tensor: tf.Tensor }[]): void {
    if (tf.getBackend() !== 'wasm') throw new Error(`SinglePassAdam works on the wasm heap; active backend is ${tf.getBackend()}`);
    const backend = tf.backend() as unknown as WasmBackendInternals;
    this.t += 1;
    const c1 = 1 - Math.pow(this.beta1, this.t);
    const c2 = 1 - Math.pow(this.beta2, this.t);
    const { beta1: b1, beta2: b2, eps } = this;
    const lrT = this.lr / c1;
    const invC2 = 1 / c2;
    for (const { name, tensor: g } of list) {
      const w = tf.engine().registeredVariables[name]!;
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = tf.variable(tf.zerosLike(w), false, `${name}/m`);
        v = tf.variable(tf.zerosLike(w), false, `${name}/v`);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const shape = [...w.shape];
      const outW = backend.makeOutput(shape, 'float32');
      const outM = backend.makeOutput(shape, 'float32');
      const outV = backend.makeOutput(shape, 'float32');
      const heap = backend.wasm.HEAPF32; // read after the mallocs: the heap may have grown
      const off = (t: { dataId: object }) => backend.dataIdMap.get(t.dataId).memoryOffset >>> 2;
      const [pw, pm, pv, pg, qw, qm, qv] = [off(w), off(m), off(v), off(g), off(outW), off(outM), off(outV)];
      const n = w.size;
      for (let i = 0; i < n; i++) {
        const gi = heap[pg + i]!;
        const mi = b1 * heap[pm + i]! + (1 - b1) * gi;
        const vi = b2 * heap[pv + i]! + (1 - b2) * gi * gi;
        heap[qm + i] = mi;
        heap[qv + i] = vi;
        heap[qw + i] = heap[pw + i]! - (lrT * mi) / (Math.sqrt(vi * invC2) + eps);
      }
      for (const [variable, info] of [
        [w, outW],
        [m, outM],
        [v, outV],
      ] as const) {
        const t = tf.engine().makeTensorFromTensorInfo(info);
        variable.assign(t);
        t.dispose();
      }
    }
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
  }
}

interface StepOptions {
  fused: boolean;
  customBce?: boolean;
  optimizer: 'adam' | 'sgd' | 'adam1pass' | 'wasmAdam';
  steps: number;
}

/** Fixed batches of binarised noise with MNIST's shape (the cost does not depend on the pixel values). */
function makeBatches(count: number): tf.Tensor2D[] {
  return Array.from({ length: count }, (_, i) =>
    tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([M, ARCH.x], 0, 1, 'float32', 100 + i), 0.8), 'float32') as tf.Tensor2D),
  );
}

interface StepTiming {
  msPerStep: number;
  /** Process CPU time per step (user+system): robust to other processes competing for the cores. */
  cpuMsPerStep: number;
  gradMs: number;
  applyMs: number;
  loss: number;
}

/** Median step time of forward+backward (tf.variableGrads) and the optimizer update, measured separately. */
function timeTrainingSteps(opts: StepOptions): StepTiming {
  const v = makeVars();
  const opt =
    opts.optimizer === 'adam'
      ? tf.train.adam(1e-3)
      : opts.optimizer === 'sgd'
        ? tf.train.sgd(1e-3)
        : opts.optimizer === 'wasmAdam'
          ? new WasmAdamOptimizer(1e-3)
          : new SinglePassAdam(1e-3);
  const batches = makeBatches(8);
  const totals: number[] = [];
  const grads: number[] = [];
  const applies: number[] = [];
  let loss = NaN;
  const warm = 3;
  let cpu0 = process.cpuUsage();
  for (let s = 0; s < opts.steps + warm; s++) {
    if (s === warm) cpu0 = process.cpuUsage();
    const x = batches[s % batches.length]!;
    const t0 = performance.now();
    const lossValue = tf.tidy(() => {
      const eps = tf.randomNormal([M, ARCH.z], 0, 1, 'float32', 1000 + s) as tf.Tensor2D;
      const { value, grads: g } = tf.variableGrads(() => vaeLoss(v, x, eps, opts.fused, opts.customBce ?? false), v.list);
      const t1 = performance.now();
      opt.applyGradients(v.list.map((x) => ({ name: x.name, tensor: g[x.name]! })));
      const t2 = performance.now();
      if (s >= warm) {
        grads.push(t1 - t0);
        applies.push(t2 - t1);
      }
      return tf.keep(value);
    });
    loss = lossValue.dataSync()[0]!;
    lossValue.dispose();
    if (s >= warm) totals.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / Math.max(1, opts.steps);
  for (const b of batches) b.dispose();
  for (const x of v.list) x.dispose();
  opt.dispose();
  return { msPerStep: median(totals), cpuMsPerStep, gradMs: median(grads), applyMs: median(applies), loss };
}

/** Five Adam steps on the same weights and gradients with tf.train.adam and SinglePassAdam: max |diff| / max |w|. */
export function compareSinglePassAdam(): number {
  const shape: [number, number] = [37, 11];
  const init = tf.randomNormal(shape, 0, 1, 'float32', 7);
  const a = tf.variable(tf.clone(init), true, `adamcmp${varCounter++}`);
  const b = tf.variable(tf.clone(init), true, `adamcmp${varCounter++}`);
  const tfAdam = tf.train.adam(0.01);
  const mine = new SinglePassAdam(0.01);
  for (let s = 0; s < 5; s++) {
    const g = tf.randomNormal(shape, 0, 1, 'float32', 50 + s);
    tfAdam.applyGradients([{ name: a.name, tensor: g }]);
    mine.applyGradients([{ name: b.name, tensor: g }]);
    g.dispose();
  }
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]! / tf.max(tf.abs(a)).dataSync()[0]!);
  for (const t of [init, a, b]) t.dispose();
  tfAdam.dispose();
  mine.dispose();
  return diff;
}

function stepEntry(t: StepTiming): BenchEntry {
  return { ms: t.msPerStep, gflops: STEP_FLOPS / (t.msPerStep * 1e6), samplesPerSec: (M * 1000) / t.msPerStep, cpuMs: t.cpuMsPerStep };
}

/**
 * Matmul 128x784x400 in every transpose mode and the dense-VAE training step, each with the stock
 * wasm kernels ("before") and with registerFastWasmMatMul ("after"). Needs the wasm backend
 * (initialises it when tfjs has no backend yet). Leaves the fast kernels registered.
 */
export async function benchKernels(opts: { steps?: number } = {}): Promise<Record<string, BenchEntry>> {
  await initBackend('wasm');
  if (tf.getBackend() !== 'wasm') throw new Error(`kernel bench needs the wasm backend, active is ${tf.getBackend()}`);
  const steps = opts.steps ?? 20;
  const out: Record<string, BenchEntry> = {};
  const flops = 2 * M * K * N;
  for (const phase of ['before', 'after'] as const) {
    if (phase === 'before') unregisterFastWasmMatMul();
    else registerFastWasmMatMul();
    for (const mode of MODES) {
      const ms = timeMatMul(mode, phase === 'before' && mode !== 'NN' ? 5 : 25);
      out[`matmul_${M}x${K}x${N}_${mode}_${phase}`] = { ms, gflops: flops / (ms * 1e6) };
    }
    // Training steps are slow with the stock kernels; fewer of them suffice for a median.
    const n = phase === 'before' ? Math.max(5, Math.round(steps / 3)) : steps;
    out[`vae_step_fused_adam_${phase}`] = stepEntry(timeTrainingSteps({ fused: true, optimizer: 'adam', steps: n }));
    out[`vae_step_unfused_adam_${phase}`] = stepEntry(timeTrainingSteps({ fused: false, optimizer: 'adam', steps: n }));
  }
  registerFastWasmMatMul();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Where the time goes in one training step (fast kernels on).

export interface StepProfile {
  msPerStep: number;
  samplesPerSec: number;
  /** Forward + backward (tf.variableGrads) and optimizer update, ms per step. */
  gradMs: number;
  applyMs: number;
  /** Same model with plain SGD: what Adam's extra work costs. */
  sgd: { msPerStep: number; applyMs: number };
  /** Same model with WasmAdamOptimizer (one SIMD wasm pass per weight). */
  wasmAdam: { msPerStep: number; applyMs: number; samplesPerSec: number };
  /** Same model with SinglePassAdam (one JS pass per weight on the wasm heap). */
  adam1pass: { msPerStep: number; applyMs: number; samplesPerSec: number; maxRelDiffVsTfAdam: number };
  /** Kernel wall time per step grouped by kind, ms. */
  byKind: Record<string, { ms: number; calls: number }>;
  /** Top kernels by time per step. */
  topKernels: { name: string; ms: number; calls: number }[];
  /** Kernel calls per step and the time outside kernels (JS: engine bookkeeping, tape, tidy). */
  kernelCalls: number;
  kernelMs: number;
  outsideKernelsMs: number;
  /** Cost of dispatching one tiny kernel (tf.add of two scalars), microseconds. */
  dispatchUsPerTinyOp: number;
}

const MATMUL = new Set(['BatchMatMul', '_FusedMatMul', 'Transpose']);

function kindOf(name: string): string {
  if (MATMUL.has(name)) return 'matmul (incl. its transposes)';
  if (['Sum', 'Max', 'Mean', 'Min', 'Prod'].includes(name)) return 'reductions';
  if (['Reshape', 'Identity', 'Cast', 'Fill', 'ZerosLike', 'OnesLike', 'Tile', 'BroadcastTo'].includes(name)) return 'reshape/copy/fill';
  return 'elementwise';
}

/** Wrap every wasm kernel with a timer; returns the counters and an undo function. */
export async function profileTrainingStep(opts: { steps?: number; fused?: boolean } = {}): Promise<StepProfile> {
  await initBackend('wasm');
  registerFastWasmMatMul();
  const steps = opts.steps ?? 20;
  const fused = opts.fused ?? true;
  const plain = timeTrainingSteps({ fused, optimizer: 'adam', steps });
  const sgd = timeTrainingSteps({ fused, optimizer: 'sgd', steps });
  const onePass = timeTrainingSteps({ fused, optimizer: 'adam1pass', steps });
  const simdAdam = timeTrainingSteps({ fused, optimizer: 'wasmAdam', steps });
  const { stats, undo } = timeKernels();
  let instrumented: StepTiming;
  try {
    instrumented = timeTrainingSteps({ fused, optimizer: 'adam', steps });
  } finally {
    undo();
  }
  // timeTrainingSteps runs `steps + 3` steps (3 warm-up); counters include them, so divide by all.
  const n = steps + 3;
  const perStep = [...stats.entries()].map(([name, s]) => ({ name, ms: s.ms / n, calls: s.calls / n }));
  const byKind: Record<string, { ms: number; calls: number }> = {};
  for (const k of perStep) {
    const kind = kindOf(k.name);
    const e = (byKind[kind] ??= { ms: 0, calls: 0 });
    e.ms += k.ms;
    e.calls += k.calls;
  }
  const kernelMs = perStep.reduce((p, k) => p + k.ms, 0);
  const kernelCalls = perStep.reduce((p, k) => p + k.calls, 0);
  // Tiny-op dispatch cost.
  const a = tf.scalar(1);
  const b = tf.scalar(2);
  const reps = 5000;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.add(a, b).dispose();
  const dispatchUsPerTinyOp = ((performance.now() - t0) / reps) * 1000;
  a.dispose();
  b.dispose();
  return {
    msPerStep: plain.msPerStep,
    samplesPerSec: (M * 1000) / plain.msPerStep,
    gradMs: plain.gradMs,
    applyMs: plain.applyMs,
    sgd: { msPerStep: sgd.msPerStep, applyMs: sgd.applyMs },
    wasmAdam: { msPerStep: simdAdam.msPerStep, applyMs: simdAdam.applyMs, samplesPerSec: (M * 1000) / simdAdam.msPerStep },
    adam1pass: {
      msPerStep: onePass.msPerStep,
      applyMs: onePass.applyMs,
      samplesPerSec: (M * 1000) / onePass.msPerStep,
      maxRelDiffVsTfAdam: compareSinglePassAdam(),
    },
    byKind,
    topKernels: perStep.sort((p, q) => q.ms - p.ms).slice(0, 12),
    kernelCalls,
    kernelMs,
    outsideKernelsMs: instrumented.msPerStep - kernelMs,
    dispatchUsPerTinyOp,
  };
}

// ---------------------------------------------------------------------------------------------
// Interleaved A/B of step variants (robust to background load: every round runs every variant).

export const STEP_VARIANTS: Record<string, StepOptions> = {
  'fused+tfAdam (baseline)': { fused: true, optimizer: 'adam', steps: 0 },
  'unfused+tfAdam': { fused: false, optimizer: 'adam', steps: 0 },
  'fused+customBceGrad+tfAdam': { fused: true, customBce: true, optimizer: 'adam', steps: 0 },
  'fused+singlePassAdam': { fused: true, optimizer: 'adam1pass', steps: 0 },
  'fused+customBceGrad+singlePassAdam': { fused: true, customBce: true, optimizer: 'adam1pass', steps: 0 },
  'fused+WasmAdamOptimizer (SIMD)': { fused: true, optimizer: 'wasmAdam', steps: 0 },
  'fused+customBceGrad+WasmAdamOptimizer': { fused: true, customBce: true, optimizer: 'wasmAdam', steps: 0 },
  'fused+sgd (no Adam, lower bound)': { fused: true, optimizer: 'sgd', steps: 0 },
};

export interface VariantResult {
  msPerStep: number;
  samplesPerSec: number;
  applyMs: number;
  cpuMsPerStep: number;
  /** 128 * 1000 / cpuMsPerStep: throughput if the process had its core to itself. */
  samplesPerCpuSec: number;
}

export async function compareStepVariants(opts: { rounds?: number; steps?: number } = {}): Promise<Record<string, VariantResult>> {
  await initBackend('wasm');
  registerFastWasmMatMul();
  const rounds = opts.rounds ?? 5;
  const steps = opts.steps ?? 8;
  const names = Object.keys(STEP_VARIANTS);
  const ms = new Map<string, number[]>(names.map((n) => [n, []]));
  const apply = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpu = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names) {
      const t = timeTrainingSteps({ ...STEP_VARIANTS[name]!, steps });
      ms.get(name)!.push(t.msPerStep);
      apply.get(name)!.push(t.applyMs);
      cpu.get(name)!.push(t.cpuMsPerStep);
    }
  }
  const out: Record<string, VariantResult> = {};
  for (const name of names) {
    const m = median(ms.get(name)!);
    const c = median(cpu.get(name)!);
    out[name] = {
      msPerStep: m,
      samplesPerSec: (M * 1000) / m,
      applyMs: median(apply.get(name)!),
      cpuMsPerStep: c,
      samplesPerCpuSec: (M * 1000) / c,
    };
  }
  return out;
}

/** Loss and gradients of one VAE step with the custom BCE gradient vs autodiff: max relative difference. */
export function compareCustomBce(): number {
  const v = makeVars();
  const [x] = makeBatches(1);
  const eps = tf.randomNormal([M, ARCH.z], 0, 1, 'float32', 9) as tf.Tensor2D;
  const run = (custom: boolean) => tf.variableGrads(() => vaeLoss(v, x!, eps, true, custom), v.list);
  const a = run(false);
  const b = run(true);
  let worst = Math.abs(a.value.dataSync()[0]! - b.value.dataSync()[0]!) / Math.abs(a.value.dataSync()[0]!);
  for (const w of v.list) {
    const ga = a.grads[w.name]!;
    const gb = b.grads[w.name]!;
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(ga, gb))).dataSync()[0]! / Math.max(tf.max(tf.abs(ga)).dataSync()[0]!, 1e-30));
    worst = Math.max(worst, d);
  }
  tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads), x!, eps, ...v.list]);
  return worst;
}

/** Four significant digits for printing (keeps tiny differences like 1.9e-7 visible). */
function rounded<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v))) as T;
}

const isMain = (() => {
  const arg = process.argv[1] ?? '';
  return arg.endsWith('kernel-bench.ts') || arg.endsWith('kernel-bench.js');
})();

if (isMain) {
  void (async () => {
    const kernels = await benchKernels();
    const profile = await profileTrainingStep();
    const variants = await compareStepVariants();
    const checks = { customBceMaxRelDiff: compareCustomBce(), singlePassAdamMaxRelDiff: compareSinglePassAdam() };
    const loadAverage = os.loadavg();
    console.log(JSON.stringify(rounded({ backend: tf.getBackend(), loadAverage, kernels, profile, variants, checks }), null, 2));
  })().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
