// Entry of a split-ceiling probe thread (built as out/main/split-probe-worker.js; see split-ceiling.ts): the real
// training step of an MLP VAE (the engine's model, objective and optimizer on its own wasm backend) with `hidden`
// units on `rows` rows, timed over `steps` steps. Threads of one probe start each step together (a shared counter),
// so what they measure is the step beside its twins. Replies with the milliseconds of every step.
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig } from '@shared/run-config';
import { initBackend } from '../train/compute/backend';
import { shardGradients } from '../train/compute/shard-step';
import { VaeModel, modelSpecFromConfig } from '../vae/model';
import { applyClipped, createOptimizer } from '../vae/optimizer';

export interface SplitProbeJob {
  hidden: number;
  rows: number;
  steps: number;
  /** Int32 counter shared by the threads of one probe (null: alone). */
  gate: SharedArrayBuffer | null;
  threads: number;
}

const TWIN_WAIT_MS = 60_000;

async function probe(job: SplitProbeJob): Promise<number[]> {
  await initBackend('wasm');
  const config = parseRunConfig({ seed: 1, model: { kind: 'vae', arch: 'mlp', hidden: [job.hidden], latentDim: 20 } });
  const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
  const optimizer = createOptimizer(config.optimizer);
  const vars = model.variables();
  const spec = { config, dynamicBinarize: false };
  const x = tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([job.rows, 784], 0, 1, 'float32', 1), 0.5), 'float32')) as tf.Tensor2D;
  const gate = job.gate ? new Int32Array(job.gate) : null;
  const ms: number[] = [];
  for (let s = 0; s < job.steps; s++) {
    if (gate) {
      Atomics.add(gate, 0, 1);
      // spin: the twins start this step together (a twin that failed would leave this thread waiting: give up)
      const deadline = Date.now() + TWIN_WAIT_MS;
      while (Atomics.load(gate, 0) < (s + 1) * job.threads)
        if (Date.now() > deadline) throw new Error(`its twin did not reach step ${s + 1} within ${TWIN_WAIT_MS / 1000} s`);
    }
    const t0 = performance.now();
    const g = shardGradients(model, vars, spec, x, {
      stepSeed: s,
      klWeight: 1,
      shard: 0,
      shards: 1,
      shardFrom: 0,
      shardRows: job.rows,
      batchRows: job.rows,
    });
    applyClipped(optimizer, vars, g.grads, 0);
    g.loss.dataSync();
    tf.dispose([...g.grads, g.loss, g.recon, g.kl]);
    ms.push(performance.now() - t0);
  }
  return ms;
}

probe(workerData as SplitProbeJob).then(
  (ms) => parentPort!.postMessage({ ok: true, ms }),
  (err: unknown) => parentPort!.postMessage({ ok: false, error: (err as Error).message }),
);
