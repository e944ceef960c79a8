// evaluateSplit on real MNIST digits against the estimators called directly: the ELBO terms with the same
// seeds, the KL per dimension adding up to the analytic KL, the -log p(x) equal to the IW bound's mean and the
// -ELBO of the same importance samples equal to their mean log weight.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataSchema, parseRunConfig } from '@shared/run-config';
import { loadDataset } from '../../src-main/data/registry';
import { initBackend } from '../../src-main/train/compute/backend';
import { elboTerms, importanceWeightedBound, logImportanceWeights } from '../../src-main/vae/estimators';
import { evaluateSplit } from '../../src-main/vae/evaluate';
import { VaeModel, modelSpecFromConfig } from '../../src-main/vae/model';
import { encodeMeans } from '../../src-main/vae/sampling';
import { deriveSeed, SEED_STREAM } from '../../src-main/vae/seeds';

beforeAll(async () => {
  await initBackend();
});

describe('evaluateSplit', () => {
  it('matches the estimators called directly (one batch)', async () => {
    const data = await loadDataset(dataSchema.parse({ dataset: 'mnist', binarize: 'static', trainLimit: 8, testLimit: 12 }), {
      dataHome: mkdtempSync(path.join(os.tmpdir(), 'vae-evalsplit-')),
      seed: 1,
    });
    const config = parseRunConfig({ model: { hidden: [64], latentDim: 6, initStd: 0.1 }, seed: 2 });
    const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    const n = 12;
    const seed = 17;
    const r = await evaluateSplit(model, data.test.x, n, { batchSize: 64, estimator: 'analytic', samples: 1, iwSamples: 30, seed });
    const x = tf.tensor2d(data.test.x.subarray(0, n * 784), [n, 784]);
    const t = elboTerms(model, x, x, { estimator: 'analytic', samples: 1, seed: deriveSeed(seed, SEED_STREAM.eval, 0) });
    const mean = (v: tf.Tensor) => tf.mean(v).dataSync()[0]!;
    expect(r.recon).toBeCloseTo(mean(t.recon), 3);
    expect(r.kl).toBeCloseTo(mean(t.kl), 4);
    expect(r.loss).toBeCloseTo(r.recon + r.kl, 4);
    expect(r.klPerDim.length).toBe(6);
    expect(r.klPerDim.reduce((a, b) => a + b, 0)).toBeCloseTo(r.kl, 3);
    const bound = importanceWeightedBound(model, x, x, 30, deriveSeed(seed, SEED_STREAM.eval, 1_000_003, 0), 30);
    expect(r.nll).toBeCloseTo(-mean(bound), 3);
    // the -ELBO of the same k importance samples (mean log w), for the inference gap: never below the -log p(x) bound
    const logw = logImportanceWeights(model, x, x, 30, deriveSeed(seed, SEED_STREAM.eval, 1_000_003, 0), true);
    expect(r.nllElbo).toBeCloseTo(-mean(logw), 3);
    expect(r.nllElbo).toBeGreaterThan(r.nll);
    expect(r.nllExamples).toBe(n);
    expect(r.nllDecoded).toBe(n * 30);
    expect(r.elboMs).toBeGreaterThan(0);
    expect(r.nllMs).toBeGreaterThan(0);
    x.dispose();
    model.dispose();
  });

  it('keeps the encoder means of the first examples for the snapshots, across batch boundaries', async () => {
    const data = await loadDataset(dataSchema.parse({ dataset: 'mnist', trainLimit: 8, testLimit: 12 }), {
      dataHome: mkdtempSync(path.join(os.tmpdir(), 'vae-evalsplit-')),
      seed: 1,
    });
    const config = parseRunConfig({ model: { hidden: [32], latentDim: 3 }, seed: 4 });
    const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    const opts = { batchSize: 5, estimator: 'analytic' as const, samples: 1, iwSamples: 0, seed: 3 };
    const direct = encodeMeans(model, data.test.x, 12);
    const seven = await evaluateSplit(model, data.test.x, 12, { ...opts, latentMeans: 7 }); // batches 0-4, 5-9 (cut at 7), 10-11
    expect(seven.latentMeans!.length).toBe(7 * 3);
    seven.latentMeans!.forEach((v, i) => expect(v).toBeCloseTo(direct[i]!, 5));
    const all = await evaluateSplit(model, data.test.x, 12, { ...opts, latentMeans: 2000 });
    expect(all.latentMeans!.length).toBe(12 * 3);
    all.latentMeans!.forEach((v, i) => expect(v).toBeCloseTo(direct[i]!, 5));
    expect((await evaluateSplit(model, data.test.x, 12, opts)).latentMeans).toBeUndefined();
    model.dispose();
  });
});
