// The public types of the run store (re-exported by run-store.ts, which callers import) and the two errors its
// repositories throw.
import type { ArtifactFields, MetricPoint, RunStatus } from '@shared/model-types';
import { ApiError } from '@shared/errors';

export type ParamValue = string | number | boolean | null;

export interface CreateRunInput {
  /** Empty name: the run is named "run-<id>". */
  name: string;
  /** The config exactly as the user gave it (kept verbatim). */
  configText: string;
  /** The config with defaults filled (stored as JSON, flattened into run_params). */
  config: unknown;
  dataset: string;
  seed: number;
  appVersion: string;
  backend?: string | null;
  tags?: string[];
  parentId?: number | null;
  notes?: string;
  /** Default 'queued'. 'imported' also sets the imported flag. */
  status?: 'queued' | 'imported';
  /** Default Date.now(); imports keep their original creation time. */
  createdAt?: number;
}

export interface StatusUpdate {
  error?: string | null;
  backend?: string | null;
  /** Default: now when the status becomes 'running' and the run has no start time yet. */
  startedAt?: number | null;
  /** Default: now when the status becomes a finished one and the run has no finish time yet. */
  finishedAt?: number | null;
}

export interface ParamFilter {
  key: string;
  min?: number;
  max?: number;
  equals?: string | number | boolean;
}

export interface MetricFilter {
  key: string;
  op: '<' | '<=' | '>' | '>=' | '=' | '!=';
  value: number;
}

export interface RunQuery {
  /** Only these runs. */
  ids?: number[];
  status?: RunStatus[];
  tag?: string;
  /** Each word matches name, notes, dataset or a tag (substring, case-insensitive) or the id ("12" or "#12"). */
  text?: string;
  params?: ParamFilter[];
  /** Final-metric filters (`final[key] op value`); a run without the metric is left out. */
  metrics?: MetricFilter[];
  /** key: a column ('id', 'name', 'status', 'createdAt', 'startedAt', 'finishedAt', 'dataset', 'backend', 'seed',
   *  'step', 'epoch', 'appVersion'; snake_case also accepted), 'params.<key>' or 'final.<metric>'. Missing values sort last. */
  sort?: { key: string; dir: 'asc' | 'desc' };
  limit?: number;
  offset?: number;
}

export interface SeriesOptions {
  x: 'step' | 'epoch' | 'time';
  /** Inclusive range on x. */
  from?: number;
  to?: number;
  /** At most this many points per run (>= 1). */
  maxPoints: number;
}

export interface ParamDiffRow {
  key: string;
  /** One value per requested run, in the order given (null where the run lacks the key or does not exist). */
  values: ParamValue[];
  differs: boolean;
}

export interface NewArtifact extends Omit<ArtifactFields, 'meta'> {
  meta?: Record<string, unknown>;
  data: Buffer | Uint8Array;
}

export interface NewCheckpoint {
  epoch: number;
  step: number;
  /** interval | best | last */
  tag: string;
  path: string;
  bytes: number;
  metrics?: Record<string, number>;
}

export interface RunBatch {
  runId: number;
  points: MetricPoint[];
}

export class RunNotFoundError extends ApiError {
  constructor(readonly runId: number) {
    super('not_found', `no run with id ${runId}`);
    this.name = 'RunNotFoundError';
  }
}

/** A runs.list query the store cannot answer (unknown sort key, ...): the caller's input is wrong. */
export class RunQueryError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'RunQueryError';
  }
}

/** Parse a JSON object column; the fallback for anything else (or unparsable text). */
export function parseJsonObject<T>(text: string, fallback: T): T {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}
