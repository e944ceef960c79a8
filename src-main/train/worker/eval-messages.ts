// The messages between a trainer and its evaluation worker (eval-worker.ts), a thread with its own tfjs
// backend on an idle core. Structured-clone values; the -log p(x) batches are shared memory (NllShare).
import type { MetricPoint } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';
import type { NamedTensor } from '../../vae/named-tensor';
import type { EvalOptions, EvalResult, NllShare } from '../../vae/evaluate';
import type { ShardReplicaJob } from './shard-replica';

/** What the worker is started with: the model to build and the test split it evaluates. */
export interface EvalWorkerInit {
  backend: string;
  config: RunConfig;
  shape: [number, number, number];
  datasetKind: 'image' | 'series';
  test: { x: Float32Array; n: number };
  testSources?: { values: Float32Array; dim: number };
}

export type EvalJobOptions = Omit<EvalOptions, 'onBatch' | 'nllHelper'>;

export type EvalJob =
  /** Work through the shared -log p(x) batches with these weights beside the trainer. */
  | { id: number; type: 'nll'; weights: NamedTensor[]; share: NllShare; iwSamples: number; seed: number }
  /** A whole test evaluation (ELBO, -log p(x), diagnostics) of these weights, reported as points at `at`. */
  | { id: number; type: 'test'; weights: NamedTensor[]; options: EvalJobOptions; at: { step: number; epoch: number; time: number } }
  /** Fit the FID's feature classifier on the training split and write it to the cache (the first run on a dataset). */
  | {
      id: number;
      type: 'fidFit';
      datasetId: string;
      train: { x: Float32Array; y: Int32Array | null; n: number };
      d: number;
      cacheDir: string;
      seed: number;
    }
  /** Take the last shard of every data-parallel step until the trainer says END (shard-link.ts). */
  | ({ id: number; type: 'train' } & ShardReplicaJob);

export interface EvalDone {
  id: number;
  ok: true;
  points?: MetricPoint[];
  result?: EvalResult;
  /** Steps a 'train' job took part in. */
  steps?: number;
}

export type EvalReply =
  | EvalDone
  | { id: number; ok: false; error: string }
  /** Sent once when the backend is up. */
  | { id: 0; ok: true; ready: true };
