// The matrix products of training on the wasm backend, three ways, interleaved in one process so that background
// load hits them alike: the stock route (XNNPACK, a transpose for the transposed products), our GEMM through the
// tfjs kernels (packing and dispatch included: what training gets), and our GEMM module alone on pre-packed
// operands (the kernel's ceiling on this machine: no packing, no dispatch). GFLOP/s per reference shape, medians
// over rounds of the process's CPU time per call (CPU time, not wall time: on a machine shared by other jobs a
// 2 ms product is often preempted, and its wall time then says more about the neighbours than about the kernel).
import v8 from 'node:v8';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../train/compute/backend';
import { activeGemmVariant, ownGemmCalls, setOwnGemm, type GemmVariant } from '../kernels/wasm-gemm';
import { gemmModuleBytes, type GemmFn, type PackFn } from '../kernels/wasm-gemm-module';
import { measureSimdPeak, type SimdPeak } from './simd-peak';
import { parseRunConfig } from '@shared/run-config';
import { trainingObjective } from '../vae/estimators';
import { VaeModel, modelSpecFromConfig } from '../vae/model';
import { createOptimizer, optimizerStep } from '../vae/optimizer';

export interface GemmShapeBench {
  /** e.g. "128x784 · 784x400 (forward)". */
  name: string;
  stockGflops: number;
  ownGflops: number;
  /** The module alone on a pre-packed B (no packing, no tfjs dispatch). */
  kernelGflops: number;
}

export interface GemmBench {
  variant: GemmVariant | null;
  shapes: GemmShapeBench[];
  /** Whole training steps of the reference model (engine's model, objective and Adam, batch 128), samples per CPU second. */
  step: { ownSamplesPerSec: number; stockSamplesPerSec: number; ratio: number };
  /** The clock and the SIMD limits measured in the same process (simd-peak.ts). */
  peak: SimdPeak;
  loadavg: number[];
}

interface Shape {
  name: string;
  m: number;
  k: number;
  n: number;
  tA: boolean;
  tB: boolean;
}

/** The products of one step of the reference model (784-400-20, batch 128) that carry the work. */
export const REFERENCE_PRODUCTS: Shape[] = [
  { name: '128x784 · 784x400 (encoder forward)', m: 128, k: 784, n: 400, tA: false, tB: false },
  { name: '128x400 · 400x784 (decoder forward)', m: 128, k: 400, n: 784, tA: false, tB: false },
  { name: '784x128 · 128x400 (dW = x^T dy)', m: 784, k: 128, n: 400, tA: true, tB: false },
  { name: '128x784 · 784x400 (dx = dy W^T)', m: 128, k: 784, n: 400, tA: false, tB: true },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

/** CPU ms (user + system) of this process since `from`. */
const cpuMsSince = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

/** CPU ms of one product through the registered kernels, fresh operands each call (weights change every step). */
function timeThroughTfjs(s: Shape, a0: tf.Tensor, b0: tf.Tensor, reps: number): number {
  const as = Array.from({ length: reps }, () => tf.add(a0, 0));
  const bs = Array.from({ length: reps }, () => tf.add(b0, 0));
  const t0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) tf.matMul(as[i]!, bs[i]!, s.tA, s.tB).dispose(); // wasm kernels run synchronously
  const ms = cpuMsSince(t0) / reps;
  tf.dispose([...as, ...bs]);
  return ms;
}

/** One instance of the module per variant, in a memory of its own, compiled once for the whole bench. */
const kernelInstances = new Map<boolean, { memory: WebAssembly.Memory; ex: WebAssembly.Exports }>();
function kernelInstance(fma: boolean): { memory: WebAssembly.Memory; ex: WebAssembly.Exports } {
  let inst = kernelInstances.get(fma);
  if (!inst) {
    const memory = new WebAssembly.Memory({ initial: 256 });
    inst = { memory, ex: new WebAssembly.Instance(new WebAssembly.Module(gemmModuleBytes(fma)), { env: { memory } }).exports };
    kernelInstances.set(fma, inst);
  }
  return inst;
}

/**
 * ms of the module alone: B packed once, then only the GEMM. The module is compiled once and warmed up with as many
 * calls as are timed: V8 first runs wasm on its baseline compiler (Liftoff) and moves hot functions to its
 * optimising one later, so a module compiled afresh for every measurement was timed mostly on baseline code (24-30
 * GFLOP/s where the optimised kernel does 52-55 on this machine).
 */
function kernelOnly(s: Shape, fma: boolean, reps: number): number {
  const { memory, ex } = kernelInstance(fma);
  const pA = 64;
  const pB = pA + s.m * s.k * 4;
  const pP = pB + s.k * s.n * 4;
  const pC = pP + Math.ceil(s.n / 8) * 32 * s.k;
  const pS = pC + s.m * s.n * 4;
  const heap = new Float32Array(memory.buffer);
  for (let i = pA / 4; i < pS / 4; i++) heap[i] = Math.sin(i);
  (ex.pack as PackFn)(pB, s.tB ? 4 : s.n * 4, s.tB ? s.k * 4 : 4, pP, s.k, s.n);
  const gemm = ex.gemm as GemmFn;
  for (let i = 0; i < reps; i++) gemm(pA, s.tA ? 4 : s.k * 4, s.tA ? s.m * 4 : 4, pP, pC, s.n * 4, s.m, s.n, s.k, 0, 0, pS);
  const t0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) gemm(pA, s.tA ? 4 : s.k * 4, s.tA ? s.m * 4 : 4, pP, pC, s.n * 4, s.m, s.n, s.k, 0, 0, pS);
  return cpuMsSince(t0) / reps;
}

/**
 * Relaxed SIMD in this (bench) process as the trainers get it through their execArgv (trainer-launcher.ts), so that
 * in-process figures run the same GEMM variant; call before anything compiles the GEMM (the variant is fixed then).
 */
export function enableRelaxedSimdLikeTrainers(): void {
  if (!WebAssembly.validate(gemmModuleBytes(true)) && process.env.VAE_WORKBENCH_WASM_GEMM !== 'simd')
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
}

/**
 * GFLOP/s of the reference products, stock vs ours vs the kernel alone, `rounds` interleaved rounds of `reps`
 * calls each (medians).
 */
export async function benchGemm(opts: { rounds?: number; reps?: number } = {}): Promise<GemmBench> {
  enableRelaxedSimdLikeTrainers();
  await initBackend('wasm');
  const rounds = opts.rounds ?? 5;
  const reps = opts.reps ?? 10;
  const fma = activeGemmVariant() === 'relaxed-simd';
  const rows = REFERENCE_PRODUCTS.map(() => ({ stock: [] as number[], own: [] as number[], kernel: [] as number[] }));
  const operands = REFERENCE_PRODUCTS.map((s) => [
    tf.randomNormal(s.tA ? [s.k, s.m] : [s.m, s.k], 0, 1, 'float32', 1),
    tf.randomNormal(s.tB ? [s.n, s.k] : [s.k, s.n], 0, 1, 'float32', 2),
  ]);
  try {
    // one untimed round first, so that every route runs optimised code when timed (see kernelOnly)
    REFERENCE_PRODUCTS.forEach((s, i) => {
      const [a0, b0] = operands[i]!;
      for (const own of [false, true]) {
        setOwnGemm(own);
        timeThroughTfjs(s, a0!, b0!, reps);
      }
    });
    for (let r = 0; r < rounds; r++)
      REFERENCE_PRODUCTS.forEach((s, i) => {
        const [a0, b0] = operands[i]!;
        setOwnGemm(false);
        rows[i]!.stock.push(timeThroughTfjs(s, a0!, b0!, reps));
        setOwnGemm(true);
        const before = ownGemmCalls();
        rows[i]!.own.push(timeThroughTfjs(s, a0!, b0!, reps));
        if (ownGemmCalls() === before) throw new Error('our GEMM did not run (VAE_WORKBENCH_WASM_GEMM=0, or not on wasm)');
        rows[i]!.kernel.push(kernelOnly(s, fma, reps));
      });
  } finally {
    setOwnGemm(process.env.VAE_WORKBENCH_WASM_GEMM !== '0');
    tf.dispose(operands.flat());
  }
  const step = benchSteps(rounds);
  const peak = measureSimdPeak();
  const gflops = (s: Shape, ms: number) => (2 * s.m * s.k * s.n) / (ms * 1e6);
  return {
    variant: activeGemmVariant(),
    loadavg: os.loadavg(),
    step,
    peak,
    shapes: REFERENCE_PRODUCTS.map((s, i) => ({
      name: s.name,
      stockGflops: gflops(s, median(rows[i]!.stock)),
      ownGflops: gflops(s, median(rows[i]!.own)),
      kernelGflops: gflops(s, median(rows[i]!.kernel)),
    })),
  };
}

/** Training steps of the reference model with our GEMM and with the stock route, `rounds` interleaved rounds of 20 steps. */
function benchSteps(rounds: number): GemmBench['step'] {
  const config = parseRunConfig({
    model: { kind: 'vae', hidden: [400], latentDim: 20, likelihood: 'bernoulli' },
    optimizer: { name: 'adam', learningRate: 1e-3 },
  });
  const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
  const optimizer = createOptimizer(config.optimizer);
  const vars = model.variables();
  const batch = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([128, 784], 0, 1, 'float32', 1), 0.8), 'float32')) as tf.Tensor2D;
  let seed = 1000;
  const objective = { kind: 'vae', estimator: 'analytic', samples: 1, iwSamples: 1, klWeight: 1 } as const;
  const steps = (n: number): number => {
    const t0 = process.cpuUsage();
    for (let i = 0; i < n; i++)
      optimizerStep(optimizer, vars, () => trainingObjective(model, batch, batch, { ...objective, seed: seed++ }).loss, 0);
    const d = process.cpuUsage(t0);
    return (n * 128) / ((d.user + d.system) / 1e6);
  };
  const own: number[] = [];
  const stock: number[] = [];
  try {
    steps(5);
    for (let r = 0; r < rounds; r++) {
      setOwnGemm(true);
      own.push(steps(20));
      setOwnGemm(false);
      stock.push(steps(20));
    }
  } finally {
    setOwnGemm(process.env.VAE_WORKBENCH_WASM_GEMM !== '0');
    batch.dispose();
    model.dispose();
    optimizer.dispose();
  }
  const [o, s] = [median(own), median(stock)];
  return { ownSamplesPerSec: o, stockSamplesPerSec: s, ratio: o / s };
}
