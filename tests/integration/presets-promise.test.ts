// Every preset keeps its promise: trained as a user would (fewer epochs or a data subset where a test says so),
// each run shows what its paper or course shows. Real training on the wasm backend, seeded, in-process.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunConfig, RunConfigInput } from '@shared/run-config';
import type { LoadedDataset } from '../../src-main/data/types';
import type { TrainerEvent } from '../../src-main/train/common/messages';
import type { TrainingResult } from '../../src-main/train/process/run-training';
import {
  findPreset,
  parseRunConfig,
  readCheckpointDir,
  loadDataset,
  initBackend,
  runTraining,
  corrupt,
  knnAccuracy,
  VaeModel,
  modelSpecFromConfig,
  decodeMeans,
  encodeMeans,
  manifoldCodes,
  priorSamples,
  reconstruct,
  getFeatureExtractor,
} from '../built';

let backend = '';
let dataHome = '';
beforeAll(async () => {
  backend = (await initBackend()).active;
  dataHome = mkdtempSync(path.join(os.tmpdir(), 'vae-presets-'));
});

function merge(a: unknown, b: unknown): unknown {
  if (!b || typeof b !== 'object' || Array.isArray(b)) return b;
  const out: Record<string, unknown> = { ...((a as Record<string, unknown>) ?? {}) };
  for (const [k, v] of Object.entries(b)) out[k] = merge((a as Record<string, unknown> | undefined)?.[k], v);
  return out;
}

interface Trained {
  result: TrainingResult;
  final: Record<string, number>;
  config: RunConfig;
  events: TrainerEvent[];
  data: LoadedDataset;
  /** The trained model from the run's last checkpoint (dispose it). */
  model(): VaeModel;
}

/** Train a preset with overrides (a shorter run); snapshots only at the end. */
async function trainPreset(id: string, over: RunConfigInput = {}): Promise<Trained> {
  const preset = findPreset(id);
  if (!preset) throw new Error(`no preset ${id}`);
  const config = parseRunConfig(merge(merge(preset.config, { snapshots: { everyEpochs: 1000 }, eval: { fid: false } }), over));
  const runDir = mkdtempSync(path.join(os.tmpdir(), `vae-preset-${id}-`));
  const events: TrainerEvent[] = [];
  const result = await runTraining({
    runId: 1,
    config,
    dataHome,
    runDir,
    backend,
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
  });
  expect(result.status, result.error).toBe('completed');
  const data = await loadDataset(config.data, { dataHome, seed: config.seed });
  const model = () => {
    const m = new VaeModel(modelSpecFromConfig(config, data.descriptor.shape, data.descriptor.kind));
    m.loadNamedWeights(readCheckpointDir(path.join(runDir, 'checkpoints', 'last')).weights);
    return m;
  };
  return { result, final: result.final, config, events, data, model };
}

const sqDist = (a: Float32Array, i: number, b: Float32Array, j: number, d: number) => {
  let s = 0;
  for (let p = 0; p < d; p++) s += (a[i * d + p]! - b[j * d + p]!) ** 2;
  return s;
};

/**
 * Reconstructions that depend on their input: the fraction of examples whose reconstruction is nearer its own
 * input than the average other input, and the spread of the reconstructions relative to that of the inputs.
 */
function reconstructionFidelity(inputs: Float32Array, recs: Float32Array, n: number, d: number) {
  let own = 0;
  let spreadRec = 0;
  let spreadIn = 0;
  for (let i = 0; i < n; i++) {
    let others = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      others += sqDist(recs, i, inputs, j, d) / (n - 1);
      spreadRec += sqDist(recs, i, recs, j, d);
      spreadIn += sqDist(inputs, i, inputs, j, d);
    }
    if (sqDist(recs, i, inputs, i, d) < others) own++;
  }
  return { ownCloser: own / n, spread: spreadRec / spreadIn };
}

/** Mean over pixels of the standard deviation across images: ~0 for a grid of identical blobs. */
function pixelSpread(images: Float32Array, n: number, d: number): number {
  let total = 0;
  for (let p = 0; p < d; p++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = images[i * d + p]!;
      s += v;
      s2 += v * v;
    }
    total += Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2));
  }
  return total / d;
}

describe('presets keep their promise', () => {
  it('phys449: both latent dimensions active, KL well above zero, reconstructions that follow their inputs, a true -ELBO', async () => {
    const run = await trainPreset('phys449', { training: { epochs: 10 }, eval: { iwSamples: 50 } });
    const f = run.final;
    expect(f['test/activeUnits']).toBe(2);
    expect(f['test/activeUnitsCov']).toBe(2);
    expect(f['test/kl']!).toBeGreaterThan(3);
    expect(f['health/posteriorCollapse'] ?? 0).toBe(0);
    // the inference gap: -ELBO minus the IW estimate on the same examples, positive (q is not the true posterior)
    expect(f['test/inferenceGap']!).toBeGreaterThan(0);
    expect(f['test/inferenceGap']!).toBeLessThan(f['test/loss']! - f['test/nll']! + 5);
    // the reported loss is the -ELBO in nats: recon + KL, and recon carries the Gaussian's constant (N/2)·log(2πσ²)
    expect(f['test/loss']!).toBeCloseTo(f['test/recon']! + f['test/kl']!, 3);
    const model = run.model();
    try {
      const n = 40;
      const d = run.data.d;
      const x = run.data.test.x.subarray(0, n * d);
      const recs = reconstruct(model, x, n);
      const fid = reconstructionFidelity(x, recs, n, d);
      expect(fid.ownCloser).toBeGreaterThan(0.8);
      expect(fid.spread).toBeGreaterThan(0.2);
      // the same sums by hand: recon >= N·MSE(mean)/(2σ²) + (N/2)·log(2πσ²) up to the sampling of z, within a few nats
      const sigma = run.config.model.sigma;
      let sse = 0;
      for (let i = 0; i < n * d; i++) sse += (x[i]! - recs[i]!) ** 2;
      const atMean = sse / n / (2 * sigma * sigma) + (d / 2) * Math.log(2 * Math.PI * sigma * sigma);
      expect(Math.abs(atMean - f['test/recon']!)).toBeLessThan(0.35 * Math.abs(f['test/recon']!) + 30);
      // the manifold spans several digits, not one blob
      expect(pixelSpread(decodeMeans(model, manifoldCodes(10), 100), 100, d)).toBeGreaterThan(0.08);
      expect(pixelSpread(priorSamples(model, 64), 64, d)).toBeGreaterThan(0.08);
    } finally {
      model.dispose();
    }
  }, 120_000);

  it('keras-classic as shipped: a 2-D latent scatter that separates the digits, a manifold of all ten digits', async () => {
    // the shipped length: 300 epochs on all 10,000 bundled digits, train and test together (data.trainOnTest, as the
    // keras.io example trains on all 70,000; mnist-full is not on these machines), the Keras script's 30,000 updates.
    // The manifold's 225 images are read by the MNIST classifier of the classifier FD, fitted on the fixed 8,000-digit
    // training split
    // evaluated only at the end (evaluation draws from its own seed stream, so the weights are the shipped run's;
    // the per-epoch test ELBO would add 300 passes over 2,000 digits)
    const run = await trainPreset('keras-classic', { training: { dataParallel: 1 }, eval: { everyEpochs: 1000 } });
    expect(run.data.train.n).toBe(10_000);
    const model = run.model();
    try {
      const n = run.data.test.n;
      const means = encodeMeans(model, run.data.test.x, n);
      const acc = knnAccuracy(means, run.data.test.y!, n, 2, 5);
      const grid = decodeMeans(model, manifoldCodes(15), 225);
      const fitSplit = await loadDataset({ ...run.config.data, trainOnTest: false }, { dataHome, seed: 1 });
      const classifier = await getFeatureExtractor('mnist', fitSplit.train, run.data.d, {
        cacheDir: mkdtempSync(path.join(os.tmpdir(), 'vae-keras-fd-')),
        seed: 1,
      });
      const digits = await classifier.predict!(grid, 225);
      const counts = Array.from({ length: 10 }, (_, c) => digits.filter((v) => v === c).length);
      console.log(`keras-classic: 5-NN accuracy of the 2-D test means ${acc.toFixed(3)}; manifold cells per digit ${counts.join(' ')}`);
      expect(acc).toBeGreaterThan(0.6); // chance: 0.1
      // measured 2026-12-07 at 300 epochs, seed 1 (the preset's): all ten, cells per digit 0-9 3 20 25 32 19 9 39 4 46
      // 28 in one shard (3 19 26 34 21 9 38 2 45 28 in two). Seeds 2 and 3 give nine (their 0s mostly outside the drawn
      // square, its edge cells read as 6); at 150 epochs seed 2 drew 0 and 7 in one cell each, at 50 epochs 5 lay on
      // top of 8. Each digit in at least two cells
      expect(counts.filter((c) => c >= 2).length).toBe(10);
    } finally {
      model.dispose();
    }
  }, 2_400_000);

  it('pytorch-examples: many active units, a loss near the reference after two epochs, faithful reconstructions', async () => {
    const run = await trainPreset('pytorch-examples', { data: { testLimit: 500 }, training: { epochs: 5 }, eval: { iwSamples: 10 } });
    expect(run.final['test/activeUnits']!).toBeGreaterThanOrEqual(10);
    expect(run.final['test/loss']!).toBeLessThan(150); // 123.6 after the full 10 epochs (README)
    const model = run.model();
    try {
      const n = 40;
      const x = run.data.test.x.subarray(0, n * run.data.d);
      expect(reconstructionFidelity(x, reconstruct(model, x, n), n, run.data.d).ownCloser).toBeGreaterThan(0.9);
    } finally {
      model.dispose();
    }
  }, 180_000);

  it('beta-vae-4: a much lower rate than the same model with beta = 1, and clearly fewer active units by both counts', async () => {
    // 10 of the preset's 20 epochs: latent 32 (more than MNIST needs) and Adam 3e-3 on batches of 64 let the unused
    // units reach the prior within the run. Measured here (seed 1): KL 7.2 vs 24.6 nats, active units (KL / Burda)
    // beta=4 11 / 19, beta=1 31 / 32; with the CLI on seeds 1-3 (one or two data-parallel shards) beta=4 kept 11-23 /
    // 14-26, beta=1 31-32 / 31-32. The margin asserted (MARGIN) is below the smallest measured (6, Burda's count).
    const MARGIN = 4;
    const short = { data: { testLimit: 500 }, training: { epochs: 10 }, eval: { iwSamples: 5, everyEpochs: 5 } };
    const b4 = await trainPreset('beta-vae-4', short);
    const b1 = await trainPreset('beta-vae-4', { ...short, objective: { beta: 1 } });
    const [au4, cov4, au1, cov1] = [
      b4.final['test/activeUnits']!,
      b4.final['test/activeUnitsCov']!,
      b1.final['test/activeUnits']!,
      b1.final['test/activeUnitsCov']!,
    ];
    console.log(
      `beta-vae: KL ${b4.final['test/kl']!.toFixed(1)} vs ${b1.final['test/kl']!.toFixed(1)}; active units of ${b4.config.model.latentDim} (KL / Burda) beta=4 ${au4} / ${cov4}, beta=1 ${au1} / ${cov1}`,
    );
    expect(b4.final['test/kl']!).toBeLessThan(0.5 * b1.final['test/kl']!);
    expect(au4).toBeLessThanOrEqual(au1 - MARGIN);
    expect(cov4).toBeLessThanOrEqual(cov1 - MARGIN);
  }, 400_000);

  it('dae-mask: it cleans masked test digits better than a plain autoencoder of the same architecture', async () => {
    const short = { data: { testLimit: 500 }, training: { epochs: 5 } };
    const dae = await trainPreset('dae-mask', short);
    const ae = await trainPreset('dae-mask', { ...short, model: { kind: 'ae' } });
    const n = 200;
    const d = dae.data.d;
    const clean = dae.data.test.x.subarray(0, n * d);
    const masked = tf.tidy(() => corrupt(tf.tensor2d(clean, [n, d]), 'mask', 0.3, 99).dataSync() as Float32Array);
    const error = (run: Trained) => {
      const model = run.model();
      try {
        const recs = reconstruct(model, masked, n);
        let e = 0;
        for (let i = 0; i < n * d; i++) e += (recs[i]! - clean[i]!) ** 2;
        return e / n;
      } finally {
        model.dispose();
      }
    };
    let maskedError = 0;
    for (let i = 0; i < n * d; i++) maskedError += (masked[i]! - clean[i]!) ** 2;
    const [eDae, eAe] = [error(dae), error(ae)];
    console.log(
      `dae-mask: squared error to the clean digit, masked input ${(maskedError / n).toFixed(1)}, dae ${eDae.toFixed(1)}, plain ae ${eAe.toFixed(1)}`,
    );
    expect(eDae).toBeLessThan(eAe);
    expect(eDae).toBeLessThan(maskedError / n);
  }, 240_000);

  it('iwae-k5: the importance-weighted bound on test is tighter than that of a plain VAE with the same architecture', async () => {
    const short = { data: { trainLimit: 3000, testLimit: 500 }, training: { epochs: 3 }, eval: { iwSamples: 50 } };
    const iwae = await trainPreset('iwae-k5', short);
    const vae = await trainPreset('iwae-k5', { ...short, model: { kind: 'vae' }, objective: { iwSamples: 1 } });
    expect(iwae.final['test/nll']!).toBeLessThan(vae.final['test/nll']!);
  }, 300_000);

  // The seed-to-seed spread of the Kingma & Welling z = 20 preset at its shipped length, measured through the CLI with
  // one shard (`train --preset kingma-welling-mnist-z20 --set seed=N --set training.dataParallel=1`): test loss and
  // -log p(x) (k 100, first 1,000 test digits) for seeds 1, 2, 3. Seed 1 was measured on 2026-12-07 by the previous
  // round, seeds 2 and 3 on 2026-12-07 by this one. "Within noise" below is the range of these figures.
  const KW_Z20_SEEDS = { loss: [128.11, 124.69, 128.01], nll: [125.71, 122.37, 125.75] };
  const spread = (v: number[]) => Math.max(...v) - Math.min(...v);

  it('kingma-welling as shipped: z = 200 ends no worse than z = 20 (more latents do not overfit), within the seed spread', async () => {
    // the shipped length (100 epochs of the 8,000 bundled digits, Adagrad with its accumulator from 0), one shard so
    // the figures do not depend on a free core. Slow: two runs of 800,000 samples each (~5 min each on a quiet core,
    // 37 min under load)
    const shipped = { training: { dataParallel: 1 } } as RunConfigInput;
    const z20 = await trainPreset('kingma-welling-mnist-z20', shipped);
    const z200 = await trainPreset('kingma-welling-mnist-z200', shipped);
    expect(z200.config.optimizer).toMatchObject({ name: 'adagrad', initialAccumulator: 0 });
    const f20 = z20.final;
    const f200 = z200.final;
    const [noiseLoss, noiseNll] = [spread(KW_Z20_SEEDS.loss), spread(KW_Z20_SEEDS.nll)];
    console.log(
      `kingma-welling: test loss z20 ${f20['test/loss']!.toFixed(2)}, z200 ${f200['test/loss']!.toFixed(2)}; nll ${f20['test/nll']!.toFixed(2)} / ${f200['test/nll']!.toFixed(2)}; seed spread ${noiseLoss.toFixed(2)} / ${noiseNll.toFixed(2)}; active units z200 ${f200['test/activeUnits']} (Burda ${f200['test/activeUnitsCov']})`,
    );
    expect(f200['test/loss']!).toBeLessThan(f20['test/loss']! + noiseLoss);
    expect(f200['test/nll']!).toBeLessThan(f20['test/nll']! + noiseNll);
    // measured 2026-12-07 through the CLI with these settings (seed 1): z20 128.11 / 125.71, z200 128.61 / 124.36 (loss
    // / nll); the surplus units are not switched off by 100 epochs (155 of 200 above 0.01 nats): not asserted, said in
    // the preset
  }, 3_600_000);

  it('kingma-welling at small latent sizes: the bound gets no worse from z = 3 to 5 to 10 (a shorter run)', async () => {
    // 10 of the 100 shipped epochs, for CI's time (three runs of 80,000 samples, ~30 s each on a quiet core): at these
    // sizes the bound is limited by the latent size, and the ordering shows within 10 epochs by margins (9.6 and 5.4 nats) above the z = 20
    // seed spread (3.4; the spread at these sizes and length was not measured). Measured through the CLI (seed 1, one shard, 10 epochs): test loss z3 177.53, z5 167.93, z10 162.54. Not beyond
    // z = 10 at this length: z20 is at 170.85 after 10 epochs (the larger model starts slower), hence z20 / z200 at full length
    const short = { training: { epochs: 10, dataParallel: 1 }, eval: { iwSamples: 20 } } as RunConfigInput;
    const losses: number[] = [];
    for (const z of [3, 5, 10]) losses.push((await trainPreset(`kingma-welling-mnist-z${z}`, short)).final['test/loss']!);
    console.log(
      `kingma-welling, 10 epochs: test loss z3 ${losses[0]!.toFixed(2)}, z5 ${losses[1]!.toFixed(2)}, z10 ${losses[2]!.toFixed(2)}`,
    );
    const noise = spread(KW_Z20_SEEDS.loss);
    expect(losses[1]!).toBeLessThan(losses[0]! + noise);
    expect(losses[2]!).toBeLessThan(losses[1]! + noise);
  }, 900_000);

  it('nonlinear-ica as shipped: 3 active units by both counts (the sources), MCC >= 0.9, the learned sigma off its floor', async () => {
    // the shipped length (100 epochs, evaluated every 5): measured 2026-12-07 with seeds 1, 2, 3: units 3 / 3 for all,
    // MCC 0.907, 0.962, 0.800 (the default seed 1 is asserted); without the observation noise (data.noise = 0) the
    // learned sigma sits at its floor for every output after 100 epochs and the KL-based count flickers between 3 and 5
    const run = await trainPreset('nonlinear-ica');
    const mcc = run.events.flatMap((e) => (e.type === 'metrics' ? e.points : [])).filter((p) => p.name === 'test/mcc');
    expect(mcc.map((p) => p.epoch)).toEqual(Array.from({ length: 20 }, (_, i) => 5 * (i + 1)));
    console.log(
      `nonlinear-ica: units ${run.final['test/activeUnits']} / ${run.final['test/activeUnitsCov']}, MCC ${run.final['test/mcc']!.toFixed(3)}, σ at floor ${run.final['test/sigmaAtFloor']}`,
    );
    expect(run.final['test/activeUnitsCov']).toBe(3);
    expect(run.final['test/activeUnits']).toBe(3);
    expect(run.final['test/mcc']!).toBeGreaterThanOrEqual(0.9);
    expect(run.final['test/sigmaAtFloor']!).toBeLessThan(0.5);
    expect(run.final['health/sigmaAtFloor'] ?? 0).toBe(0);
  }, 900_000);

  it('latent 1: the importance-sampled -log p(x) is no worse than the -ELBO on the same test digits', async () => {
    // issue 27: with latent 1 the nll (first 1,000 digits) looked worse than test/loss (all 2,000 digits); the
    // figure to compare it with is test/nllLoss, the -ELBO on the nll's own digits from the same k samples
    const run = await trainPreset('pytorch-examples', { model: { latentDim: 1 }, training: { epochs: 2 }, eval: { iwSamples: 50 } });
    const f = run.final;
    console.log(
      `latent 1: test/loss ${f['test/loss']!.toFixed(2)} (n ${f['test/examples']}), nll ${f['test/nll']!.toFixed(2)} and -ELBO ${f['test/nllLoss']!.toFixed(2)} (n ${f['test/nllExamples']}, k ${f['test/nllK']})`,
    );
    expect(f['test/nllExamples']).toBe(1000);
    expect(f['test/examples']).toBe(2000);
    expect(f['test/nllK']).toBe(50);
    expect(f['test/nll']!).toBeLessThanOrEqual(f['test/nllLoss']!);
    expect(f['test/inferenceGap']!).toBeCloseTo(f['test/nllLoss']! - f['test/nll']!, 4);
  }, 300_000);
});
