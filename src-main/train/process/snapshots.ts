// Snapshot artifacts of a model at one point of training: PNG grids (reconstructions, prior samples from
// fixed noise, the 2-D manifold, an interpolation strip) and JSON data (latent means, KL per dimension).
// Image grids only for image datasets; series datasets get the JSON artifacts only.
import type { ArtifactKind } from '@shared/model-types';
import type { Split } from '../../data/types';
import { pca } from '../../vae/pca';
import {
  decodeMeans,
  encodeMeans,
  fixedNoiseSeed,
  interpolateCodes,
  klPerDimension,
  manifoldCodes,
  priorSamples,
  reconstruct,
} from '../../vae/sampling';
import type { LatentModel } from '../../vae/types';
import { ACTIVE_UNIT_THRESHOLD } from '../../vae/evaluate';
import type { TrainerEvent } from '../common/messages';
import { gridPng } from '../common/png';
import type { RunState } from './run-state';

export type ArtifactEvent = Extract<TrainerEvent, { type: 'artifact' }>;

export const RECONSTRUCTION_COUNT = 16;
export const INTERPOLATION_STEPS = 10;
export const LATENT_POINTS = 2000;

export interface SnapshotOptions {
  shape: [number, number, number];
  datasetKind: 'image' | 'series';
  gridSize: number;
  manifoldSize: number;
  epoch: number;
  step: number;
  labelNames?: string[] | null;
}

function rowsOf(split: Split, d: number, n: number): Float32Array {
  return split.x.subarray(0, n * d);
}

export function imageArtifact(
  kind: ArtifactKind,
  images: Float32Array,
  count: number,
  rows: number,
  cols: number,
  opts: Pick<SnapshotOptions, 'shape' | 'epoch' | 'step'>,
  meta: Record<string, unknown> = {},
): ArtifactEvent {
  const grid = gridPng(images, count, opts.shape, rows, cols);
  return {
    type: 'artifact',
    kind,
    epoch: opts.epoch,
    step: opts.step,
    mime: 'image/png',
    dataBase64: grid.png.toString('base64'),
    width: grid.width,
    height: grid.height,
    meta: { ...grid.layout, count, ...meta },
  };
}

export function jsonArtifact(
  kind: ArtifactKind,
  value: unknown,
  opts: Pick<SnapshotOptions, 'epoch' | 'step'>,
  meta: Record<string, unknown> = {},
): ArtifactEvent {
  return {
    type: 'artifact',
    kind,
    epoch: opts.epoch,
    step: opts.step,
    mime: 'application/json',
    dataBase64: Buffer.from(JSON.stringify(value)).toString('base64'),
    width: 0,
    height: 0,
    meta,
  };
}

/** Two fixed test examples for the interpolation: the first one and the first with a different label. */
export function interpolationPair(test: Split): [number, number] {
  if (test.n < 2) return [0, 0];
  if (!test.y) return [0, 1];
  for (let i = 1; i < test.n; i++) if (test.y[i] !== test.y[0]) return [0, i];
  return [0, 1];
}

/** The image-grid artifacts (reconstructions, prior samples, manifold, interpolation), appended to out in that order. */
function imageSnapshots(model: LatentModel, test: Split, opts: SnapshotOptions, out: ArtifactEvent[]): void {
  const d = model.d;
  const D = model.latentDim;
  const generative = model.stochastic;
  const k = Math.min(RECONSTRUCTION_COUNT, test.n);
  const originals = rowsOf(test, d, k);
  const recon = reconstruct(model, originals, k);
  const both = new Float32Array(2 * k * d);
  both.set(originals, 0);
  both.set(recon, k * d);
  out.push(
    imageArtifact('reconstructions', both, 2 * k, 2, k, opts, {
      description: 'top: test images; bottom: reconstructions (decoder mean of the encoder mean)',
    }),
  );

  const g = opts.gridSize;
  out.push(
    imageArtifact('prior-samples', priorSamples(model, g * g), g * g, g, g, opts, {
      noiseSeed: fixedNoiseSeed(D),
      generative,
      description: generative
        ? 'decoder means of z ~ N(0, I), fixed noise'
        : 'decoder means of N(0, I) codes (a plain autoencoder has no prior)',
    }),
  );

  if (D === 2) {
    const m = opts.manifoldSize;
    out.push(
      imageArtifact('manifold', decodeMeans(model, manifoldCodes(m), m * m), m * m, m, m, opts, {
        range: [0.05, 0.95],
        description: 'z = inverse normal CDF of a linspace(0.05, 0.95) grid; columns z1, rows z2 (top = high)',
      }),
    );
  }

  const [ia, ib] = interpolationPair(test);
  const codes = encodeMeans(model, rowsOf(test, d, Math.max(ia, ib) + 1), Math.max(ia, ib) + 1);
  const path = interpolateCodes(codes.subarray(ia * D, (ia + 1) * D), codes.subarray(ib * D, (ib + 1) * D), INTERPOLATION_STEPS);
  out.push(
    imageArtifact('interpolation', decodeMeans(model, path, INTERPOLATION_STEPS), INTERPOLATION_STEPS, 1, INTERPOLATION_STEPS, opts, {
      from: ia,
      to: ib,
      description: 'decoder means along the straight line between the latent means of two test images',
    }),
  );
}

/** Latent means already computed (by a test evaluation, which encodes every test example anyway). */
export interface LatentView {
  /** Encoder means of the first n test examples, row-major n x dims. */
  means: Float32Array;
  n: number;
  dims: number;
  stochastic: boolean;
  /** KL per latent dimension; `klExamples`: the examples it was averaged over, null for the whole evaluation. */
  klPerDim: number[] | null;
  klExamples: number | null;
}

/** The latent view (the means themselves for 1-2 dims, else their first two principal components) and the KL per dimension. */
export function latentSnapshots(
  view: LatentView,
  labelsOfTest: ArrayLike<number> | null,
  opts: Pick<SnapshotOptions, 'epoch' | 'step' | 'labelNames'>,
): ArtifactEvent[] {
  const out: ArtifactEvent[] = [];
  const { means: mu, n: nPts, dims: D } = view;
  if (nPts <= 0) return out;
  const labels = labelsOfTest ? Array.from({ length: nPts }, (_, i) => labelsOfTest[i]!) : null;
  if (D <= 2) {
    const points = Array.from({ length: nPts }, (_, i) => (D === 2 ? [mu[i * 2]!, mu[i * 2 + 1]!] : [mu[i]!, 0]));
    out.push(
      jsonArtifact('latent-scatter', { points, labels, dims: D, pca: false, labelNames: opts.labelNames ?? null }, opts, { count: nPts }),
    );
  } else {
    const p = pca(mu, nPts, D, 2);
    const points = Array.from({ length: nPts }, (_, i) => [p.projected[i * 2]!, p.projected[i * 2 + 1]!]);
    out.push(
      jsonArtifact(
        'latent-pca',
        { points, labels, dims: D, pca: true, explained: p.explained, labelNames: opts.labelNames ?? null },
        opts,
        { count: nPts, explained: p.explained },
      ),
    );
  }
  if (view.stochastic && view.klPerDim) {
    const kl = view.klPerDim;
    out.push(
      jsonArtifact(
        'kl-per-dim',
        {
          klPerDim: kl,
          threshold: ACTIVE_UNIT_THRESHOLD,
          activeUnits: kl.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length,
          examples: view.klExamples,
        },
        opts,
        { dims: kl.length },
      ),
    );
  }
  return out;
}

/** The image grids of a model (image datasets only): reconstructions, prior samples, manifold, interpolation. */
export function imageSnapshotArtifacts(model: LatentModel, test: Split, opts: SnapshotOptions): ArtifactEvent[] {
  const out: ArtifactEvent[] = [];
  const image = opts.datasetKind === 'image' && (opts.shape[2] === 1 || opts.shape[2] === 3);
  if (image && test.n > 0) imageSnapshots(model, test, opts, out);
  return out;
}

/**
 * Every snapshot artifact of a neural model (vae, ae, dae, iwae), computing the latent means and the KL per
 * dimension on the first LATENT_POINTS test examples (at an epoch without a test evaluation to take them from).
 */
export function modelSnapshots(model: LatentModel, test: Split, opts: SnapshotOptions): ArtifactEvent[] {
  const out = imageSnapshotArtifacts(model, test, opts);
  const d = model.d;
  const D = model.latentDim;
  const nPts = Math.min(LATENT_POINTS, test.n);
  if (nPts === 0) return out;
  const means = encodeMeans(model, rowsOf(test, d, nPts), nPts);
  const klPerDim = model.stochastic ? klPerDimension(model, rowsOf(test, d, nPts), nPts) : null;
  const view: LatentView = { means, n: nPts, dims: D, stochastic: model.stochastic, klPerDim, klExamples: nPts };
  return [...out, ...latentSnapshots(view, test.y, opts)];
}

/** Emit the snapshots of the run's model at its current epoch; `latentViewDone`: this epoch's test evaluation already
 *  sent the latent view (its encoder means), so only the image grids are made here. */
export function writeSnapshots(run: RunState, latentViewDone: boolean): void {
  const { config, epoch, dataset, model, data, steps } = run;
  const opts = {
    shape: run.shape,
    datasetKind: dataset.descriptor.kind,
    gridSize: config.snapshots.gridSize,
    manifoldSize: config.snapshots.manifoldSize,
    epoch: epoch + 1,
    step: run.step,
    labelNames: dataset.descriptor.labels,
  };
  const artifacts = latentViewDone ? imageSnapshotArtifacts(model, data.test, opts) : modelSnapshots(model, data.test, opts);
  for (const a of artifacts) steps.emit(a);
}
