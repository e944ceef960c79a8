// The bundle's manifest (manifest.json): the format's name and version, the zod schema a bundle's manifest must
// pass, and the types of what a bundle holds (what buildBundle takes and parseBundle returns). See bundle.ts for
// the entries of a bundle and BUNDLE-FORMAT.md for the format in words.
import { z } from 'zod';
import { ARTIFACT_KINDS, RUN_STATUSES, type ArtifactFields, type MetricPoint, type RunStatus } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';
import { LIMITS } from '@shared/limits';
import { expectedWeightShapes, type InputShape } from './architecture';
import type { NamedTensor, OptimizerState } from './checkpoint-dir';
import { BundleError } from './bundle-error';

export const BUNDLE_FORMAT = 'vae-workbench-bundle';
/** Version 2 added the run's log (log.json) and the run's uid; version 1 bundles are read as they are. */
export const BUNDLE_FORMAT_VERSION = 2;
/** The oldest format version this app reads. */
export const BUNDLE_MIN_FORMAT_VERSION = 1;
/** At most this many log lines travel in a bundle (the newest), each at most BUNDLE_LOG_MAX_CHARS characters. */
export const BUNDLE_LOG_MAX_LINES = 100_000;
export const BUNDLE_LOG_MAX_CHARS = 20_000;

export interface BundleDataset {
  id: string;
  /** [h, w, c] of one example. */
  shape: InputShape;
  kind: 'image' | 'series';
}

export interface BundleRun {
  name: string;
  /** The config with defaults filled. */
  config: RunConfig;
  /** The config exactly as the user wrote it. */
  configText: string;
  dataset: BundleDataset;
  seed: number;
  backend: string | null;
  status: RunStatus;
  tags: string[];
  notes: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The run's id in the database it was exported from (informational). */
  sourceRunId: number | null;
  /** The run's stable identity (runs.uid); absent in version 1 bundles. */
  uid?: string;
}

/** One line of the run's log (log.json). */
export interface BundleLogLine {
  time: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface BundleCheckpoint {
  epoch: number;
  step: number;
  /** interval | best | last */
  tag: string;
  metrics: Record<string, number>;
  backend: string;
  createdAt: number;
}

export interface BundleSnapshot extends ArtifactFields {
  data: Uint8Array;
}

export interface BundleInput {
  appVersion: string;
  /** Default Date.now(). */
  createdAt?: number;
  run: BundleRun;
  finalMetrics: Record<string, number>;
  metrics: MetricPoint[];
  checkpoint: BundleCheckpoint;
  weights: NamedTensor[];
  optimizer: OptimizerState | null;
  snapshots: BundleSnapshot[];
  /** The run's log, oldest first (version 2; empty for a version 1 bundle). */
  log?: BundleLogLine[];
}

/** What a verified bundle holds: everything it was built from, plus its manifest. */
export interface ParsedBundle extends BundleInput {
  manifest: BundleManifest;
  createdAt: number;
}

const finiteRecord = z.record(z.string(), z.number());
const shape3 = z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]);
const entrySchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }).strict();

export const manifestSchema = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    formatVersion: z.number().int().min(BUNDLE_MIN_FORMAT_VERSION).max(BUNDLE_FORMAT_VERSION),
    appVersion: z.string(),
    createdAt: z.number(),
    run: z
      .object({
        name: z.string().max(LIMITS.RUN_NAME_MAX_CHARS, `at most ${LIMITS.RUN_NAME_MAX_CHARS} characters (RUN_NAME_MAX_CHARS)`),
        config: z.unknown(),
        configText: z.string().max(1024 * 1024, 'at most 1 MiB'),
        dataset: z.object({ id: z.string().min(1), shape: shape3, kind: z.enum(['image', 'series']) }).strict(),
        seed: z.number().int(),
        backend: z.string().nullable(),
        status: z.enum(RUN_STATUSES),
        tags: z
          .array(z.string().min(1).max(LIMITS.TAG_MAX_CHARS, `at most ${LIMITS.TAG_MAX_CHARS} characters (TAG_MAX_CHARS)`))
          .max(LIMITS.TAGS_MAX_COUNT, `at most ${LIMITS.TAGS_MAX_COUNT} tags (TAGS_MAX_COUNT)`),
        notes: z.string().max(LIMITS.RUN_NOTES_MAX_CHARS, `at most ${LIMITS.RUN_NOTES_MAX_CHARS} characters (RUN_NOTES_MAX_CHARS)`),
        createdAt: z.number(),
        startedAt: z.number().nullable(),
        finishedAt: z.number().nullable(),
        sourceRunId: z.number().int().nullable(),
        uid: z.string().min(1).max(200).optional(),
      })
      .strict(),
    finalMetrics: finiteRecord,
    metrics: z.object({ path: z.literal('metrics.json'), points: z.number().int().min(0), names: z.array(z.string()) }).strict(),
    checkpoint: z
      .object({
        epoch: z.number().min(0),
        step: z.number().int().min(0),
        tag: z.string().min(1).max(LIMITS.TAG_MAX_CHARS, `at most ${LIMITS.TAG_MAX_CHARS} characters (TAG_MAX_CHARS)`),
        metrics: finiteRecord,
        backend: z.string(),
        createdAt: z.number(),
        optimizer: z
          .object({ name: z.string(), iterations: z.number().int().min(0), path: z.literal('optimizer.safetensors') })
          .strict()
          .nullable(),
      })
      .strict(),
    weights: z
      .object({
        path: z.literal('weights.safetensors'),
        tensors: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) }).strict()),
        naming: z.string(),
      })
      .strict(),
    model: z
      .object({
        encoder: z.literal('model/encoder/model.json'),
        decoder: z.literal('model/decoder/model.json'),
        notes: z.string(),
      })
      .strict()
      .nullable(),
    snapshots: z.array(
      z
        .object({
          path: z.string().regex(/^snapshots\/[A-Za-z0-9._-]+$/),
          kind: z.enum(ARTIFACT_KINDS),
          epoch: z.number().min(0),
          step: z.number().int().min(0),
          mime: z.string(),
          width: z.number().int().min(0),
          height: z.number().int().min(0),
          meta: z.record(z.string(), z.unknown()),
        })
        .strict(),
    ),
    entries: z.record(z.string(), entrySchema),
    /** Version 2: the run's log. */
    log: z
      .object({ path: z.literal('log.json'), lines: z.number().int().min(0).max(BUNDLE_LOG_MAX_LINES) })
      .strict()
      .optional(),
  })
  .strict();

export const bundleLogSchema = z
  .array(
    z
      .object({
        time: z.number(),
        level: z.enum(['info', 'warn', 'error']),
        message: z.string().max(BUNDLE_LOG_MAX_CHARS, `at most ${BUNDLE_LOG_MAX_CHARS} characters`),
      })
      .strict(),
  )
  .max(BUNDLE_LOG_MAX_LINES);

export type BundleManifest = z.infer<typeof manifestSchema>;

/** Every weight the config implies, with its shape; nothing else. `context` prefixes the error. */
export function checkWeightShapes(config: RunConfig, inputShape: InputShape, weights: NamedTensor[], context: string): void {
  const expected = expectedWeightShapes(config, inputShape);
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const e of expected) {
    const w = byName.get(e.name);
    if (!w) throw new BundleError(`${context}: weight "${e.name}" is missing (the config implies shape [${e.shape.join(', ')}])`);
    if (w.shape.length !== e.shape.length || w.shape.some((s, i) => s !== e.shape[i]))
      throw new BundleError(`${context}: weight "${e.name}" has shape [${w.shape.join(', ')}], the config implies [${e.shape.join(', ')}]`);
  }
  const known = new Set(expected.map((e) => e.name));
  const extra = weights.find((w) => !known.has(w.name));
  if (extra) throw new BundleError(`${context}: weight "${extra.name}" is not part of the model the config describes`);
}
