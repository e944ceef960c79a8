// Plain data types that cross every boundary: store <-> service <-> hosts <-> renderer, and trainer -> service.
// zod schemas where they are validated at a boundary; no Node imports.
import { z } from 'zod';

export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled', 'diverged', 'interrupted', 'imported'] as const;
export const runStatusSchema = z.enum(RUN_STATUSES);
export type RunStatus = z.infer<typeof runStatusSchema>;
export const FINISHED_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'diverged', 'interrupted', 'imported'];

/**
 * Metric names. Every loss is in nats per example, lower is better:
 *  train/loss  -ELBO (or -IW bound for iwae, reconstruction loss for ae/dae) on the minibatch, averaged since the last log point
 *  train/recon -E_q[log p(x|z)]      train/kl   KL(q(z|x)||p(z)) (unweighted; beta is applied in the objective only)
 *  val/loss    -ELBO on the validation split
 *  test/loss, test/recon, test/kl    the same on the test split (test/examples examples)
 *  test/lossCorrupted  dae only: the test loss on inputs corrupted as in training (test/loss: clean inputs)
 *  test/nll    importance-sampled estimate of -log p(x) (exact for gmm): at the end with eval.iwSamples samples on the first
 *              eval.nllExamples test examples (0: all); during training with k = min(eval.iwSamples, 50) on the first 100 (a cheap trend)
 *  test/nllLoss  -ELBO on the nll's own examples from its k samples (the figure to set beside test/nll);
 *              test/nllExamples, test/nllK: the n and k of that evaluation's nll
 *  test/activeUnits   number of latent dimensions with KL_j > 0.01 nats
 *  test/activeUnitsCov  Burda et al. (2016) active units: dimensions with Cov_x(E_q[z_u|x]) > 0.01 (first 2,000 test examples)
 *  test/inferenceGap   -ELBO minus test/nll from the same k importance samples (mean log w against log mean w), in nats: how far q(z|x) is from p(z|x)
 *  test/mcc    mean correlation coefficient between latent means and the true sources (ica-synthetic only; 1 = recovered)
 *  test/sigmaAtFloor  fraction of a learned decoder sigma at model.sigmaFloor (gaussian-learned only)
 *  health/posteriorCollapse, health/sigmaAtFloor, health/plateau, health/divergence, health/varianceOverfit   1 while raised,
 *              0 once cleared (see health-warnings.ts)
 *  test/fdClassifier  Frechet distance between a small classifier's features of test images and of prior samples (not an
 *              Inception FID; called test/fid before: see metric-labels.ts; none for ae/dae)
 *  perf/samplesPerSec  training throughput
 *  perf/time/<phase>   seconds the trainer spent in startup, data, train, eval, fid, snapshots, checkpoints
 *  perf/evalNllDecodedPerSec  decoder passes per second of the final -log p(x) estimate
 */
export const metricPointSchema = z.object({
  name: z.string().min(1),
  step: z.number().int().min(0),
  epoch: z.number().min(0),
  /** Wall time in ms since the epoch (Date.now()). */
  time: z.number(),
  value: z.number(),
});
export type MetricPoint = z.infer<typeof metricPointSchema>;

export const ARTIFACT_KINDS = [
  'reconstructions',
  'prior-samples',
  'manifold',
  'interpolation',
  'latent-scatter',
  'latent-pca',
  'traversal',
  'kl-per-dim',
] as const;
export const artifactKindSchema = z.enum(ARTIFACT_KINDS);
export type ArtifactKind = z.infer<typeof artifactKindSchema>;

/** A saved Compare view: its name and the URL query that restores it (`#/compare?<state>`). */
export interface Workspace {
  id: number;
  name: string;
  state: string;
  createdAt: number;
  updatedAt: number;
}

export interface RunSummary {
  id: number;
  name: string;
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  dataset: string;
  backend: string | null;
  appVersion: string;
  seed: number;
  error: string | null;
  tags: string[];
  notes: string;
  parentId: number | null;
  /** The config exactly as given (verbatim JSON text) and with defaults filled. */
  configText: string;
  config: unknown;
  /** Flattened hyperparameters, "model.latentDim" -> 20. */
  params: Record<string, string | number | boolean | null>;
  /** The last value of every metric, "test/loss" -> 98.2. */
  final: Record<string, number>;
  /** Progress: the last step and epoch reported. */
  step: number;
  epoch: number;
}

export interface SeriesPoint {
  x: number;
  y: number;
  step: number;
  epoch: number;
  time: number;
}
export interface Series {
  runId: number;
  metric: string;
  points: SeriesPoint[];
  /** Number of raw points in the requested range before downsampling. */
  total: number;
  downsampled: boolean;
}

/** What describes one snapshot image or data artifact, wherever it is (trainer message, store, bundle). */
export interface ArtifactFields {
  kind: ArtifactKind;
  epoch: number;
  step: number;
  mime: string;
  width: number;
  height: number;
  /** Kind-specific details: labels and coordinates for scatters, grid layout, dimension order, ... */
  meta: Record<string, unknown>;
}

export interface ArtifactMeta extends ArtifactFields {
  id: number;
  runId: number;
  createdAt: number;
}

export interface CheckpointMeta {
  id: number;
  runId: number;
  epoch: number;
  step: number;
  /** interval | best | last */
  tag: string;
  path: string;
  bytes: number;
  metrics: Record<string, number>;
  createdAt: number;
}

export interface LogEntry {
  runId: number;
  time: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface Progress {
  runId: number;
  step: number;
  totalSteps: number;
  epoch: number;
  totalEpochs: number;
  samplesPerSec: number;
  etaSeconds: number | null;
  phase: string;
}
