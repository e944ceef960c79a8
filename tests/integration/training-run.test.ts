// The training loop end to end on real MNIST digits (wasm backend): the loss falls, a seed fixes the run,
// nothing leaks, divergence and cancellation end the run with the right status, a resume continues the
// same trajectory, and snapshots and checkpoints come out in the documented shapes.
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig, type RunConfigInput, readCheckpointDir, initBackend, readPng, runTraining, type TrainingResult } from '../built';
import type { TrainerEvent, TrainingContext } from '../../src-main/train/common/messages';

let backend = '';
const dataHome = mkdtempSync(path.join(os.tmpdir(), 'vae-train-data-'));

beforeAll(async () => {
  backend = (await initBackend()).active;
});

interface Collected {
  result: TrainingResult;
  events: TrainerEvent[];
  runDir: string;
  series: (name: string) => MetricPoint[];
  artifacts: (kind: string) => Extract<TrainerEvent, { type: 'artifact' }>[];
}

const SMALL: RunConfigInput = {
  seed: 7,
  data: { dataset: 'mnist', trainLimit: 2000, testLimit: 200, validationFraction: 0.1 },
  model: { hidden: [200], latentDim: 10 },
  training: { epochs: 2, batchSize: 100, logEverySteps: 3 },
  eval: { iwSamples: 20, fid: false },
  snapshots: { gridSize: 4, manifoldSize: 5 },
  checkpoints: { everyEpochs: 1, keepLast: 1 },
};

function merge(base: RunConfigInput, over: RunConfigInput): RunConfigInput {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = (base as Record<string, unknown>)[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' ? { ...(b as object), ...(v as object) } : v;
  }
  return out as RunConfigInput;
}

async function train(
  over: RunConfigInput = {},
  extra: { signal?: AbortSignal; onEvent?: (e: TrainerEvent) => void; resumeFrom?: TrainingContext['resumeFrom']; runDir?: string } = {},
): Promise<Collected> {
  const config = parseRunConfig(merge(SMALL, over));
  const runDir = extra.runDir ?? mkdtempSync(path.join(os.tmpdir(), 'vae-run-'));
  const events: TrainerEvent[] = [];
  const result = await runTraining({
    runId: 1,
    config,
    dataHome,
    runDir,
    backend,
    resumeFrom: extra.resumeFrom,
    signal: extra.signal ?? new AbortController().signal,
    emit: (e) => {
      events.push(e);
      extra.onEvent?.(e);
    },
  });
  const points = events.flatMap((e) => (e.type === 'metrics' ? e.points : []));
  return {
    result,
    events,
    runDir,
    series: (name) => points.filter((p) => p.name === name),
    artifacts: (kind) => events.filter((e): e is Extract<TrainerEvent, { type: 'artifact' }> => e.type === 'artifact' && e.kind === kind),
  };
}

describe('training on real MNIST', () => {
  it('the loss falls; metrics, snapshots and checkpoints come out', async () => {
    const run = await train();
    expect(run.result.status).toBe('completed');
    const started = run.events.find((e) => e.type === 'started');
    expect(started).toMatchObject({ type: 'started', backend, totalEpochs: 2, totalSteps: 36 });
    const loss = run.series('train/loss');
    expect(loss.length).toBe(12);
    expect(loss[0]!.value).toBeGreaterThan(loss.at(-1)!.value + 80);
    expect(loss.at(-1)!.value).toBeLessThan(260); // from ~543 (784 ln 2) after 36 Adam steps
    expect(run.series('train/recon').length).toBe(12);
    expect(run.series('val/loss').length).toBe(2);
    const f = run.result.final;
    for (const name of ['test/loss', 'test/recon', 'test/kl', 'test/nll', 'test/activeUnits', 'perf/samplesPerSec', 'val/loss'])
      expect(Number.isFinite(f[name]), name).toBe(true);
    expect(f['test/loss']!).toBeCloseTo(f['test/recon']! + f['test/kl']!, 3);
    expect(f['test/nll']!).toBeLessThan(f['test/loss']!); // the IW bound is tighter than the ELBO
    expect(f['test/activeUnits']!).toBeGreaterThan(0);
    expect(f['test/activeUnits']!).toBeLessThanOrEqual(10);
    expect(run.result.samplesPerSec).toBeGreaterThan(0);
    expect(run.events.some((e) => e.type === 'progress' && e.progress.phase === 'train')).toBe(true);
    // Where the time went, per phase, and the final -log p(x)'s throughput, stored with the run.
    for (const phase of ['startup', 'data', 'train', 'eval', 'fdClassifier', 'snapshots', 'checkpoints'])
      expect(f[`perf/time/${phase}`], phase).toBeGreaterThanOrEqual(0);
    for (const phase of ['data', 'train', 'eval', 'snapshots', 'checkpoints']) expect(f[`perf/time/${phase}`], phase).toBeGreaterThan(0);
    expect(f['perf/time/fdClassifier']).toBe(0); // eval.fid is off here (the classifier FD's phase: never called FID)
    expect(f['perf/time/fid']).toBeUndefined();
    expect(f['perf/evalNllDecodedPerSec']!).toBeGreaterThan(0);
    // The ETA counts what comes after the last step: it is still positive when the training steps are done.
    const etas = run.events.flatMap((e) => (e.type === 'progress' && e.progress.etaSeconds !== null ? [e.progress] : []));
    expect(etas.length).toBeGreaterThan(0);
    const afterSteps = etas.filter((p) => p.step === p.totalSteps && p.phase === 'eval');
    expect(afterSteps.length).toBeGreaterThan(0);
    expect(afterSteps[0]!.etaSeconds!).toBeGreaterThan(0);

    // Snapshots at epochs 1 and 2.
    const recon = run.artifacts('reconstructions');
    expect(recon.map((a) => a.epoch)).toEqual([1, 2]);
    const png = readPng(Buffer.from(recon[1]!.dataBase64, 'base64'));
    expect([png.width, png.height]).toEqual([16 * 28 + 15, 2 * 28 + 1]);
    expect(recon[1]!.meta).toMatchObject({ rows: 2, cols: 16, cellWidth: 28, cellHeight: 28 });
    const prior = run.artifacts('prior-samples');
    expect(prior[0]!.meta).toMatchObject({ rows: 4, cols: 4, noiseSeed: 12345 + 10 });
    expect(run.artifacts('interpolation')[0]!.meta).toMatchObject({ rows: 1, cols: 10 });
    expect(run.artifacts('manifold')).toHaveLength(0); // latentDim 10
    const pcaArt = run.artifacts('latent-pca').at(-1)!;
    expect(pcaArt.mime).toBe('application/json');
    const scatter = JSON.parse(Buffer.from(pcaArt.dataBase64, 'base64').toString()) as {
      points: number[][];
      labels: number[];
      dims: number;
      pca: boolean;
    };
    expect(scatter.points).toHaveLength(200);
    expect(scatter.labels).toHaveLength(200);
    expect(scatter).toMatchObject({ dims: 10, pca: true });
    const kl = JSON.parse(Buffer.from(run.artifacts('kl-per-dim').at(-1)!.dataBase64, 'base64').toString()) as { klPerDim: number[] };
    expect(kl.klPerDim).toHaveLength(10);

    // Checkpoints: interval (keepLast 1), best, last; with optimizer state.
    const ckpts = run.events.filter((e): e is Extract<TrainerEvent, { type: 'checkpoint' }> => e.type === 'checkpoint');
    expect(new Set(ckpts.map((c) => c.tag))).toEqual(new Set(['interval', 'best', 'last']));
    const root = path.join(run.runDir, 'checkpoints');
    expect(existsSync(path.join(root, 'epoch-1'))).toBe(false);
    expect(existsSync(path.join(root, 'epoch-2'))).toBe(true);
    const last = readCheckpointDir(path.join(root, 'last'));
    expect(last).toMatchObject({ epoch: 2, step: 36 });
    expect(last.weights.map((w) => w.name)).toContain('encoder/logvar/kernel');
    expect(last.optimizer!.iterations).toBe(36);
    expect(last.optimizer!.slots.map((s) => s.name)).toContain('decoder/out/kernel/v');
  });

  it('the same seed gives identical losses; another seed does not', async () => {
    const over: RunConfigInput = {
      data: { trainLimit: 600, testLimit: 50 },
      training: { epochs: 1 },
      eval: { iwSamples: 5 },
      checkpoints: { everyEpochs: 0 },
    };
    const a = await train(over);
    const b = await train(over);
    const c = await train({ ...over, seed: 8 });
    const values = (r: Collected) => r.series('train/loss').map((p) => p.value);
    expect(values(a).length).toBeGreaterThan(0);
    expect(values(b)).toEqual(values(a));
    expect(a.result.final['test/loss']).toBe(b.result.final['test/loss']);
    expect(values(c)).not.toEqual(values(a));
  });

  it('no tensors leak across epochs or after the run', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const run = await train(
      { data: { trainLimit: 400, testLimit: 50 }, training: { epochs: 3 }, eval: { iwSamples: 5 } },
      {
        onEvent: (e) =>
          e.type === 'metrics' && e.points.some((p) => p.name === 'perf/samplesPerSec') && counts.push(tf.memory().numTensors),
      },
    );
    expect(run.result.status).toBe('completed');
    expect(counts).toHaveLength(3);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a learning rate of 1e3 ends "diverged" naming the step (adam and sgd)', async () => {
    for (const name of ['adam', 'sgd'] as const) {
      const run = await train({ optimizer: { name, learningRate: 1e3 }, training: { epochs: 2, logEverySteps: 1 } });
      expect(run.result.status).toBe('diverged');
      expect(run.result.error).toMatch(/step \d+/);
      const step = Number(/step (\d+)/.exec(run.result.error!)![1]);
      expect(step).toBeGreaterThan(0);
      expect(step).toBeLessThan(20);
      expect(run.series('train/loss').every((p) => Number.isFinite(p.value))).toBe(true);
      expect(run.series('train/loss').length).toBe(step - 1); // every earlier log point was finite and reported
      expect(run.result.samplesPerSec).toBeGreaterThan(0);
    }
  });

  it('cancelling stops within a second', async () => {
    const ac = new AbortController();
    let abortedAt = 0;
    const run = await train(
      { training: { epochs: 1000 }, data: { trainLimit: 2000 } },
      {
        signal: ac.signal,
        onEvent: (e) => {
          if (e.type === 'started')
            setTimeout(() => {
              abortedAt = performance.now();
              ac.abort();
            }, 300);
        },
      },
    );
    const latency = performance.now() - abortedAt;
    expect(run.result.status).toBe('cancelled');
    expect(abortedAt).toBeGreaterThan(0);
    expect(latency).toBeLessThan(1000);
  });

  it('a resume from a checkpoint continues the same trajectory', async () => {
    const over: RunConfigInput = {
      data: { trainLimit: 500, testLimit: 50 },
      training: { epochs: 2, logEverySteps: 1 },
      eval: { iwSamples: 5 },
      checkpoints: { everyEpochs: 1, keepLast: 5 },
    };
    const full = await train(over);
    const ckpt = readCheckpointDir(path.join(full.runDir, 'checkpoints', 'epoch-1'));
    expect(ckpt.epoch).toBe(1);
    const resumed = await train(over, {
      resumeFrom: { dir: path.join(full.runDir, 'checkpoints', 'epoch-1'), step: ckpt.step, epoch: ckpt.epoch, restoreOptimizer: true },
    });
    expect(resumed.result.status).toBe('completed');
    const started = resumed.events.find((e) => e.type === 'started');
    expect(started).toMatchObject({ totalSteps: full.series('train/loss').length });
    const tail = full.series('train/loss').filter((p) => p.step > ckpt.step);
    const again = resumed.series('train/loss');
    expect(again.map((p) => p.step)).toEqual(tail.map((p) => p.step));
    again.forEach((p, i) => expect(Math.abs(p.value - tail[i]!.value) / tail[i]!.value).toBeLessThan(1e-4));
  });
});
