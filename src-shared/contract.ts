// THE API contract: every call the renderer (or any host) can make, with its input and output schema,
// and every event the service pushes. The Electron preload, the web host and the CLI all bind this
// one list; the service implements it. Pure zod: no Node imports, so the renderer can import it.
import { z } from 'zod';
import { LIMITS } from './limits';
import { k8sOptionsSchema, slurmOptionsSchema, sweepDetailSchema, sweepSummarySchema } from './cluster-types';
import { ARTIFACT_KINDS, RUN_STATUSES } from './model-types';
import { sweepAxesSchema } from './sweep-expand';

import { listQuery, runIds, runSelection, runFilter } from './runs-query-schema';

const runId = z.number().int().positive();
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const empty = z.object({}).strict().default({});

export const runStatus = z.enum(RUN_STATUSES);
export const artifactKind = z.enum(ARTIFACT_KINDS);

export const runSummarySchema = z.object({
  id: z.number(),
  name: z.string(),
  status: runStatus,
  createdAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  dataset: z.string(),
  backend: z.string().nullable(),
  appVersion: z.string(),
  seed: z.number(),
  error: z.string().nullable(),
  tags: z.array(z.string()),
  notes: z.string(),
  parentId: z.number().nullable(),
  configText: z.string(),
  config: z.unknown(),
  params: z.record(z.string(), scalar),
  final: z.record(z.string(), z.number()),
  step: z.number(),
  epoch: z.number(),
});

export const seriesSchema = z.object({
  runId: z.number(),
  metric: z.string(),
  points: z.array(z.object({ x: z.number(), y: z.number(), step: z.number(), epoch: z.number(), time: z.number() })),
  total: z.number(),
  downsampled: z.boolean(),
});

export const artifactMetaSchema = z.object({
  id: z.number(),
  runId: z.number(),
  kind: artifactKind,
  epoch: z.number(),
  step: z.number(),
  mime: z.string(),
  width: z.number(),
  height: z.number(),
  meta: z.record(z.string(), z.unknown()),
  createdAt: z.number(),
});

export const checkpointMetaSchema = z.object({
  id: z.number(),
  runId: z.number(),
  epoch: z.number(),
  step: z.number(),
  tag: z.string(),
  path: z.string(),
  bytes: z.number(),
  metrics: z.record(z.string(), z.number()),
  createdAt: z.number(),
});

export const logEntrySchema = z.object({
  runId: z.number(),
  time: z.number(),
  level: z.enum(['info', 'warn', 'error']),
  message: z.string(),
});

export const progressSchema = z.object({
  runId: z.number(),
  step: z.number(),
  totalSteps: z.number(),
  epoch: z.number(),
  totalEpochs: z.number(),
  samplesPerSec: z.number(),
  etaSeconds: z.number().nullable(),
  phase: z.string(),
});

export const datasetDescriptorSchema = z.object({
  id: z.string(),
  title: z.string(),
  description: z.string(),
  shape: z.tuple([z.number(), z.number(), z.number()]),
  kind: z.enum(['image', 'series']),
  labels: z.array(z.string()).nullable(),
  splits: z.object({ train: z.number(), test: z.number() }),
  source: z.string(),
  license: z.string(),
  needsPath: z.boolean(),
  available: z.boolean(),
  unavailableReason: z.string().optional(),
});

export const appInfoSchema = z.object({
  name: z.string(),
  version: z.string(),
  dataHome: z.string(),
  /** electron | web | cli */
  host: z.enum(['electron', 'web', 'cli']),
  /** The tfjs backend trainer processes use: tensorflow | wasm | cpu. */
  backend: z.string(),
  tfjsNode: z.object({ available: z.boolean(), reason: z.string() }),
  concurrency: z.number(),
  platform: z.string(),
  node: z.string(),
  electron: z.string().nullable(),
});

const imageResult = z.object({
  mime: z.string(),
  dataBase64: z.string(),
  width: z.number(),
  height: z.number(),
  meta: z.record(z.string(), z.unknown()),
});

export const sourceSummarySchema = z.object({
  id: z.number(),
  path: z.string(),
  kind: z.literal('python'),
  addedAt: z.number(),
  /** Run folders found in it so far. */
  runs: z.number(),
  lastError: z.string().nullable(),
});
const workspaceSchema = z.object({ id: z.number(), name: z.string(), state: z.string(), createdAt: z.number(), updatedAt: z.number() });

function call<I extends z.ZodType, O extends z.ZodType>(input: I, output: O, doc: string) {
  return { input, output, doc };
}

export const calls = {
  'app.info': call(empty, appInfoSchema, 'Version, data home, active tfjs backend, host.'),
  'datasets.list': call(empty, z.array(datasetDescriptorSchema), 'Every dataset the registry knows, with availability.'),
  'runs.start': call(
    z.object({ config: z.unknown() }).strict(),
    z.object({ runId }),
    'Validate a run config (see run-config.ts) and queue the run.',
  ),
  'runs.sweep': call(
    z
      .object({
        config: z.unknown(),
        axes: sweepAxesSchema,
      })
      .strict(),
    z.object({ runIds: z.array(runId) }),
    'Queue one run for every combination of up to three hyperparameters (dotted keys; list keys such as model.hidden take number arrays).',
  ),
  'runs.cancel': call(z.object({ runId }).strict(), z.object({ cancelled: z.boolean() }), 'Cancel a queued or running run.'),
  'runs.resume': call(
    z
      .object({
        runId,
        checkpointId: z.number().int().positive().optional(),
        /** Dotted overrides for a fork, e.g. {"optimizer.learningRate": 0.0001}; absent = plain resume. */
        overrides: z.record(z.string(), scalar).optional(),
        epochs: z.number().int().positive().optional(),
      })
      .strict(),
    z.object({ runId }),
    'Start a new run, linked to its parent, from a checkpoint (resume; with overrides a fork).',
  ),
  'runs.list': call(listQuery, z.object({ runs: z.array(runSummarySchema), total: z.number() }), 'List, filter and sort runs.'),
  'runs.get': call(z.object({ runId }).strict(), runSummarySchema, 'One run.'),
  'runs.update': call(
    z
      .object({
        runId,
        name: z.string().max(200).optional(),
        tags: z.array(z.string().min(1).max(64)).max(32).optional(),
        notes: z.string().max(20000).optional(),
      })
      .strict(),
    runSummarySchema,
    'Rename, tag or annotate a run.',
  ),
  'runs.delete': call(
    runSelection,
    z.object({ deleted: z.number() }),
    'Delete runs with their files: the runs named (runIds) or every run a filter matches (matching).',
  ),
  'runs.metricNames': call(z.object({ runIds }).strict(), z.array(z.string()), 'Metric names logged by these runs.'),
  'runs.series': call(
    z
      .object({
        runIds,
        metric: z.string().min(1),
        x: z.enum(['step', 'epoch', 'time']).default('step'),
        from: z.number().optional(),
        to: z.number().optional(),
        maxPoints: z.number().int().min(10).max(100000).default(1000),
        /** Smoothing over the full raw series (window in steps) before the range and downsampling are applied. */
        smoothing: z
          .object({ kind: z.enum(['ema', 'mean']), window: z.number().positive().max(1e12) })
          .strict()
          .optional(),
        /** x = this other metric's value at the same step (then `x` is ignored; from/to apply to that value). */
        xMetric: z.string().min(1).optional(),
      })
      .strict(),
    z.array(seriesSchema),
    'Metric series, downsampled to maxPoints over [from, to] (first, last and extremes kept); optionally smoothed on the raw points, or against another metric.',
  ),
  'runs.paramDiff': call(
    z.object({ runIds }).strict(),
    z.array(z.object({ key: z.string(), values: z.array(scalar), differs: z.boolean() })),
    'Hyperparameters of N runs side by side.',
  ),
  'runs.artifacts': call(
    z.object({ runId, kind: artifactKind.optional(), epoch: z.number().optional() }).strict(),
    z.array(artifactMetaSchema),
    'Snapshot images (and data artifacts) of a run.',
  ),
  'artifacts.get': call(
    z.object({ artifactId: z.number().int().positive() }).strict(),
    z.object({ mime: z.string(), dataBase64: z.string() }),
    'The bytes of one artifact.',
  ),
  'runs.log': call(
    z.object({ runId, limit: z.number().int().positive().max(10000).default(500) }).strict(),
    z.array(logEntrySchema),
    "A run's log messages, newest last.",
  ),
  'runs.checkpoints': call(z.object({ runId }).strict(), z.array(checkpointMetaSchema), "A run's checkpoints."),
  'runs.export': call(
    z
      .object({
        format: z.enum(['csv', 'json']),
        what: z.enum(['runs', 'series']).default('runs'),
        runIds: z.array(runId).optional(),
        /** Every run this filter matches (instead of runIds). */
        matching: runFilter.optional(),
        metrics: z.array(z.string()).optional(),
      })
      .strict(),
    z.object({ filename: z.string(), mime: z.string(), text: z.string() }),
    'The runs table or metric series as CSV or JSON.',
  ),
  'bundles.export': call(
    z.object({ runId, checkpointId: z.number().int().positive().optional() }).strict(),
    z.object({ filename: z.string(), dataBase64: z.string(), bytes: z.number() }),
    'A run as one portable bundle (zip: manifest, tfjs LayersModel, safetensors, optimizer state).',
  ),
  'bundles.import': call(
    z
      .object({
        filename: z.string().max(500),
        dataBase64: z.string().min(1),
        /** Import even when the bundle's run is already in the store (else the call fails with `already_imported`). */
        again: z.boolean().optional(),
      })
      .strict(),
    z.object({ runId }),
    'Import a bundle; it is verified before anything is written. A bundle whose run is already in the store (same run uid) is refused with code `already_imported`, its issue `existingRunId` naming that run, unless `again` is true.',
  ),
  'runs.generate': call(
    z
      .object({
        runId,
        checkpointId: z.number().int().positive().optional(),
        kind: z.enum(['prior', 'reconstruct', 'traversal', 'interpolate']),
        n: z.number().int().positive().max(400).default(64),
        seed: z.number().int().min(0).default(0),
        /** reconstruct: test-set indices; interpolate: two indices; traversal: dimension indices (default all). */
        indices: z.array(z.number().int().min(0)).max(400).optional(),
      })
      .strict(),
    imageResult,
    'Generate images from a checkpoint without training.',
  ),
  'runs.evaluate': call(
    z
      .object({
        runId,
        checkpointId: z.number().int().positive().optional(),
        /** Importance samples per example of the -log p(x) estimate. */
        k: z.number().int().min(1).max(5000).default(100),
        /** Test examples (the first ones); 0 = the whole test split. */
        examples: z.number().int().min(0).max(1_000_000).default(1000),
        /** Reparameterized samples per example of the reconstruction term. */
        samples: z.number().int().min(1).max(1000).default(1),
        seed: z.number().int().min(0).default(0),
      })
      .strict(),
    z.object({
      checkpointId: z.number(),
      epoch: z.number(),
      step: z.number(),
      n: z.number(),
      nllExamples: z.number(),
      k: z.number(),
      samples: z.number(),
      /** test/loss (-ELBO), test/recon, test/kl, test/nll, test/inferenceGap, test/activeUnits(Cov): nats per example. */
      figures: z.record(z.string(), z.number()),
      klPerDim: z.array(z.number()),
    }),
    "Evaluate a checkpoint as the trainer does (test -ELBO, KL, active units, IW -log p(x)) without training: e.g. one saved from PyTorch. Also written to the run's log.",
  ),
  'sweeps.submit': call(
    z
      .object({
        config: z.unknown(),
        axes: sweepAxesSchema,
        name: z.string().max(200).optional(),
        on: z.literal('slurm'),
        slurm: slurmOptionsSchema.default({}),
        /** The shared base folder (visible from every compute node); default <data home>/sweeps. */
        dir: z.string().min(1).max(1000).optional(),
      })
      .strict(),
    sweepDetailSchema,
    'Validate every configuration of the grid, then submit them as one Slurm job array (sbatch); the sweep is recorded locally.',
  ),
  'sweeps.list': call(empty, z.array(sweepSummarySchema), 'Cluster sweeps, newest first, with task counts by state.'),
  'sweeps.status': call(
    z.object({ sweepId: runId }).strict(),
    sweepDetailSchema,
    "A sweep's tasks as last synced, with live progress from the task homes.",
  ),
  'sweeps.sync': call(
    z.object({ sweepId: runId }).strict(),
    sweepDetailSchema.extend({ importedNow: z.array(z.number()) }),
    "Ask Slurm for every task's state and import each finished task's run into the local store (exactly once).",
  ),
  'sweeps.cancel': call(
    z.object({ sweepId: runId, tasks: z.array(z.number().int().min(0)).max(1000).optional() }).strict(),
    z.object({ cancelled: z.boolean() }),
    'scancel the whole sweep, or some of its tasks.',
  ),
  'sweeps.series': call(
    z.object({ sweepId: runId, metric: z.string().min(1), maxPoints: z.number().int().min(10).max(100000).default(500) }).strict(),
    z.array(z.object({ index: z.number(), points: z.array(z.object({ step: z.number(), epoch: z.number(), value: z.number() })) })),
    'One metric of every task, read from the task homes on the shared folder (live while tasks run).',
  ),
  'sweeps.k8s': call(
    z
      .object({
        config: z.unknown(),
        axes: sweepAxesSchema,
        name: z.string().max(200).optional(),
        k8s: k8sOptionsSchema.prefault({}),
      })
      .strict(),
    z.object({ yaml: z.string(), manifests: z.array(z.record(z.string(), z.unknown())) }),
    'The same sweep as a Kubernetes Indexed Job plus a PersistentVolumeClaim for the shared folder (not applied).',
  ),
  'sources.add': call(
    z.object({ path: z.string().min(1).max(4096) }).strict(),
    sourceSummarySchema,
    'Watch a folder of run folders written by the vaewb Python client (clients/python); scanned at once, then followed live.',
  ),
  'sources.list': call(empty, z.array(sourceSummarySchema), 'The watched sources with their run counts and last error.'),
  'sources.remove': call(
    z.object({ sourceId: runId }).strict(),
    z.object({ removed: z.boolean() }),
    'Stop following a source; the runs imported from it stay.',
  ),
  'sources.scan': call(
    z.object({ sourceId: runId.optional() }).strict(),
    z.object({ changed: z.number() }),
    'Import what is new in every watched source (or one) now.',
  ),
  'workspaces.list': call(empty, z.array(workspaceSchema), 'Saved Compare views (workspaces), most recently saved first.'),
  'workspaces.save': call(
    z
      .object({
        name: z.string().trim().min(1, 'a workspace needs a name').max(LIMITS.WORKSPACE_NAME_MAX_CHARS),
        state: z.string().max(LIMITS.WORKSPACE_STATE_MAX_CHARS),
      })
      .strict(),
    workspaceSchema,
    "Save Compare's view (the URL query that restores it) under a name; the same name again replaces that view.",
  ),
  'workspaces.delete': call(
    z.object({ id: z.number().int().positive() }).strict(),
    z.object({ deleted: z.boolean() }),
    'Delete a saved workspace.',
  ),
} as const;

export type CallName = keyof typeof calls;
export const CALL_NAMES = Object.keys(calls) as CallName[];
export type CallInput<N extends CallName> = z.input<(typeof calls)[N]['input']>;
export type CallParsedInput<N extends CallName> = z.output<(typeof calls)[N]['input']>;
export type CallOutput<N extends CallName> = z.output<(typeof calls)[N]['output']>;

export const events = {
  'run.created': runSummarySchema,
  'run.status': z.object({ runId: z.number(), status: runStatus, error: z.string().nullable() }),
  'run.progress': progressSchema,
  'run.metrics': z.object({
    runId: z.number(),
    points: z.array(z.object({ name: z.string(), step: z.number(), epoch: z.number(), time: z.number(), value: z.number() })),
  }),
  'run.artifact': artifactMetaSchema,
  'run.checkpoint': checkpointMetaSchema,
  'run.log': logEntrySchema,
  'run.deleted': z.object({ runId: z.number() }),
  /** A run's name, tags or notes changed (here or in another process): its whole summary. */
  'run.updated': runSummarySchema,
  /** A cluster sweep the service follows, just synced (every few seconds while any sweep is unfinished). */
  'sweep.updated': sweepDetailSchema,
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.output<(typeof events)[E]>;
export type WorkbenchEvent = { [E in EventName]: { event: E; payload: EventPayload<E> } }[EventName];

export { METRIC_FILTER_OPS, metricFilterSchema, type MetricFilter, type RunFilter } from './runs-query-schema';

// Error codes, their HTTP statuses and the ApiError base class: errors.ts (part of this contract).
export { API_ERROR_CODES, ApiError, ERROR_HTTP_STATUS, type ApiErrorCode, type ApiErrorShape, type FieldIssue } from './errors';
export type { ErrorReply, OkReply, Reply } from './reply';

/** What a host hands the renderer: one function per call plus an event subscription. */
export type WorkbenchApi = {
  [N in CallName]: (input: CallInput<N>) => Promise<CallOutput<N>>;
} & {
  onEvent(listener: (event: WorkbenchEvent) => void): () => void;
};
