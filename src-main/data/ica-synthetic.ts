// `ica-synthetic`: observations of `sources` independent non-Gaussian signals mixed through a fixed random
// nonlinear map, for nonlinear-ICA experiments (can a VAE find the true number of sources?).
//
// Sources over T = 10,000 time steps, by index k (cycling): sine, sawtooth, square wave, Laplace noise; each with
// its own seeded period (16..256 steps) and phase, standardised to zero mean and unit variance.
// Mixing (seeded): h = tanh(A1 s + b1) + 0.1 (A1 s + b1)   (A1: observedDim x sources, a leaky tanh)
//                  x = A2 h + b2                          (A2: observedDim x observedDim)
// then every observed coordinate is rescaled to [0,1] by its min and max over the whole series, and observation
// noise N(0, noise²) is added (data.noise, 0 by default; from its own seeded stream, so noise 0 is the old data).
// Each example is the observation vector at one time step: shape [1, observedDim, 1], kind 'series', no labels.
// Split: the first 8,000 time steps are train, the last 2,000 test (no shuffling: time order is kept).
// Everything is a function of (seed, sources, observedDim): the run seed is used, so a run's data is reproducible.
import { gaussian, mulberry32 } from '@shared/rng';
import type { DatasetDescriptor, LoadedDataset } from './types';
import type { DatasetLoader } from './loader';

export const ICA_STEPS = 10000;
export const ICA_TRAIN_STEPS = 8000;
const SOURCE_KINDS = ['sine', 'sawtooth', 'square', 'laplace'] as const;

export interface IcaSynthetic {
  /** ICA_STEPS x observedDim, in [0,1]. */
  observations: Float32Array;
  /** ICA_STEPS x sources, standardised. */
  sources: Float32Array;
  sourceKinds: string[];
  observedDim: number;
}

/** Generate the series (pure, deterministic in its arguments). */
export function generateIcaSynthetic(seed: number, sources: number, observedDim: number, steps = ICA_STEPS, noise = 0): IcaSynthetic {
  const rand = mulberry32((seed ^ 0x1ca5eed) >>> 0);
  const normal = gaussian(rand);
  const s = new Float32Array(steps * sources);
  const kinds: string[] = [];
  for (let k = 0; k < sources; k++) {
    const kind = SOURCE_KINDS[k % SOURCE_KINDS.length]!;
    kinds.push(kind);
    const period = 16 * Math.pow(16, rand()); // 16..256 steps, log-uniform
    const phase = rand();
    const col = new Float64Array(steps);
    for (let t = 0; t < steps; t++) {
      const u = (t / period + phase) % 1;
      switch (kind) {
        case 'sine':
          col[t] = Math.sin(2 * Math.PI * u);
          break;
        case 'sawtooth':
          col[t] = 2 * u - 1;
          break;
        case 'square':
          col[t] = u < 0.5 ? 1 : -1;
          break;
        default: {
          const v = rand() - 0.5;
          col[t] = -Math.sign(v) * Math.log(1 - 2 * Math.abs(v) + 1e-12); // Laplace(0, 1)
        }
      }
    }
    let mean = 0;
    for (const v of col) mean += v;
    mean /= steps;
    let variance = 0;
    for (const v of col) variance += (v - mean) ** 2;
    const sd = Math.sqrt(variance / steps) || 1;
    for (let t = 0; t < steps; t++) s[t * sources + k] = (col[t]! - mean) / sd;
  }
  const a1 = Float64Array.from({ length: observedDim * sources }, () => normal() / Math.sqrt(sources));
  const b1 = Float64Array.from({ length: observedDim }, () => 0.3 * normal());
  const a2 = Float64Array.from({ length: observedDim * observedDim }, () => normal() / Math.sqrt(observedDim));
  const b2 = Float64Array.from({ length: observedDim }, () => 0.3 * normal());
  const x = new Float64Array(steps * observedDim);
  const h = new Float64Array(observedDim);
  for (let t = 0; t < steps; t++) {
    for (let i = 0; i < observedDim; i++) {
      let u = b1[i]!;
      for (let k = 0; k < sources; k++) u += a1[i * sources + k]! * s[t * sources + k]!;
      h[i] = Math.tanh(u) + 0.1 * u;
    }
    for (let i = 0; i < observedDim; i++) {
      let v = b2[i]!;
      for (let j = 0; j < observedDim; j++) v += a2[i * observedDim + j]! * h[j]!;
      x[t * observedDim + i] = v;
    }
  }
  const observations = new Float32Array(steps * observedDim);
  for (let i = 0; i < observedDim; i++) {
    let min = Infinity;
    let max = -Infinity;
    for (let t = 0; t < steps; t++) {
      const v = x[t * observedDim + i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    const span = max - min || 1;
    for (let t = 0; t < steps; t++) observations[t * observedDim + i] = (x[t * observedDim + i]! - min) / span;
  }
  if (noise > 0) {
    const noiseNormal = gaussian(mulberry32((seed ^ 0x0b5e7e) >>> 0));
    for (let j = 0; j < observations.length; j++) observations[j] = observations[j]! + noise * noiseNormal();
  }
  return { observations, sources: s, sourceKinds: kinds, observedDim };
}

function descriptor(sources: number, observedDim: number, noise = 0): DatasetDescriptor {
  return {
    id: 'ica-synthetic',
    title: `ICA synthetic (${sources} sources, ${observedDim} observed${noise > 0 ? `, noise ${noise}` : ''})`,
    description:
      `${sources} independent non-Gaussian sources (cycling sine, sawtooth, square wave, Laplace noise) mixed through a fixed ` +
      `random nonlinear map (linear to ${observedDim}, leaky tanh, linear) generated from the run seed; each example is the ` +
      `observation at one time step, rescaled to [0,1] per coordinate, plus Gaussian observation noise of standard deviation ` +
      `${noise} (data.noise). The true number of sources is ${sources}. ` +
      `Split: the first ${ICA_TRAIN_STEPS} time steps train, the last ${ICA_STEPS - ICA_TRAIN_STEPS} test. Set data.sources, data.observedDim and data.noise.`,
    shape: [1, observedDim, 1],
    kind: 'series',
    labels: null,
    splits: { train: ICA_TRAIN_STEPS, test: ICA_STEPS - ICA_TRAIN_STEPS },
    source: 'generated (VAE Workbench)',
    license: 'none needed (synthetic)',
    needsPath: false,
    available: true,
    trueSources: sources,
  };
}

export const icaSyntheticLoader: DatasetLoader = {
  id: 'ica-synthetic',
  describe: (opts) => (opts.data ? descriptor(opts.data.sources, opts.data.observedDim, opts.data.noise) : descriptor(3, 20)),
  memoKey: (data, ctx) => `${ctx.seed}/${data.sources}/${data.observedDim}/${data.noise}`,
  async load(data, ctx): Promise<LoadedDataset> {
    ctx.onProgress?.(0, `generating ${ICA_STEPS} steps of ${data.sources} sources`);
    const gen = generateIcaSynthetic(ctx.seed, data.sources, data.observedDim, ICA_STEPS, data.noise);
    const d = data.observedDim;
    const train = { x: gen.observations.subarray(0, ICA_TRAIN_STEPS * d), y: null, n: ICA_TRAIN_STEPS };
    const test = { x: gen.observations.subarray(ICA_TRAIN_STEPS * d), y: null, n: ICA_STEPS - ICA_TRAIN_STEPS };
    ctx.onProgress?.(1, 'generated');
    const testSources = { values: gen.sources.subarray(ICA_TRAIN_STEPS * data.sources), dim: data.sources };
    return { descriptor: descriptor(data.sources, d, data.noise), d, train, test, testSources };
  },
};
