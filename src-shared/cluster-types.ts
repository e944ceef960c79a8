// The cluster sweep's shapes, shared by the contract, the service and the renderer (pure zod, no Node imports).
import { z } from 'zod';

/** What Slurm (or the task's own exit marker) says about one task of a sweep. */
export const TASK_STATES = ['pending', 'running', 'completed', 'failed', 'timeout', 'cancelled'] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_TASK_STATES: readonly TaskState[] = ['completed', 'failed', 'timeout', 'cancelled'];

/** Slurm's time limit formats: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS. */
const SLURM_TIME = /^(\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+|\d+-\d+:\d{2}|\d+-\d+:\d{2}:\d{2})$/;

export const slurmOptionsSchema = z
  .object({
    partition: z
      .string()
      .regex(/^[A-Za-z0-9_.,-]+$/, 'letters, digits, "_", ".", "-" (comma-separated partitions)')
      .max(200)
      .optional(),
    time: z.string().regex(SLURM_TIME, 'a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS').optional(),
    cpus: z.number().int().min(1).max(1024).optional(),
    mem: z
      .string()
      .regex(/^\d+[KMGT]?$/, 'a Slurm memory size such as 4000, 4G or 512M')
      .optional(),
    gpus: z.number().int().min(0).max(64).optional(),
    /** At most this many tasks at once (the array's %N throttle). */
    maxParallel: z.number().int().min(1).max(1000).optional(),
  })
  .strict();
export type SlurmOptions = z.infer<typeof slurmOptionsSchema>;

export const k8sOptionsSchema = z
  .object({
    image: z.string().min(1).max(300).default('node:22-bookworm'),
    namespace: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label')
      .max(63)
      .default('default'),
    cpus: z.number().int().min(1).max(1024).default(1),
    mem: z
      .string()
      .regex(/^\d+(Ki|Mi|Gi|Ti|K|M|G|T)?$/, 'a Kubernetes quantity such as 2Gi')
      .default('2Gi'),
    gpus: z.number().int().min(0).max(64).default(0),
    storage: z
      .string()
      .regex(/^\d+(Ki|Mi|Gi|Ti)$/, 'a Kubernetes quantity such as 20Gi')
      .default('20Gi'),
    storageClassName: z.string().max(253).optional(),
    maxParallel: z.number().int().min(1).max(1000).optional(),
    /** Where the workbench is installed inside the image (bin/vae-workbench.js below it). */
    appDir: z.string().min(1).default('/opt/vae-workbench'),
  })
  .strict();
export type K8sOptions = z.infer<typeof k8sOptionsSchema>;

export const sweepTaskSchema = z.object({
  index: z.number(),
  name: z.string(),
  state: z.enum(TASK_STATES),
  exitCode: z.number().nullable(),
  /** Why a task is in its state, when it is not plain (e.g. "DUE TO TIME LIMIT", "left the queue without a completion marker"). */
  reason: z.string().nullable(),
  /** The last lines of the task's Slurm log (stdout and stderr). */
  logTail: z.string(),
  /** The local run this task's result was imported as (null until imported). */
  runId: z.number().nullable(),
  /** Live progress read from the task's own data home while it runs. */
  step: z.number(),
  epoch: z.number(),
});
export type SweepTask = z.infer<typeof sweepTaskSchema>;

export const sweepSummarySchema = z.object({
  id: z.number(),
  name: z.string(),
  target: z.enum(['slurm']),
  dir: z.string(),
  jobId: z.string().nullable(),
  createdAt: z.number(),
  options: z.record(z.string(), z.unknown()),
  counts: z.record(z.string(), z.number()),
  imported: z.number(),
  total: z.number(),
  /** Every task has ended and every result that can come home is home. */
  done: z.boolean(),
});
export type SweepSummary = z.infer<typeof sweepSummarySchema>;

export const sweepDetailSchema = sweepSummarySchema.extend({
  tasks: z.array(sweepTaskSchema),
  /** Set when Slurm could not be asked (states are then the last known ones). */
  warning: z.string().nullable(),
});
export type SweepDetail = z.infer<typeof sweepDetailSchema>;
