// Images from a saved checkpoint, without training: decoded prior samples, reconstructions of test examples,
// latent traversals and interpolations. Decoder MEANS throughout, as in the training snapshots. Needs an
// initialised tfjs backend (the service calls initBackend first).
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig } from '@shared/run-config';
import { loadDataset } from '../data/registry';
import { interpolationPair } from '../train/process/snapshots';
import { gridPng } from '../train/common/png';
import { gmmFromNamedTensors } from '../vae/gmm';
import { modelSpecFromConfig, VaeModel } from '../vae/model';
import { decodeMeans, encodeMeans, interpolateCodes } from '../vae/sampling';
import { readCheckpointDir } from '../checkpoints/checkpoint-dir';
import { resolveDataset } from '../checkpoints/dataset-shape';
import { ApiError } from '@shared/errors';

export type GenerateKind = 'prior' | 'reconstruct' | 'traversal' | 'interpolate';

export interface GenerateOptions {
  kind: GenerateKind;
  /** prior: number of samples; reconstruct: number of test examples (when no indices); interpolate and traversal: steps. */
  n: number;
  /** prior: the seed of z ~ N(0, I) (or of the gmm draws). */
  seed: number;
  /** reconstruct: test-set indices; interpolate: two test-set indices; traversal: latent dimensions (default all). */
  indices?: number[];
  dataHome: string;
}

export interface GeneratedImage {
  mime: string;
  dataBase64: string;
  width: number;
  height: number;
  meta: Record<string, unknown>;
}

export class GenerateError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'GenerateError';
  }
}

/** Traversals sweep one latent coordinate over [-TRAVERSAL_RANGE, TRAVERSAL_RANGE] with the others at 0. */
export const TRAVERSAL_RANGE = 3;
const MAX_STEPS = 40;

/** Most images per grid row; more make several rows. */
const MAX_COLS = 20;

function grid(
  images: Float32Array,
  count: number,
  shape: [number, number, number],
  rows: number,
  cols: number,
  meta: Record<string, unknown>,
): GeneratedImage {
  const g = gridPng(images, count, shape, rows, cols);
  return {
    mime: 'image/png',
    dataBase64: g.png.toString('base64'),
    width: g.width,
    height: g.height,
    meta: { ...g.layout, count, ...meta },
  };
}

function values(images: Float32Array, count: number, d: number, meta: Record<string, unknown>): GeneratedImage {
  const rows = Array.from({ length: count }, (_, i) => Array.from(images.subarray(i * d, (i + 1) * d)));
  return {
    mime: 'application/json',
    dataBase64: Buffer.from(JSON.stringify({ rows })).toString('base64'),
    width: 0,
    height: 0,
    meta: { count, ...meta },
  };
}

type Picture = (images: Float32Array, count: number, rows: number, cols: number, meta: Record<string, unknown>) => GeneratedImage;

/** What every kind's generator needs: the loaded model and the picture maker over the checkpoint's dataset shape. */
interface GenerateContext {
  model: VaeModel;
  /** Features per example. */
  d: number;
  /** The latent dimension. */
  D: number;
  opts: GenerateOptions;
  common: { kind: GenerateKind; epoch: number; step: number };
  picture: Picture;
  loadTest: () => Promise<Awaited<ReturnType<typeof loadDataset>>['test']>;
}

function pickIndices(testN: number, wanted: number[] | undefined, fallback: number[]): number[] {
  const idx = wanted?.length ? wanted : fallback;
  const bad = idx.find((i) => i >= testN);
  if (bad !== undefined) throw new GenerateError(`test index ${bad} is out of range (the test split has ${testN} examples)`);
  return idx;
}

function generatePrior({ model, D, opts, common, picture }: GenerateContext): GeneratedImage {
  const n = opts.n;
  // tfjs takes a falsy seed for "no seed" (random noise each call): shift by one so seed 0 is reproducible too.
  const z = tf.tidy(() => tf.randomNormal([n, D], 0, 1, 'float32', opts.seed + 1).dataSync() as Float32Array).slice();
  const cols = Math.min(n, Math.ceil(Math.sqrt(n)));
  return picture(decodeMeans(model, z, n), n, Math.ceil(n / cols), cols, {
    ...common,
    seed: opts.seed,
    description: model.stochastic ? 'decoder means of z ~ N(0, I)' : 'decoder means of N(0, I) codes (a plain autoencoder has no prior)',
  });
}

async function generateReconstruct({ model, d, opts, common, picture, loadTest }: GenerateContext): Promise<GeneratedImage> {
  const test = await loadTest();
  const idx = pickIndices(
    test.n,
    opts.indices,
    Array.from({ length: Math.min(opts.n, test.n) }, (_, i) => i),
  );
  const k = idx.length;
  const originals = new Float32Array(k * d);
  idx.forEach((i, j) => originals.set(test.x.subarray(i * d, (i + 1) * d), j * d));
  const recon = decodeMeans(model, encodeMeans(model, originals, k), k);
  const cols = Math.min(k, MAX_COLS);
  const bands = Math.ceil(k / cols);
  // Each band: a row of originals, then the row of their reconstructions.
  const images = new Float32Array(2 * bands * cols * d).fill(0.5);
  for (let j = 0; j < k; j++) {
    const band = Math.floor(j / cols);
    const c = j % cols;
    images.set(originals.subarray(j * d, (j + 1) * d), (2 * band * cols + c) * d);
    images.set(recon.subarray(j * d, (j + 1) * d), ((2 * band + 1) * cols + c) * d);
  }
  return picture(images, 2 * bands * cols, 2 * bands, cols, {
    ...common,
    indices: idx,
    description: 'rows in pairs: test images, then their reconstructions (decoder mean of the encoder mean)',
  });
}

async function generateInterpolate({ model, d, D, opts, common, picture, loadTest }: GenerateContext): Promise<GeneratedImage> {
  const test = await loadTest();
  const pair = pickIndices(test.n, opts.indices, interpolationPair(test));
  if (pair.length !== 2) throw new GenerateError(`interpolate needs exactly two test indices, got ${pair.length}`);
  const [a, b] = pair as [number, number];
  const xs = new Float32Array(2 * d);
  xs.set(test.x.subarray(a * d, (a + 1) * d), 0);
  xs.set(test.x.subarray(b * d, (b + 1) * d), d);
  const codes = encodeMeans(model, xs, 2);
  const steps = Math.max(2, Math.min(opts.n, MAX_STEPS));
  const cols = Math.min(steps, MAX_COLS);
  return picture(
    decodeMeans(model, interpolateCodes(codes.subarray(0, D), codes.subarray(D, 2 * D), steps), steps),
    steps,
    Math.ceil(steps / cols),
    cols,
    {
      ...common,
      from: a,
      to: b,
      description: 'decoder means along the straight line between the latent means of two test examples',
    },
  );
}

function generateTraversal({ model, D, opts, common, picture }: GenerateContext): GeneratedImage {
  const dims = opts.indices?.length ? opts.indices : Array.from({ length: D }, (_, j) => j);
  const bad = dims.find((j) => j >= D);
  if (bad !== undefined) throw new GenerateError(`latent dimension ${bad} does not exist (latentDim is ${D})`);
  const steps = Math.max(2, Math.min(opts.n, MAX_STEPS));
  const z = new Float32Array(dims.length * steps * D);
  dims.forEach((j, r) => {
    for (let s = 0; s < steps; s++) z[(r * steps + s) * D + j] = -TRAVERSAL_RANGE + (2 * TRAVERSAL_RANGE * s) / (steps - 1);
  });
  const count = dims.length * steps;
  return picture(decodeMeans(model, z, count), count, dims.length, steps, {
    ...common,
    dims,
    range: [-TRAVERSAL_RANGE, TRAVERSAL_RANGE],
    description: `one row per latent dimension: z_j from -${TRAVERSAL_RANGE} to ${TRAVERSAL_RANGE}, all other coordinates 0`,
  });
}

/** Generate one picture (PNG grid; JSON rows for series datasets) from the checkpoint in `dir`. */
export async function generateFromCheckpoint(dir: string, opts: GenerateOptions): Promise<GeneratedImage> {
  const contents = readCheckpointDir(dir);
  const config = parseRunConfig(contents.config);
  const dataset = resolveDataset(config, contents.weights);
  const shape = dataset.shape;
  const d = shape[0] * shape[1] * shape[2];
  const isImage = dataset.kind === 'image' && (shape[2] === 1 || shape[2] === 3);
  const picture: Picture = (images, count, rows, cols, meta) =>
    isImage ? grid(images, count, shape, rows, cols, meta) : values(images, count, d, meta);
  const common = { kind: opts.kind, epoch: contents.epoch, step: contents.step };

  const loadTest = async () => {
    const data = await loadDataset(config.data, { dataHome: opts.dataHome, seed: config.seed });
    if (data.d !== d) throw new GenerateError(`the dataset now has ${data.d} features per example, the model ${d}`);
    return data.test;
  };

  if (config.model.kind === 'gmm') {
    if (opts.kind !== 'prior') throw new GenerateError(`a gmm run can only generate prior samples, not "${opts.kind}"`);
    const gmm = gmmFromNamedTensors(contents.weights);
    const n = opts.n;
    const cols = Math.min(n, Math.ceil(Math.sqrt(n)));
    return picture(gmm.sample(n, opts.seed), n, Math.ceil(n / cols), cols, {
      ...common,
      seed: opts.seed,
      description: 'draws from the mixture',
    });
  }

  const model = new VaeModel(modelSpecFromConfig(config, shape, dataset.kind));
  try {
    model.loadNamedWeights(contents.weights);
    const ctx: GenerateContext = { model, d, D: model.latentDim, opts, common, picture, loadTest };
    switch (opts.kind) {
      case 'prior':
        return generatePrior(ctx);
      case 'reconstruct':
        // Awaited here so the model is disposed only once the picture is made.
        return await generateReconstruct(ctx);
      case 'interpolate':
        return await generateInterpolate(ctx);
      case 'traversal':
        return generateTraversal(ctx);
    }
  } finally {
    model.dispose();
  }
}
