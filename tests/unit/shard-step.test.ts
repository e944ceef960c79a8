// Data-parallel steps: how a batch is cut, what 'auto' resolves to, and the math of cutting. Every shard uses its
// rows' part of the whole batch's noise, so the shards' weighted gradients add up to the unsharded gradient (up to
// float rounding) for every objective and noise source; one shard is the unsharded step bit for bit; and the steps
// of a 2-shard run are a function of the seed alone (two trainers agree bit for bit).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '@shared/run-config';
import { initBackend } from '../../src-main/train/compute/backend';
import { DataParallelSteps, linkPays } from '../../src-main/train/process/data-parallel';
import { resolveShards, shardBounds, shardGradients } from '../../src-main/train/compute/shard-step';
import { trainingObjective } from '../../src-main/vae/estimators';
import { createOptimizer, optimizerStep } from '../../src-main/vae/optimizer';
import { VaeModel, modelSpecFromConfig } from '../../src-main/vae/model';
import { deriveSeed, mulberry32, SEED_STREAM } from '../../src-main/vae/seeds';

beforeAll(async () => {
  await initBackend();
});

function data(n: number, d: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: n * d }, () => rng());
}

describe('shards of a batch', () => {
  it('cuts rows into contiguous, nearly equal shards covering the batch once', () => {
    expect(shardBounds(128, 2)).toEqual([
      { from: 0, to: 64 },
      { from: 64, to: 128 },
    ]);
    expect(shardBounds(5, 2)).toEqual([
      { from: 0, to: 2 },
      { from: 2, to: 5 },
    ]);
    expect(shardBounds(1, 4)).toEqual([{ from: 0, to: 1 }]);
    const b = shardBounds(1000, 3);
    expect(b[0]!.from).toBe(0);
    expect(b.at(-1)!.to).toBe(1000);
    for (let i = 1; i < b.length; i++) expect(b[i]!.from).toBe(b[i - 1]!.to);
  });

  it("'auto' is 2 shards only with an idle core and a batch of at least 64; a number is kept", () => {
    expect(resolveShards('auto', 1, 128)).toBe(2);
    expect(resolveShards('auto', 0, 128)).toBe(1);
    expect(resolveShards('auto', 1, 32)).toBe(1);
    expect(resolveShards(2, 0, 128)).toBe(2);
    expect(resolveShards(1, 3, 128)).toBe(1);
  });

  it.each([
    ['ae', { model: { kind: 'ae' } }, false],
    ['vae, 2 samples of z', { objective: { mcSamples: 2 } }, false],
    ['vae, SGVB-A, dynamic binarization', { objective: { estimator: 'monte-carlo' } }, true],
    ['iwae, k = 3', { model: { kind: 'iwae' }, objective: { iwSamples: 3 } }, false],
    ['dae, mask', { model: { kind: 'dae', corruption: 'mask', corruptionLevel: 0.3 } }, false],
  ] as const)('%s: the weighted gradients of 2 shards add up to the whole batch gradient (the same noise)', (_, over, dyn) => {
    const config = parseRunConfig({ ...over, model: { hidden: [32], latentDim: 4, ...('model' in over ? over.model : {}) } });
    const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    const vars = model.variables();
    const spec = { config, dynamicBinarize: dyn };
    const x = data(10, 784, 3);
    const base = { stepSeed: 11, klWeight: 1, batchRows: 10 };
    const rows = (from: number, to: number) => tf.tensor2d(x.subarray(from * 784, to * 784), [to - from, 784]);
    const whole = shardGradients(model, vars, spec, rows(0, 10), { ...base, shard: 0, shards: 1, shardFrom: 0, shardRows: 10 });
    const a = shardGradients(model, vars, spec, rows(0, 4), { ...base, shard: 0, shards: 2, shardFrom: 0, shardRows: 4 });
    const b = shardGradients(model, vars, spec, rows(4, 10), { ...base, shard: 1, shards: 2, shardFrom: 4, shardRows: 6 });
    whole.grads.forEach((g, i) => {
      const sum = tf.add(a.grads[i]!, b.grads[i]!).dataSync();
      const ref = g.dataSync();
      let err = 0;
      let scale = 0;
      for (let j = 0; j < ref.length; j++) {
        err = Math.max(err, Math.abs(sum[j]! - ref[j]!));
        scale = Math.max(scale, Math.abs(ref[j]!));
      }
      expect(err).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
    });
    expect(tf.add(a.loss, b.loss).dataSync()[0]).toBeCloseTo(whole.loss.dataSync()[0]!, 3);
    expect(tf.add(a.kl, b.kl).dataSync()[0]).toBeCloseTo(whole.kl.dataSync()[0]!, 3);
    model.dispose();
  });

  it('one shard is the unsharded step of earlier releases, bit for bit (same seeds, same update)', async () => {
    const config = parseRunConfig({ seed: 3, model: { hidden: [32], latentDim: 3 }, training: { dataParallel: 1 } });
    const x = data(32, 784, 4);
    const index = Int32Array.from({ length: 32 }, (_, i) => (i * 5) % 32);
    const make = () => ({
      model: new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image')),
      optimizer: createOptimizer(config.optimizer),
    });
    const a = make();
    const steps = new DataParallelSteps(
      a.model,
      a.model.variables(),
      a.optimizer,
      { config, dynamicBinarize: false },
      1,
      { x, d: 784 },
      32,
    );
    const b = make();
    const xb = tf.tensor2d(
      Array.from(index).flatMap((r) => Array.from(x.subarray(r * 784, (r + 1) * 784))),
      [32, 784],
    );
    for (let s = 0; s < 3; s++) {
      const v = await steps.step(index, 40 + s, 1);
      tf.dispose([v.loss, v.recon, v.kl]);
      const opts = {
        kind: 'vae' as const,
        estimator: 'analytic' as const,
        samples: 1,
        iwSamples: 1,
        klWeight: 1,
        seed: deriveSeed(40 + s, SEED_STREAM.eps),
      };
      optimizerStep(b.optimizer, b.model.variables(), () => trainingObjective(b.model, xb, xb, opts).loss, 0);
    }
    const [wa, wb] = [a.model.namedWeights(), b.model.namedWeights()];
    wa.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(wb[i]!.data)));
    xb.dispose();
    for (const m of [a, b]) {
      m.model.dispose();
      m.optimizer.dispose();
    }
  });

  it('a VAE trained in 2 shards on one thread is a function of its seed: two trainers agree bit for bit', async () => {
    const config = parseRunConfig({ seed: 5, model: { hidden: [32], latentDim: 3 }, training: { dataParallel: 2 } });
    const x = data(64, 784, 9);
    const train = async () => {
      const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
      const optimizer = createOptimizer(config.optimizer);
      const steps = new DataParallelSteps(model, model.variables(), optimizer, { config, dynamicBinarize: false }, 2, { x, d: 784 }, 32);
      const losses: number[] = [];
      for (let s = 0; s < 6; s++) {
        const v = await steps.step(
          Int32Array.from({ length: 32 }, (_, i) => (s * 7 + i * 3) % 64),
          100 + s,
          1,
        );
        losses.push(v.loss.dataSync()[0]!);
        tf.dispose([v.loss, v.recon, v.kl]);
      }
      const w = model.namedWeights();
      model.dispose();
      optimizer.dispose();
      return { losses, w };
    };
    const before = tf.memory().numTensors;
    const [p, q] = [await train(), await train()];
    expect(tf.memory().numTensors).toBe(before); // no tensor left behind by the steps
    expect(p.losses).toEqual(q.losses);
    expect(p.losses[5]!).toBeLessThan(p.losses[0]!);
    p.w.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(q.w[i]!.data)));
  });
});

describe("linkPays (whether the worker's shard is worth computing on the other core)", () => {
  it('keeps the link while a linked step beats all shards on this thread, and not when the other core only makes it wait', () => {
    // 2 shards: this thread's shard takes ~14 ms, so alone a step would take ~28 ms
    const own = [14, 13.5, 14.2, 15, 13.9];
    expect(linkPays([17, 16.5, 18, 17.2, 40], own, 2)).toBe(true); // one slow step does not decide (medians)
    expect(linkPays([31, 29, 45, 30, 33], own, 2)).toBe(false); // the worker descheduled: slower than alone
    // 3 shards, two of them here: alone = 1.5x this thread's shards
    expect(linkPays([25, 26, 24], [20, 20, 21], 3)).toBe(true);
    expect(linkPays([31, 32, 33], [20, 20, 21], 3)).toBe(false);
    // measured steps alone (at least 10) are the yardstick when there are some: under contention the own shards slow too
    const alone = [22, 23, 21, 22.5, 24, 22, 23, 21.5, 22, 23];
    expect(linkPays([25, 26, 24], own, 2, alone)).toBe(false);
    expect(linkPays([17, 18, 16], own, 2, alone)).toBe(true);
    expect(linkPays([25, 26, 24], own, 2, alone.slice(0, 9))).toBe(true); // too few: the estimate from the own shards
    // nothing measured yet, or one shard: nothing to judge
    expect(linkPays([], own, 2)).toBe(true);
    expect(linkPays([50], [10], 1)).toBe(true);
  });
});
