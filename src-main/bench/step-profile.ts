// Where one training step of the reference model spends its time, measured on the engine's own step: the model,
// objective and kernels the trainers run (shardGradients on the wasm backend with the fast paths registered) and
// the optimizer they make (createOptimizer: WasmAdamOptimizer), on 128 binarized rows. Timed without instruments
// first (median step, the gradients, the update); then once more with every wasm kernel timed, for the split
// between the matrix products, the other kernels and what happens outside kernels (tfjs's engine and tape).
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig } from '@shared/run-config';
import { initBackend } from '../train/compute/backend';
import { shardGradients } from '../train/compute/shard-step';
import { VaeModel, modelSpecFromConfig } from '../vae/model';
import { applyClipped, createOptimizer } from '../vae/optimizer';

export interface EngineStepProfile {
  rows: number;
  /** Median ms of a whole step, of its forward and backward pass, and of the optimizer update (read back included). */
  stepMs: number;
  gradientsMs: number;
  updateMs: number;
  /** With every kernel timed (a separate pass, so a little slower): ms a step in matrix products, in other kernels, outside kernels. */
  matmulMs: number;
  otherKernelsMs: number;
  outsideKernelsMs: number;
  kernelCalls: number;
  topKernels: { name: string; ms: number; calls: number }[];
}

const MATMUL = new Set(['BatchMatMul', '_FusedMatMul']);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Every wasm kernel wrapped with a timer; undo() puts the kernels back. */
export function timeKernels(): { stats: Map<string, { ms: number; calls: number }>; undo: () => void } {
  const stats = new Map<string, { ms: number; calls: number }>();
  const originals = tf.getKernelsForBackend('wasm');
  for (const cfg of originals) {
    const inner = cfg.kernelFunc;
    tf.unregisterKernel(cfg.kernelName, 'wasm');
    tf.registerKernel({
      ...cfg,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = inner(args);
        const s = stats.get(cfg.kernelName) ?? { ms: 0, calls: 0 };
        s.ms += performance.now() - t0;
        s.calls += 1;
        stats.set(cfg.kernelName, s);
        return out;
      },
    });
  }
  return {
    stats,
    undo: () => {
      for (const cfg of originals) {
        tf.unregisterKernel(cfg.kernelName, 'wasm');
        tf.registerKernel(cfg);
      }
    },
  };
}

/** `steps` timed steps (after `warm` untimed ones) of the engine's reference step on `rows` rows. */
export async function profileEngineStep(steps = 30, rows = 128, warm = 10): Promise<EngineStepProfile> {
  await initBackend('wasm');
  if (tf.getBackend() !== 'wasm') throw new Error(`the step profile needs the wasm backend (active: ${tf.getBackend()})`);
  const config = parseRunConfig({ seed: 1, model: { kind: 'vae', arch: 'mlp', hidden: [400], latentDim: 20 } });
  const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
  const optimizer = createOptimizer(config.optimizer);
  const vars = model.variables();
  const spec = { config, dynamicBinarize: false };
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([rows, 784], 0, 1, 'float32', 1), 0.5), 'float32')) as tf.Tensor2D;
  const run = (count: number, seed0: number, record: (total: number, grads: number, update: number) => void) => {
    for (let s = 0; s < count; s++) {
      const t0 = performance.now();
      const p = { stepSeed: seed0 + s, klWeight: 1, shard: 0, shards: 1, shardFrom: 0, shardRows: rows, batchRows: rows };
      const g = shardGradients(model, vars, spec, x, p);
      const t1 = performance.now();
      applyClipped(optimizer, vars, g.grads, 0);
      g.loss.dataSync();
      const t2 = performance.now();
      tf.dispose([...g.grads, g.loss, g.recon, g.kl]);
      record(t2 - t0, t1 - t0, t2 - t1);
    }
  };
  try {
    run(warm, 0, () => undefined);
    const [totals, grads, updates] = [[], [], []] as number[][];
    run(steps, warm, (t, g, u) => {
      totals.push(t);
      grads.push(g);
      updates.push(u);
    });
    const { stats, undo } = timeKernels();
    const timed: number[] = [];
    try {
      run(steps, warm + steps, (t) => timed.push(t));
    } finally {
      undo();
    }
    const per = [...stats.entries()].map(([name, s]) => ({ name, ms: s.ms / steps, calls: s.calls / steps }));
    const sum = (xs: { ms: number }[]) => xs.reduce((a, k) => a + k.ms, 0);
    const matmulMs = sum(per.filter((k) => MATMUL.has(k.name)));
    const kernelMs = sum(per);
    const meanTimed = timed.reduce((a, b) => a + b, 0) / timed.length;
    return {
      rows,
      stepMs: median(totals),
      gradientsMs: median(grads),
      updateMs: median(updates),
      matmulMs,
      otherKernelsMs: kernelMs - matmulMs,
      outsideKernelsMs: Math.max(0, meanTimed - kernelMs),
      kernelCalls: per.reduce((a, k) => a + k.calls, 0),
      topKernels: per.sort((p, q) => q.ms - p.ms).slice(0, 8),
    };
  } finally {
    x.dispose();
    model.dispose();
    optimizer.dispose();
  }
}
