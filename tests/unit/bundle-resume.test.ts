// A bundle carries what resuming needs: train a real model a few Adam steps on real MNIST, bundle it, restore
// weights and optimizer state from the parsed bundle into a fresh model and optimizer, and check that the next
// steps give the same weights as continuing the original.
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '@shared/run-config';
import { buildBundle, parseBundle } from '../../src-main/checkpoints/bundle';
import type { NamedTensor } from '../../src-main/checkpoints/checkpoint-dir';
import { loadDataset } from '../../src-main/data/registry';
import { initBackend } from '../../src-main/train/compute/backend';
import { trainingObjective } from '../../src-main/vae/estimators';
import { modelSpecFromConfig, VaeModel } from '../../src-main/vae/model';
import { createOptimizer, exportOptimizerState, importOptimizerState, optimizerStep } from '../../src-main/vae/optimizer';

describe('bundle resume', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'resume-'));
  beforeAll(async () => {
    await initBackend();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('restores weights and Adam state so training continues identically', async () => {
    const config = parseRunConfig({
      seed: 3,
      model: { hidden: [24], latentDim: 3 },
      data: { dataset: 'mnist', trainLimit: 256 },
      optimizer: { learningRate: 0.01 },
    });
    const data = await loadDataset(config.data, { dataHome: tmp, seed: config.seed });
    const batch = 64;
    const xb = (i: number) => tf.tensor2d(data.train.x.subarray((i % 4) * batch * 784, ((i % 4) + 1) * batch * 784), [batch, 784]);
    const step = (model: VaeModel, opt: tf.Optimizer, i: number) => {
      const x = xb(i);
      optimizerStep(
        opt,
        model.variables(),
        () =>
          trainingObjective(model, x, x, { kind: 'vae', estimator: 'analytic', samples: 1, iwSamples: 1, klWeight: 1, seed: 100 + i }).loss,
        0,
      );
      x.dispose();
    };

    const original = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    const opt = createOptimizer(config.optimizer);
    for (let i = 0; i < 5; i++) step(original, opt, i);
    const weights = original.namedWeights();
    const optimizer = await exportOptimizerState(opt, original);
    expect(optimizer.iterations).toBe(5);
    expect(optimizer.slots.length).toBe(2 * weights.length); // adam: m and v per weight

    const bytes = buildBundle({
      appVersion: 'test',
      run: {
        name: 'resume',
        config,
        configText: '{}',
        dataset: { id: 'mnist', shape: [28, 28, 1], kind: 'image' },
        seed: 3,
        backend: tf.getBackend(),
        status: 'completed',
        tags: [],
        notes: '',
        createdAt: 0,
        startedAt: null,
        finishedAt: null,
        sourceRunId: null,
      },
      finalMetrics: {},
      metrics: [],
      checkpoint: { epoch: 1, step: 5, tag: 'last', metrics: {}, backend: tf.getBackend(), createdAt: 0 },
      weights,
      optimizer,
      snapshots: [],
    });
    const parsed = parseBundle(bytes);

    const resumed = new VaeModel(modelSpecFromConfig(parsed.run.config, parsed.run.dataset.shape, parsed.run.dataset.kind));
    resumed.loadNamedWeights(parsed.weights);
    const opt2 = createOptimizer(parsed.run.config.optimizer);
    await importOptimizerState(opt2, resumed, parsed.optimizer!);

    for (let i = 5; i < 8; i++) {
      step(original, opt, i);
      step(resumed, opt2, i);
    }
    const a = original.namedWeights();
    const b = resumed.namedWeights();
    let maxDiff = 0;
    let moved = 0;
    for (const [k, t] of a.entries()) {
      for (let j = 0; j < t.data.length; j++) {
        maxDiff = Math.max(maxDiff, Math.abs(t.data[j]! - b[k]!.data[j]!));
        moved = Math.max(moved, Math.abs(t.data[j]! - weights[k]!.data[j]!));
      }
    }
    expect(moved).toBeGreaterThan(1e-3); // the extra steps changed the weights
    expect(maxDiff).toBeLessThan(1e-6); // and both copies changed them identically

    // Without the optimizer state (fresh Adam), the same steps land elsewhere: the state matters.
    const fresh = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    fresh.loadNamedWeights(parsed.weights as NamedTensor[]);
    const opt3 = createOptimizer(config.optimizer);
    for (let i = 5; i < 8; i++) step(fresh, opt3, i);
    const c = fresh.namedWeights();
    let freshDiff = 0;
    for (const [k, t] of a.entries())
      for (let j = 0; j < t.data.length; j++) freshDiff = Math.max(freshDiff, Math.abs(t.data[j]! - c[k]!.data[j]!));
    expect(freshDiff).toBeGreaterThan(1e-4);

    for (const m of [original, resumed, fresh]) m.dispose();
    for (const o of [opt, opt2, opt3]) o.dispose();
  });
});
