// The run folder format the vaewb Python client writes (clients/python/FORMAT.md, format "vaewb-run" version 1),
// as zod schemas: what the importer accepts from each file and each line. Anything else is refused or skipped
// with a message naming the file and the line.
import { z } from 'zod';
import { LIMITS } from '@shared/limits';

export const RUN_FORMAT = 'vaewb-run';
export const RUN_FORMAT_VERSION = 1;

export const FILES = {
  run: 'run.json',
  status: 'status.json',
  metrics: 'metrics.jsonl',
  images: 'images.jsonl',
  log: 'log.jsonl',
  checkpoints: 'checkpoints.jsonl',
  imagesDir: 'images',
  checkpointsDir: 'checkpoints',
} as const;

/** The append-only files, in the order they are imported at each scan. */
export const LINE_FILES = ['metrics', 'log', 'images', 'checkpoints'] as const;
export type LineFile = (typeof LINE_FILES)[number];

/** Names that would reach objects keyed by metric name: prototype keys are refused. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const key = z
  .string()
  .min(1)
  .max(LIMITS.SOURCE_MAX_KEY_CHARS)
  .refine((k) => !FORBIDDEN_KEYS.has(k), 'a prototype key is not a metric name');
const time = z.number().int().min(0).max(8.64e15);
const step = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const runJsonSchema = z.object({
  format: z.literal(RUN_FORMAT),
  formatVersion: z.number().int().min(1),
  id: z.string().max(200),
  project: z.string().max(200),
  name: z.string().max(200),
  config: z.record(z.string(), z.unknown()),
  createdAt: time,
});
export type RunJson = z.infer<typeof runJsonSchema>;

export const statusJsonSchema = z.object({
  state: z.enum(['running', 'completed', 'failed', 'interrupted']),
  pid: z.number().int().min(0),
  host: z.string().max(255),
  startedAt: time,
  updatedAt: time,
  finishedAt: time.optional(),
  heartbeatSeconds: z.number().positive().max(3600).default(10),
  error: z.string().max(20_000).optional(),
  /** How long the run will be, when the script says it (vaewb.init(total_steps=, total_epochs=), run.set_total). */
  totalSteps: z.number().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  totalEpochs: z.number().positive().max(1e9).optional(),
});
export type StatusJson = z.infer<typeof statusJsonSchema>;

const value = z.union([z.number(), z.null(), z.array(z.number()).max(LIMITS.SOURCE_MAX_LIST_VALUES)]);

export const metricLineSchema = z.object({
  step,
  time,
  epoch: z.number().min(0).optional(),
  values: z
    .record(z.string(), value)
    .refine((v) => Object.keys(v).length <= 1000, 'at most 1000 values per line')
    .refine((v) => Object.keys(v).every((k) => key.safeParse(k).success), 'a metric name that is empty, too long or a prototype key'),
});

export const imageLineSchema = z.object({
  key,
  step,
  time,
  epoch: z.number().min(0).optional(),
  file: z.string().max(200),
  width: z.number().int().positive().max(16384),
  height: z.number().int().positive().max(16384),
  /** A traversal's rows (latent dimensions) and the z range of its columns: the caption the workbench gives its own. */
  meta: z
    .object({
      dims: z.array(z.number().int().min(0).max(1e6)).min(1).max(LIMITS.SOURCE_MAX_LIST_VALUES).optional(),
      range: z.tuple([z.number(), z.number()]).optional(),
    })
    .optional(),
});

export const logLineSchema = z.object({
  time,
  level: z.enum(['info', 'warn', 'error']),
  message: z.string().max(20_000),
});

export const checkpointLineSchema = z.object({
  file: z.string().max(200),
  step,
  time,
  epoch: z.number().min(0).optional(),
  tag: z.string().min(1).max(32),
  config: z.record(z.string(), z.unknown()),
  bytes: z.number().int().min(0),
});

export const LINE_SCHEMAS = {
  metrics: metricLineSchema,
  images: imageLineSchema,
  log: logLineSchema,
  checkpoints: checkpointLineSchema,
} as const;

export type ImageKind = 'prior-samples' | 'reconstructions' | 'traversal' | 'interpolation' | 'manifold';

/**
 * The names an image key may end in, per kind of sample grid the workbench shows (its last path segment, lower
 * case, without - _ or spaces): `samples/prior`, `val/reconstructions`, `latent_traversal`, `latent-grid`, ...
 */
export const IMAGE_KEY_NAMES: Record<ImageKind, readonly string[]> = {
  'prior-samples': ['prior', 'priorsamples', 'samples', 'sample', 'generated', 'generations'],
  reconstructions: ['reconstructions', 'reconstruction', 'recon', 'recons', 'reconstruct'],
  traversal: ['traversal', 'traversals', 'latenttraversal', 'latenttraversals'],
  manifold: ['manifold', 'latentgrid', 'latentmanifold'],
  interpolation: ['interpolation', 'interpolations', 'interp', 'latentinterpolation'],
};

const KIND_OF_NAME = new Map(Object.entries(IMAGE_KEY_NAMES).flatMap(([kind, names]) => names.map((n) => [n, kind as ImageKind])));

/** The kind of sample grid an image key is shown as, or null (other keys stay in the folder only). */
export function imageKind(key: string): ImageKind | null {
  const last = key.split('/').pop() ?? '';
  return KIND_OF_NAME.get(last.toLowerCase().replace(/[-_ ]/g, '')) ?? null;
}
