// What the new lines of a run folder become in the store: metric points (lists such as test/klPerDim become the
// KL-per-dimension artifact the VAE panels read), sample images under the workbench's kinds, log entries and
// checkpoints. Each kind of line turns into operations run inside the folder's import transaction; each operation
// returns the events to send once that transaction has committed.
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { WorkbenchEvent } from '@shared/contract';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig } from '@shared/run-config';
import type { RunStore } from '../store/run-store';
import { listDatasets } from '../data/registry';
import { readSafetensors } from '../checkpoints/safetensors';
import { writeCheckpointDir } from '../checkpoints/checkpoint-dir';
import { checkWeightShapes } from '../checkpoints/bundle-manifest';
import { checkWeightValues } from '../checkpoints/bundle-limits';
import { UntrustedError } from '../os/untrusted';
import { readWhole, subFolder } from './folder-reader';
import {
  FILES,
  IMAGE_KEY_NAMES,
  imageKind,
  type checkpointLineSchema,
  type imageLineSchema,
  type logLineSchema,
  type metricLineSchema,
} from './run-folder-format';
import type { z } from 'zod';

export type Op = () => WorkbenchEvent[];

export interface FolderContext {
  store: RunStore;
  runId: number;
  /** The run folder being imported. */
  dir: string;
  /** The run's own folder in the data home (runs/<id>), where checkpoints are converted to. */
  runDir: string;
  dataHome: string;
  warn: (message: string) => void;
}

const KL_PER_DIM = /(^|\/)klPerDim$/;
const ACTIVE_UNIT_THRESHOLD = 0.01;

export function metricOps(
  lines: z.infer<typeof metricLineSchema>[],
  ctx: FolderContext,
  lastEpoch: number,
): { ops: Op[]; epoch: number; step: number; time: number } {
  const points: MetricPoint[] = [];
  const ops: Op[] = [];
  let epoch = lastEpoch;
  let step = 0;
  let time = 0;
  for (const line of lines) {
    if (line.epoch !== undefined) epoch = line.epoch;
    step = Math.max(step, line.step);
    time = Math.max(time, line.time);
    for (const [name, value] of Object.entries(line.values)) {
      if (typeof value === 'number') {
        if (Number.isFinite(value)) points.push({ name, step: line.step, epoch, time: line.time, value });
      } else if (Array.isArray(value) && KL_PER_DIM.test(name)) ops.push(klArtifactOp(ctx, value, line.step, epoch));
    }
  }
  if (points.length)
    ops.unshift(() => {
      ctx.store.appendMetrics(ctx.runId, points);
      return [{ event: 'run.metrics', payload: { runId: ctx.runId, points } }];
    });
  return { ops, epoch, step, time };
}

function klArtifactOp(ctx: FolderContext, values: number[], step: number, epoch: number): Op {
  return () => {
    const kl = values.map((v) => (Number.isFinite(v) ? v : 0));
    const value = { klPerDim: kl, threshold: ACTIVE_UNIT_THRESHOLD, activeUnits: kl.filter((v) => v > ACTIVE_UNIT_THRESHOLD).length };
    const meta = ctx.store.addArtifact(ctx.runId, {
      kind: 'kl-per-dim',
      epoch,
      step,
      mime: 'application/json',
      width: 0,
      height: 0,
      meta: { dims: kl.length, source: 'python' },
      data: Buffer.from(JSON.stringify(value)),
    });
    return [{ event: 'run.artifact', payload: meta }];
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The image file of one line, checked to be the PNG of the size it claims; throws UntrustedError. */
function readPng(ctx: FolderContext, line: z.infer<typeof imageLineSchema>): Buffer {
  const dir = subFolder(ctx.dir, FILES.imagesDir);
  if (!dir) throw new UntrustedError(`${FILES.images}: ${line.file} is listed but there is no images folder`);
  const data = readWhole(dir, line.file, 'SOURCE_MAX_IMAGE_BYTES');
  if (data.length < 24 || !data.subarray(0, 8).equals(PNG_SIGNATURE) || data.toString('latin1', 12, 16) !== 'IHDR')
    throw new UntrustedError(`${FILES.imagesDir}/${line.file} is not a PNG`);
  const w = data.readUInt32BE(16);
  const h = data.readUInt32BE(20);
  if (w !== line.width || h !== line.height)
    throw new UntrustedError(`${FILES.imagesDir}/${line.file} is ${w}x${h}, its line says ${line.width}x${line.height}`);
  return data;
}

const KEY_HINT = Object.entries(IMAGE_KEY_NAMES)
  .map(([kind, names]) => `${kind}: ${names.slice(0, 2).join(' / ')}`)
  .join('; ');

/**
 * The images of new lines, each under the kind its key names. At most `room` are imported (the run's room left
 * under SOURCE_MAX_IMAGES); the lines past it are refused and counted (`refused`), the rest of the folder goes on.
 */
export function imageOps(
  lines: z.infer<typeof imageLineSchema>[],
  ctx: FolderContext,
  lastEpoch: number,
  room: number,
): { ops: Op[]; refused: number } {
  const ops: Op[] = [];
  let refused = 0;
  for (const line of lines) {
    const kind = imageKind(line.key);
    if (!kind) {
      ctx.warn(`image key "${line.key}" is not one the workbench shows (keys ending in ${KEY_HINT}, ...); kept in the folder only`);
      continue;
    }
    if (ops.length >= room) {
      refused++;
      continue;
    }
    let data: Buffer;
    try {
      data = readPng(ctx, line);
    } catch (err) {
      ctx.warn(`skipped an image: ${(err as Error).message}`);
      continue;
    }
    const epoch = line.epoch ?? lastEpoch;
    ops.push(() => {
      const meta = ctx.store.addArtifact(ctx.runId, {
        kind,
        epoch,
        step: line.step,
        mime: 'image/png',
        width: line.width,
        height: line.height,
        meta: { ...line.meta, key: line.key, source: 'python' },
        data,
      });
      return [{ event: 'run.artifact', payload: meta }];
    });
  }
  return { ops, refused };
}

export function logOps(lines: z.infer<typeof logLineSchema>[], ctx: FolderContext): Op[] {
  if (!lines.length) return [];
  return [
    () =>
      lines.map((l) => {
        ctx.store.log(ctx.runId, l.level, l.message, l.time);
        return { event: 'run.log', payload: { runId: ctx.runId, time: l.time, level: l.level, message: l.message } };
      }),
  ];
}

/**
 * A checkpoint line becomes a checkpoint of the run: the safetensors file is read (bounded), its config validated,
 * its weights checked against the names and shapes that config implies and for finite values, then converted into
 * the workbench's own checkpoint directory (runs/<id>/checkpoints/py-<tag>-s<step>) that generation and evaluation read.
 */
export function checkpointOp(line: z.infer<typeof checkpointLineSchema>, ctx: FolderContext, lastEpoch: number): Op | null {
  try {
    const dir = subFolder(ctx.dir, FILES.checkpointsDir);
    if (!dir) throw new UntrustedError(`${FILES.checkpoints}: ${line.file} is listed but there is no checkpoints folder`);
    const config = parseRunConfig(line.config);
    const dataset = listDatasets({ dataHome: ctx.dataHome }).find((d) => d.id === config.data.dataset);
    if (!dataset || !dataset.shape.every((n) => n > 0))
      throw new UntrustedError(`checkpoint ${line.file}: dataset "${config.data.dataset}" has no fixed example shape here`);
    const { tensors } = readSafetensors(new Uint8Array(readWhole(dir, line.file, 'SOURCE_MAX_CHECKPOINT_BYTES')));
    checkWeightShapes(config, dataset.shape, tensors, `checkpoint ${line.file}`);
    checkWeightValues(tensors, line.file);
    const epoch = line.epoch ?? lastEpoch;
    const target = path.join(ctx.runDir, 'checkpoints', `py-${line.tag.replace(/[^A-Za-z0-9_-]/g, '_')}-s${line.step}`);
    const bytes = writeCheckpointDir(target, {
      runId: ctx.runId,
      epoch,
      step: line.step,
      config,
      weights: tensors,
      optimizer: null,
      metrics: {},
      backend: 'pytorch',
      createdAt: line.time,
    });
    const tag = line.tag === 'best' ? 'best' : line.tag === 'last' ? 'last' : 'interval';
    return () => {
      // one checkpoint per tag, as the workbench keeps them: a newer "last" replaces the older one
      for (const old of ctx.store.listCheckpoints(ctx.runId))
        if (old.path === target || (old.tag === tag && tag !== 'interval')) {
          ctx.store.removeCheckpoint(old.id);
          if (old.path !== target && old.path.startsWith(path.join(ctx.runDir, 'checkpoints', 'py-')))
            rmSync(old.path, { recursive: true, force: true });
        }
      const meta = ctx.store.addCheckpoint(ctx.runId, { epoch, step: line.step, tag, path: target, bytes });
      return [{ event: 'run.checkpoint', payload: meta }];
    };
  } catch (err) {
    ctx.warn(`checkpoint ${line.file} not imported: ${(err as Error).message}`);
    return null;
  }
}
