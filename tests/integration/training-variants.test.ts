// Every model kind, architecture, decoder, estimator and optimizer trains end to end on small real data
// (MNIST digits; the synthetic ICA series for non-image data), with the metrics and artifacts each one owes.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig, type RunConfigInput, readCheckpointDir, initBackend, readPng, runTraining, type TrainingResult } from '../built';
import type { TrainerEvent } from '../../src-main/train/common/messages';

let backend = '';
const dataHome = mkdtempSync(path.join(os.tmpdir(), 'vae-variants-data-'));
beforeAll(async () => {
  backend = (await initBackend()).active;
});

interface Run {
  result: TrainingResult;
  events: TrainerEvent[];
  runDir: string;
  series: (name: string) => MetricPoint[];
  artifacts: (kind: string) => Extract<TrainerEvent, { type: 'artifact' }>[];
}

const base = (): RunConfigInput => ({
  seed: 3,
  data: { dataset: 'mnist', trainLimit: 300, testLimit: 60, validationFraction: 0.1 },
  model: { hidden: [64], latentDim: 4 },
  training: { epochs: 1, batchSize: 50, logEverySteps: 2 },
  eval: { iwSamples: 5, fid: false },
  snapshots: { gridSize: 3, manifoldSize: 4 },
  checkpoints: { everyEpochs: 0 },
});

async function train(over: (c: RunConfigInput) => void): Promise<Run> {
  const input = base();
  over(input);
  const config = parseRunConfig(input);
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'vae-variant-'));
  const events: TrainerEvent[] = [];
  const result = await runTraining({
    runId: 2,
    config,
    dataHome,
    runDir,
    backend,
    signal: new AbortController().signal,
    emit: (e) => events.push(e),
  });
  const points = events.flatMap((e) => (e.type === 'metrics' ? e.points : []));
  return {
    result,
    events,
    runDir,
    series: (n) => points.filter((p) => p.name === n),
    artifacts: (k) => events.filter((e): e is Extract<TrainerEvent, { type: 'artifact' }> => e.type === 'artifact' && e.kind === k),
  };
}

function expectCompleted(run: Run) {
  expect(run.result.error).toBeUndefined();
  expect(run.result.status).toBe('completed');
  const loss = run.series('train/loss');
  expect(loss.length).toBeGreaterThan(0);
  expect(loss.every((p) => Number.isFinite(p.value))).toBe(true);
  expect(Number.isFinite(run.result.final['test/loss'])).toBe(true);
}

describe('model kinds', () => {
  it('ae: reconstruction only, no KL, no nll', async () => {
    const run = await train((c) => (c.model = { ...c.model, kind: 'ae' }));
    expectCompleted(run);
    expect(run.series('train/kl').every((p) => p.value === 0)).toBe(true);
    expect(run.result.final['test/kl']).toBeUndefined();
    expect(run.result.final['test/nll']).toBeUndefined();
    expect(run.result.final['test/loss']).toBeCloseTo(run.result.final['test/recon']!, 6);
    expect(run.artifacts('kl-per-dim')).toHaveLength(0);
    expect(run.artifacts('prior-samples')[0]!.meta['generative']).toBe(false);
  });

  it('dae with masking and with gaussian noise: test loss on clean and on corrupted inputs, no classifier FD', async () => {
    for (const corruption of ['mask', 'gaussian'] as const) {
      const run = await train((c) => {
        c.model = { ...c.model, kind: 'dae', corruption, corruptionLevel: 0.4 };
        c.eval = { ...c.eval, fid: true }; // asked for, but a DAE has no prior to sample from
      });
      expectCompleted(run);
      const f = run.result.final;
      expect(f['test/nll']).toBeUndefined();
      expect(f['test/fdClassifier']).toBeUndefined();
      // the loss on inputs corrupted as in training (what train/loss sees) beside the one on clean inputs: two figures
      // (after one epoch on 300 digits either may be the larger: 494.2 corrupted against 513.6 clean with the mask)
      expect(Number.isFinite(f['test/lossCorrupted'])).toBe(true);
      expect(f['test/lossCorrupted']).not.toBeCloseTo(f['test/loss']!, 1);
    }
    // a plain autoencoder reports no corrupted loss
    const ae = await train((c) => (c.model = { ...c.model, kind: 'ae' }));
    expect(ae.result.final['test/lossCorrupted']).toBeUndefined();
  });

  it('iwae: loss is the IW bound, at most the ELBO terms', async () => {
    const run = await train((c) => {
      c.model = { ...c.model, kind: 'iwae' };
      c.objective = { iwSamples: 4 };
    });
    expectCompleted(run);
    // -IW bound <= recon + kl (the bound is tighter than the ELBO) at every log point.
    const loss = run.series('train/loss');
    const recon = run.series('train/recon');
    const kl = run.series('train/kl');
    loss.forEach((p, i) => expect(p.value).toBeLessThanOrEqual(recon[i]!.value + kl[i]!.value + 1e-3));
    expect(Number.isFinite(run.result.final['test/nll'])).toBe(true);
  });

  it('beta-VAE with KL warm-up, Monte-Carlo estimator with L = 2, dynamic binarization', async () => {
    const run = await train((c) => {
      c.objective = { beta: 4, klWarmupEpochs: 2, estimator: 'monte-carlo', mcSamples: 2 };
      c.data = { ...c.data, binarize: 'dynamic' };
    });
    expectCompleted(run);
    expect(Number.isFinite(run.result.final['test/nll'])).toBe(true);
  });

  it('gmm: EM baseline with exact test log-likelihood and a last checkpoint', async () => {
    const run = await train((c) => {
      c.model = { ...c.model, kind: 'gmm', components: 3, emIterations: 4 };
      c.eval = { ...c.eval, fid: true };
    });
    expect(run.result.status).toBe('completed');
    // the same sample-quality score as the VAEs', on draws from the mixture
    expect(run.series('test/fdClassifier')).toHaveLength(1);
    expect(run.result.final['test/fdClassifier']).toBeGreaterThan(0);
    expect(run.series('train/loss')).toHaveLength(4);
    expect(Number.isFinite(run.result.final['test/nll'])).toBe(true);
    expect(run.artifacts('prior-samples')).toHaveLength(1);
    const last = readCheckpointDir(path.join(run.runDir, 'checkpoints', 'last'));
    expect(last.weights.map((w) => w.name).sort()).toEqual(['gmm/log_vars', 'gmm/log_weights', 'gmm/means']);
  });
});

describe('architectures and decoders', () => {
  it('conv on 28x28 digits', async () => {
    const run = await train((c) => (c.model = { ...c.model, arch: 'conv', convChannels: [4, 8] }));
    expectCompleted(run);
    const first = run.series('train/loss')[0]!.value;
    expect(run.series('train/loss').at(-1)!.value).toBeLessThan(first);
  });

  it('gaussian decoder with fixed sigma: honest nats include 0.5 log(2 pi sigma^2) per pixel', async () => {
    const run = await train((c) => (c.model = { ...c.model, likelihood: 'gaussian', sigma: 0.1 }));
    expectCompleted(run);
    // With sigma = 0.1, a perfect reconstruction would still cost 784 * 0.5 * log(2 pi 0.01) < 0: nats can be negative.
    const floor = 784 * 0.5 * Math.log(2 * Math.PI * 0.01);
    expect(run.result.final['test/recon']!).toBeGreaterThan(floor);
  });

  it('gaussian decoder with learned variance respects the floor', async () => {
    const run = await train((c) => {
      c.model = { ...c.model, likelihood: 'gaussian-learned', sigmaFloor: 0.05 };
      c.optimizer = { learningRate: 0.01 };
      c.checkpoints = { everyEpochs: 1, keepLast: 1 };
    });
    expectCompleted(run);
    const floor = 784 * 0.5 * Math.log(2 * Math.PI * 0.05 * 0.05);
    expect(run.result.final['test/recon']!).toBeGreaterThan(floor);
    const last = readCheckpointDir(path.join(run.runDir, 'checkpoints', 'last'));
    expect(last.weights.find((w) => w.name === 'decoder/logsigma')!.shape).toEqual([784]);
  });

  it('2-D latent: manifold grid and latent scatter', async () => {
    const run = await train((c) => (c.model = { ...c.model, latentDim: 2 }));
    expectCompleted(run);
    const manifold = run.artifacts('manifold')[0]!;
    expect(manifold.meta).toMatchObject({ rows: 4, cols: 4, cellWidth: 28 });
    expect(readPng(Buffer.from(manifold.dataBase64, 'base64')).width).toBe(4 * 28 + 3);
    const scatter = JSON.parse(Buffer.from(run.artifacts('latent-scatter')[0]!.dataBase64, 'base64').toString()) as {
      points: number[][];
      pca: boolean;
      dims: number;
    };
    expect(scatter).toMatchObject({ pca: false, dims: 2 });
    expect(scatter.points).toHaveLength(60);
  });

  it('series data (ica-synthetic): JSON artifacts only', async () => {
    const run = await train((c) => {
      c.data = { dataset: 'ica-synthetic', sources: 3, observedDim: 10, trainLimit: 400, testLimit: 100 };
      c.model = { ...c.model, likelihood: 'gaussian', sigma: 0.1 };
    });
    expectCompleted(run);
    expect(run.artifacts('reconstructions')).toHaveLength(0);
    expect(run.artifacts('latent-pca')).toHaveLength(1);
  });
});

describe('snapshots between evaluations', () => {
  it('carry a KL per dimension of their own; evaluations follow eval.everyEpochs', async () => {
    const run = await train((c) => {
      c.training = { ...c.training, epochs: 3 };
      c.eval = { iwSamples: 5, fid: false, everyEpochs: 2 };
    });
    expectCompleted(run);
    expect(run.series('test/loss').map((p) => p.epoch)).toEqual([2, 3]);
    const kl = run
      .artifacts('kl-per-dim')
      .map((a) => JSON.parse(Buffer.from(a.dataBase64, 'base64').toString()) as { klPerDim: number[]; examples: number | null });
    expect(run.artifacts('kl-per-dim').map((a) => a.epoch)).toEqual([1, 2, 3]);
    expect(kl[0]!.examples).toBe(60); // epoch 1: no evaluation, computed on the snapshot's test examples
    expect(kl[1]!.examples).toBeNull(); // epoch 2: from the evaluation
    kl.forEach((k) => expect(k.klPerDim).toHaveLength(4));
  });
});

describe('Frechet distance', () => {
  it('eval.fid = true reports test/fdClassifier (the classifier FD) at the end', async () => {
    const run = await train((c) => {
      c.eval = { iwSamples: 5, fid: true };
      c.data = { ...c.data, testLimit: 100 };
    });
    expectCompleted(run);
    const fid = run.series('test/fdClassifier');
    expect(fid).toHaveLength(1);
    expect(fid[0]!.value).toBeGreaterThan(0);
    expect(Number.isFinite(fid[0]!.value)).toBe(true);
  });
});

describe('optimizers and stopping', () => {
  it('adagrad, rmsprop and sgd with momentum and clipping all train', async () => {
    for (const name of ['adagrad', 'rmsprop', 'sgd'] as const) {
      const run = await train((c) => (c.optimizer = { name, learningRate: name === 'sgd' ? 0.001 : 0.01, clipNorm: 50 }));
      expectCompleted(run);
    }
  });

  it('early stopping on the validation loss', async () => {
    // A learning rate this small keeps the validation loss flat to within noise; patience 1 stops after 2 epochs
    // at the latest unless it improves every epoch.
    const run = await train((c) => {
      c.training = { ...c.training, epochs: 6, earlyStoppingPatience: 1 };
      c.optimizer = { name: 'sgd', learningRate: 1e-9, momentum: 0 };
    });
    expect(run.result.status).toBe('completed');
    const val = run.series('val/loss');
    const epochs = run.series('perf/samplesPerSec').length;
    // Either it stopped early, or the validation loss strictly improved every epoch.
    if (epochs < 6) expect(run.events.some((e) => e.type === 'log' && /early stopping/.test(e.message))).toBe(true);
    else for (let i = 1; i < val.length; i++) expect(val[i]!.value).toBeLessThan(val[i - 1]!.value);
  });
});
