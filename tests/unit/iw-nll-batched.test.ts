// The importance-weighted -log p(x) decodes k samples per example as one batch with x, mu and sigma
// broadcast over the samples. It must give the values of the straightforward form (every row repeated k
// times, then the per-row likelihood), on real MNIST digits, for Bernoulli and learned-Gaussian decoders.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dataSchema, parseRunConfig } from '@shared/run-config';
import { loadDataset } from '../../src-main/data/registry';
import { initBackend } from '../../src-main/train/compute/backend';
import { importanceWeightedBound, logDiagonalNormalFromEps, logStandardNormal, reparameterize } from '../../src-main/vae/estimators';
import { logLikelihood } from '../../src-main/vae/likelihood';
import { VaeModel, modelSpecFromConfig } from '../../src-main/vae/model';
import type { LatentModel } from '../../src-main/vae/types';

beforeAll(async () => {
  await initBackend();
});

/** The IW bound written out with tf.tile, as the estimator was before batching (same noise, same chunks). */
function tiledBound(model: LatentModel, x: tf.Tensor2D, k: number, seed: number, chunk: number): Float32Array {
  return tf.tidy(() => {
    const n = x.shape[0];
    const parts: tf.Tensor[] = [];
    for (let start = 0, c = 0; start < k; start += chunk, c++) {
      const kc = Math.min(chunk, k - start);
      const { z, eps, logvar } = reparameterize(model.encode(x), kc, seed + c * 7919);
      const logPx = logLikelihood(tf.tile(x, [kc, 1]) as tf.Tensor2D, model.decode(z));
      const logw = tf.reshape(tf.sub(tf.add(logPx, logStandardNormal(z)), logDiagonalNormalFromEps(eps, logvar)), [kc, n]);
      parts.push(tf.logSumExp(logw, 0));
    }
    return tf.sub(tf.logSumExp(tf.stack(parts, 0), 0), Math.log(k)).dataSync() as Float32Array;
  });
}

async function digits(n: number): Promise<tf.Tensor2D> {
  const data = await loadDataset(dataSchema.parse({ dataset: 'mnist', binarize: 'static', trainLimit: 8, testLimit: n }), {
    dataHome: mkdtempSync(path.join(os.tmpdir(), 'vae-iw-')),
    seed: 1,
  });
  return tf.tensor2d(data.test.x.subarray(0, n * 784), [n, 784]);
}

describe('batched importance-weighted bound', () => {
  for (const likelihood of ['bernoulli', 'gaussian-learned'] as const) {
    it(`${likelihood}: equals the tiled form within float noise (k = 37 in chunks of 10)`, async () => {
      const config = parseRunConfig({ model: { hidden: [64], latentDim: 5, likelihood, initStd: 0.1 }, seed: 4 });
      const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
      const x = await digits(6);
      const fast = importanceWeightedBound(model, x, x, 37, 123, 10).dataSync();
      const slow = tiledBound(model, x, 37, 123, 10);
      for (let i = 0; i < 6; i++) {
        expect(Number.isFinite(fast[i]!)).toBe(true);
        expect(Math.abs(fast[i]! - slow[i]!)).toBeLessThan(1e-4 * Math.abs(slow[i]!) + 1e-3);
      }
      expect(new Set(Array.from(fast)).size).toBe(6); // per-example values, not one broadcast number
      x.dispose();
      model.dispose();
    });
  }
});
