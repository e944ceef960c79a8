// A sample-quality score: the Frechet distance between Gaussians fitted to features of real test images
// and of generated samples,
//   FD = ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^{1/2}).
//
// This is "FID on a domain classifier, not Inception": the features are the 64-unit penultimate layer of a
// small MLP (d -> 128 relu -> 64 relu -> classes) trained once per dataset on its labelled train split with
// a fixed seed. Values are therefore NOT comparable with published Inception FIDs, nor across datasets;
// they are comparable between runs on the same dataset, because every run uses the same cached extractor.
// A dataset without labels gets a fixed seeded Gaussian random projection to 64 dimensions instead
// (x P, P_ij ~ N(0, 1/d)): a linear feature, weaker but still a proper distance between the two clouds.
//
// Reported as `test/fdClassifier` ("FD (classifier)"), never as FID: an Inception FID of the same models would be
// a different number on a different scale. The classifier is fitted on a fixed, named split: the dataset's whole
// training split as the loader gives it (no trainLimit, no validation hold-out, grey values; the runs pass it, see
// src-main/train/process/fd-fit-split.ts), with a fixed seed (FD_CLASSIFIER_SEED), so every run on a dataset shares it.
//
// The extractor is cached in `${cacheDir}/fd-classifier-<datasetId>-<d>-train.bin` (float32 little-endian
// tensors) with a `.json` index beside it (format, kind, seed, split and its size, accuracy on a held-out slice of
// the train split, sha256 of the .bin). It is trained once; later calls read it back. (Caches of earlier releases,
// `fid-<datasetId>-<d>`, were fitted on whatever the first run trained on and are not read.)
// Written atomically (temporary file + rename, .json last), so a crash never leaves a half cache.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Split } from '../data/types';
import { registerFastWasmMatMul } from '../kernels/wasm-kernels';
import { meanAndCovariance, seededNormal, seededUniform, traceSqrtProduct } from './linalg';

export const FID_FEATURE_DIM = 64;
export const FID_CACHE_FORMAT = 'vae-workbench-fd-classifier/2';
/** The seed every classifier is fitted with, whichever run fits it. */
export const FD_CLASSIFIER_SEED = 1;
/** The split the classifier is fitted on, named in its cache file and index. */
export const FD_CLASSIFIER_SPLIT = 'train';
const HIDDEN = 128;

export interface FeatureExtractor {
  kind: 'classifier' | 'random-projection';
  /** Input features per example (h * w * c). */
  d: number;
  /** Feature dimension (64). */
  dim: number;
  /** Where this instance came from: trained (or generated) just now, or read from the cache files. */
  source: 'trained' | 'cache';
  /** Accuracy of the classifier on a held-out slice of the train split (null for a random projection). */
  heldOutAccuracy: number | null;
  /** Seed the extractor was built with (the first caller's; later callers reuse it). */
  seed: number;
  /** Features of n examples, row-major n x dim, float64. */
  features(x: Float32Array, n: number): Promise<Float64Array>;
  /** Predicted class per example (classifier only). */
  predict: ((x: Float32Array, n: number) => Promise<Int32Array>) | null;
}

export interface FeatureExtractorOptions {
  cacheDir: string;
  /** Seed for initialization and data order when the extractor has to be built. */
  seed: number;
  /** Training epochs for the classifier (default: enough for ~30k examples seen, between 2 and 8). */
  epochs?: number;
  /** Progress of building the extractor, 0..1 (only called when it is trained). */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

interface StoredTensor {
  name: string;
  shape: number[];
  offset: number;
  length: number;
}

interface CacheIndex {
  format: string;
  datasetId: string;
  d: number;
  kind: FeatureExtractor['kind'];
  dim: number;
  classes: number;
  seed: number;
  /** The split fitted on (FD_CLASSIFIER_SPLIT: the whole training split) and its size. */
  split: string;
  splitExamples: number;
  trainExamples: number;
  epochs: number;
  heldOutAccuracy: number | null;
  backend: string;
  createdAt: number;
  tensors: StoredTensor[];
  sha256: string;
}

interface Weights {
  index: Omit<CacheIndex, 'tensors' | 'sha256'>;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** The cache files for a dataset and input size (the dataset id is made file-name safe). */
export function featureCachePaths(cacheDir: string, datasetId: string, d: number): { bin: string; json: string } {
  const safe = datasetId.replace(/[^A-Za-z0-9._-]/g, '_');
  const base = path.join(cacheDir, `fd-classifier-${safe}-${d}-${FD_CLASSIFIER_SPLIT}`);
  return { bin: `${base}.bin`, json: `${base}.json` };
}

/**
 * Fréchet distance between Gaussians fitted (mean, unbiased covariance) to two sets of features,
 * row-major nA x dim and nB x dim. Tr (S_A S_B)^{1/2} is the sum of the square roots of the eigenvalues
 * of S_A^{1/2} S_B S_A^{1/2} (symmetric PSD; Jacobi in float64), which stays stable when a covariance is
 * singular (dead ReLU units). Clamped at 0 against roundoff.
 */
export function frechetDistance(featuresA: Float64Array, nA: number, featuresB: Float64Array, nB: number, dim: number): number {
  if (featuresA.length !== nA * dim)
    throw new Error(`frechetDistance: featuresA holds ${featuresA.length} values, expected ${nA} x ${dim}`);
  if (featuresB.length !== nB * dim)
    throw new Error(`frechetDistance: featuresB holds ${featuresB.length} values, expected ${nB} x ${dim}`);
  const a = meanAndCovariance(featuresA, nA, dim);
  const b = meanAndCovariance(featuresB, nB, dim);
  let fd = 0;
  for (let j = 0; j < dim; j++) fd += (a.mean[j] - b.mean[j]) ** 2 + a.cov[j * dim + j] + b.cov[j * dim + j];
  fd -= 2 * traceSqrtProduct(a.cov, b.cov, dim);
  return Math.max(0, fd);
}

/**
 * FID-style score of generated samples against real images of a dataset: the Frechet distance between
 * domain-classifier features (see the top of this file) of `real` and `fake`, both n x (h*w*c).
 * The extractor is built from `train` the first time and cached under opts.cacheDir.
 */
export async function frechetDistanceFor(
  datasetId: string,
  train: Split,
  shape: [number, number, number],
  real: Float32Array,
  fake: Float32Array,
  n: number,
  opts: { cacheDir: string; seed: number; signal?: AbortSignal; onProgress?: (fraction: number) => void },
): Promise<number> {
  const d = shape[0] * shape[1] * shape[2];
  if (!Number.isInteger(n) || n < 2) throw new Error(`frechetDistanceFor: n must be an integer >= 2, got ${n}`);
  if (real.length !== n * d) throw new Error(`frechetDistanceFor: real holds ${real.length} values, expected ${n} x ${d}`);
  if (fake.length !== n * d) throw new Error(`frechetDistanceFor: fake holds ${fake.length} values, expected ${n} x ${d}`);
  const extractor = await getFeatureExtractor(datasetId, train, d, opts);
  const fr = await extractor.features(real, n);
  const ff = await extractor.features(fake, n);
  return frechetDistance(fr, n, ff, n, extractor.dim);
}

// One build per cache file at a time within this process.
const pending = new Map<string, Promise<FeatureExtractor>>();

/**
 * The feature extractor for a dataset: read from the cache, or built (classifier when the train split has
 * labels of at least two classes, else a seeded random projection) and cached.
 */
export function getFeatureExtractor(datasetId: string, train: Split, d: number, opts: FeatureExtractorOptions): Promise<FeatureExtractor> {
  const paths = featureCachePaths(opts.cacheDir, datasetId, d);
  const inFlight = pending.get(paths.json);
  if (inFlight) return inFlight;
  const job = (async () => {
    const cached = readCache(paths, datasetId, d);
    if (cached) return makeExtractor(cached, 'cache');
    if (train.x.length !== train.n * d)
      throw new Error(`feature extractor: the train split holds ${train.x.length} values, expected ${train.n} x ${d}`);
    const weights = await buildWeights(datasetId, train, d, opts);
    writeCache(paths, weights);
    return makeExtractor(weights, 'trained');
  })();
  pending.set(paths.json, job);
  const clear = () => pending.delete(paths.json);
  job.then(clear, clear);
  return job;
}

function readCache(paths: { bin: string; json: string }, datasetId: string, d: number): Weights | null {
  if (!existsSync(paths.json) || !existsSync(paths.bin)) return null;
  let index: CacheIndex;
  let bin: Buffer;
  try {
    index = JSON.parse(readFileSync(paths.json, 'utf8')) as CacheIndex;
    bin = readFileSync(paths.bin);
  } catch {
    return null;
  }
  // A cache that does not match (other format, dataset, size) or is damaged is rebuilt, not trusted.
  if (index.format !== FID_CACHE_FORMAT || index.datasetId !== datasetId || index.d !== d || !Array.isArray(index.tensors)) return null;
  if (createHash('sha256').update(bin).digest('hex') !== index.sha256) return null;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of index.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.length || (t.offset + t.length) * 4 > bin.byteLength) return null;
    const data = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) data[i] = bin.readFloatLE((t.offset + i) * 4);
    tensors.set(t.name, { shape: t.shape, data });
  }
  const { tensors: _t, sha256: _s, ...rest } = index;
  const weights: Weights = { index: rest, tensors };
  return hasLayers(weights) ? weights : null;
}

function hasLayers(w: Weights): boolean {
  const need =
    w.index.kind === 'classifier'
      ? ['dense_0/kernel', 'dense_0/bias', 'dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias']
      : ['projection'];
  return need.every((name) => w.tensors.has(name));
}

function writeAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function writeCache(paths: { bin: string; json: string }, w: Weights): void {
  mkdirSync(path.dirname(paths.bin), { recursive: true });
  const stored: StoredTensor[] = [];
  let offset = 0;
  for (const [name, t] of w.tensors) {
    stored.push({ name, shape: t.shape, offset, length: t.data.length });
    offset += t.data.length;
  }
  const bin = Buffer.alloc(offset * 4);
  for (const s of stored) {
    const data = w.tensors.get(s.name)!.data;
    for (let i = 0; i < data.length; i++) bin.writeFloatLE(data[i], (s.offset + i) * 4);
  }
  const index: CacheIndex = { ...w.index, tensors: stored, sha256: createHash('sha256').update(bin).digest('hex') };
  writeAtomic(paths.bin, bin);
  writeAtomic(paths.json, JSON.stringify(index, null, 2));
}

function numClasses(y: Int32Array | null): number {
  if (!y || y.length === 0) return 0;
  let max = -1;
  for (const v of y) {
    if (v < 0) throw new Error(`feature extractor: negative label ${v} in the train split`);
    if (v > max) max = v;
  }
  return max + 1;
}

async function buildWeights(datasetId: string, train: Split, d: number, opts: FeatureExtractorOptions): Promise<Weights> {
  const classes = numClasses(train.y);
  const base = {
    format: FID_CACHE_FORMAT,
    datasetId,
    d,
    dim: FID_FEATURE_DIM,
    seed: opts.seed,
    split: FD_CLASSIFIER_SPLIT,
    splitExamples: train.n,
    backend: tf.getBackend(),
    createdAt: Date.now(),
  };
  if (classes < 2) {
    const g = seededNormal(opts.seed);
    const p = new Float32Array(d * FID_FEATURE_DIM);
    const s = 1 / Math.sqrt(d);
    for (let i = 0; i < p.length; i++) p[i] = g() * s;
    opts.onProgress?.(1);
    return {
      index: { ...base, kind: 'random-projection', classes: 0, trainExamples: 0, epochs: 0, heldOutAccuracy: null },
      tensors: new Map([['projection', { shape: [d, FID_FEATURE_DIM], data: p }]]),
    };
  }
  return trainClassifier(base, classes, train, d, opts);
}

/** The classifier d -> HIDDEN -> FID_FEATURE_DIM -> classes, Glorot-initialised from seed + 1, + 2, + 3. */
function buildClassifier(d: number, classes: number, seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [d], units: HIDDEN, activation: 'relu', kernelInitializer: init(1), name: 'dense_0' }),
      tf.layers.dense({ units: FID_FEATURE_DIM, activation: 'relu', kernelInitializer: init(2), name: 'dense_1' }),
      tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(3), name: 'dense_2' }),
    ],
  });
}

async function trainClassifier(
  base: Pick<CacheIndex, 'format' | 'datasetId' | 'd' | 'dim' | 'seed' | 'split' | 'splitExamples' | 'backend' | 'createdAt'>,
  classes: number,
  train: Split,
  d: number,
  opts: FeatureExtractorOptions,
): Promise<Weights> {
  if (tf.getBackend() === 'wasm') registerFastWasmMatMul();
  const y = train.y!;
  const n = train.n;
  // Seeded order; the last slice (10%, at most 1000) is held out to report accuracy.
  const order = Array.from({ length: n }, (_, i) => i);
  const u = seededUniform(opts.seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nHeld = n >= 200 ? Math.min(1000, Math.floor(n / 10)) : 0;
  const fit = order.slice(0, n - nHeld);
  const held = order.slice(n - nHeld);
  const epochs = opts.epochs ?? Math.max(2, Math.min(8, Math.ceil(30000 / Math.max(1, fit.length))));
  const batchSize = 128;

  const model = buildClassifier(d, classes, opts.seed);
  try {
    model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    const xb = new Float32Array(batchSize * d);
    const yb = new Int32Array(batchSize);
    const steps = epochs * Math.ceil(fit.length / batchSize);
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      // Reshuffle the fitting part each epoch (seeded).
      for (let i = fit.length - 1; i > 0; i--) {
        const j = Math.floor(u() * (i + 1));
        [fit[i], fit[j]] = [fit[j], fit[i]];
      }
      for (let start = 0; start < fit.length; start += batchSize) {
        opts.signal?.throwIfAborted();
        const m = Math.min(batchSize, fit.length - start);
        for (let r = 0; r < m; r++) {
          const idx = fit[start + r];
          xb.set(train.x.subarray(idx * d, (idx + 1) * d), r * d);
          yb[r] = y[idx];
        }
        const xs = tf.tensor2d(xb.subarray(0, m * d), [m, d]);
        const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(yb.subarray(0, m), 'int32'), classes).toFloat());
        try {
          await model.trainOnBatch(xs, ys);
        } finally {
          xs.dispose();
          ys.dispose();
        }
        step++;
        if (step % 20 === 0) opts.onProgress?.(step / steps);
      }
    }
    const names = ['dense_0/kernel', 'dense_0/bias', 'dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias'];
    const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
    model.getWeights().forEach((w, i) => tensors.set(names[i], { shape: w.shape.slice(), data: w.dataSync() as Float32Array }));
    const weights: Weights = {
      index: { ...base, kind: 'classifier', classes, trainExamples: fit.length, epochs, heldOutAccuracy: null },
      tensors,
    };
    if (nHeld > 0) {
      const hx = new Float32Array(nHeld * d);
      held.forEach((idx, r) => hx.set(train.x.subarray(idx * d, (idx + 1) * d), r * d));
      const pred = await classify(weights, hx, nHeld);
      let correct = 0;
      held.forEach((idx, r) => (correct += pred[r] === y[idx] ? 1 : 0));
      weights.index.heldOutAccuracy = correct / nHeld;
    }
    opts.onProgress?.(1);
    return weights;
  } finally {
    model.dispose();
  }
}

const BATCH = 1024;

/** Runs the stored layers on n examples in batches; `upTo` = 'features' (64-d ReLU layer) or 'logits'. */
async function forward(w: Weights, x: Float32Array, n: number, upTo: 'features' | 'logits'): Promise<Float32Array> {
  const d = w.index.d;
  if (!Number.isInteger(n) || n < 0 || x.length !== n * d)
    throw new Error(`feature extractor: expected ${n} x ${d} = ${n * d} values, got ${x.length}`);
  const outDim = upTo === 'features' ? w.index.dim : w.index.classes;
  const out = new Float32Array(n * outDim);
  const t = (name: string) => {
    const s = w.tensors.get(name)!;
    return tf.tensor(s.data, s.shape);
  };
  const params = tf.tidy(() =>
    w.index.kind === 'classifier'
      ? ['dense_0/kernel', 'dense_0/bias', 'dense_1/kernel', 'dense_1/bias', 'dense_2/kernel', 'dense_2/bias'].map(t)
      : [t('projection')],
  );
  try {
    for (let start = 0; start < n; start += BATCH) {
      const m = Math.min(BATCH, n - start);
      const y = tf.tidy(() => {
        const xb = tf.tensor2d(x.subarray(start * d, (start + m) * d), [m, d]);
        if (w.index.kind !== 'classifier') return tf.matMul(xb, params[0]);
        const h0 = tf.relu(tf.add(tf.matMul(xb, params[0]), params[1]));
        const h1 = tf.relu(tf.add(tf.matMul(h0, params[2]), params[3]));
        return upTo === 'features' ? h1 : tf.add(tf.matMul(h1, params[4]), params[5]);
      });
      try {
        out.set((await y.data()) as Float32Array, start * outDim);
      } finally {
        y.dispose();
      }
    }
  } finally {
    for (const p of params) p.dispose();
  }
  return out;
}

async function classify(w: Weights, x: Float32Array, n: number): Promise<Int32Array> {
  const logits = await forward(w, x, n, 'logits');
  const c = w.index.classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < c; k++) if (logits[i * c + k] > logits[i * c + best]) best = k;
    out[i] = best;
  }
  return out;
}

function makeExtractor(w: Weights, source: FeatureExtractor['source']): FeatureExtractor {
  return {
    kind: w.index.kind,
    d: w.index.d,
    dim: w.index.dim,
    source,
    heldOutAccuracy: w.index.heldOutAccuracy,
    seed: w.index.seed,
    features: async (x, n) => Float64Array.from(await forward(w, x, n, 'features')),
    predict: w.index.kind === 'classifier' ? (x, n) => classify(w, x, n) : null,
  };
}
