// A checkpoint on disk while training: one directory with checkpoint.json (metadata + tensor index) and
// tensors.bin (little-endian float32, concatenated in index order). Written atomically: a temporary
// directory beside the target is filled, fsynced and renamed, so a crash never leaves half a checkpoint.
import { processStartToken } from '../os/process-identity';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, mkdirSync, writeSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '@shared/run-config';
import { ApiError } from '@shared/errors';

/** This writer's identity in temporary names: "<pid>" or "<pid>.<start time>" (see store/process-identity.ts). */
const WRITER = ((token) => (token ? `${process.pid}.${token}` : String(process.pid)))(processStartToken());

export const CHECKPOINT_FORMAT = 'vae-workbench-checkpoint/1';

// The tensors a model and its optimizer save are defined by the model layer (vae/); checkpoints store them.
import type { NamedTensor, OptimizerState } from '../vae/named-tensor';
export type { NamedTensor, OptimizerState } from '../vae/named-tensor';

export interface CheckpointContents {
  runId: number;
  epoch: number;
  step: number;
  config: RunConfig;
  /** Model weights, plus any extra state a model kind needs (gmm: means, log variances, log weights). */
  weights: NamedTensor[];
  optimizer: OptimizerState | null;
  metrics: Record<string, number>;
  backend: string;
  createdAt: number;
}

interface IndexEntry {
  name: string;
  shape: number[];
  offset: number;
  length: number;
  group: 'weights' | 'optimizer';
}

interface CheckpointJson extends Omit<CheckpointContents, 'weights' | 'optimizer'> {
  format: string;
  optimizer: { name: string; iterations: number } | null;
  tensors: IndexEntry[];
  sha256: string;
}

export class CheckpointError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'CheckpointError';
  }
}

function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Write a checkpoint directory atomically; returns its size in bytes. Overwrites an existing one at `dir`. */
export function writeCheckpointDir(dir: string, contents: CheckpointContents): number {
  const tensors: IndexEntry[] = [];
  const all = [
    ...contents.weights.map((t) => ({ t, group: 'weights' as const })),
    ...(contents.optimizer?.slots ?? []).map((t) => ({ t, group: 'optimizer' as const })),
  ];
  for (const { t } of all)
    if (t.data.length !== product(t.shape))
      throw new CheckpointError(`tensor ${t.name}: ${t.data.length} values do not fill shape [${t.shape.join(', ')}]`);
  // one copy of every tensor, into the file's bytes (a source may be a view into wasm memory)
  const bin = Buffer.allocUnsafe(all.reduce((n, { t }) => n + t.data.byteLength, 0));
  let offset = 0;
  for (const { t, group } of all) {
    bin.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), offset);
    tensors.push({ name: t.name, shape: t.shape, offset, length: t.data.length, group });
    offset += t.data.byteLength;
  }
  const json: CheckpointJson = {
    format: CHECKPOINT_FORMAT,
    runId: contents.runId,
    epoch: contents.epoch,
    step: contents.step,
    config: contents.config,
    metrics: contents.metrics,
    backend: contents.backend,
    createdAt: contents.createdAt,
    optimizer: contents.optimizer ? { name: contents.optimizer.name, iterations: contents.optimizer.iterations } : null,
    tensors,
    sha256: createHash('sha256').update(bin).digest('hex'),
  };
  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  // The writer's pid is in the name, so a later start can tell a dead process's leftover from a write in progress.
  const tmp = path.join(parent, `.tmp-${path.basename(dir)}-p${WRITER}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  try {
    writeFileSynced(path.join(tmp, 'tensors.bin'), bin);
    writeFileSynced(path.join(tmp, 'checkpoint.json'), Buffer.from(JSON.stringify(json)));
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return bin.byteLength + statSync(path.join(dir, 'checkpoint.json')).size;
}

function writeFileSynced(file: string, data: Buffer): void {
  const fd = openSync(file, 'w');
  try {
    let written = 0;
    while (written < data.byteLength) written += writeSync(fd, data, written, data.byteLength - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Read and verify a checkpoint directory (format, checksum, tensor sizes). */
export function readCheckpointDir(dir: string): CheckpointContents {
  let json: CheckpointJson;
  try {
    json = JSON.parse(readFileSync(path.join(dir, 'checkpoint.json'), 'utf8')) as CheckpointJson;
  } catch (err) {
    throw new CheckpointError(`checkpoint ${dir}: cannot read checkpoint.json (${(err as Error).message})`);
  }
  if (json.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`checkpoint ${dir}: unknown format "${String(json.format)}"`);
  let bin: Buffer;
  try {
    bin = readFileSync(path.join(dir, 'tensors.bin'));
  } catch (err) {
    throw new CheckpointError(`checkpoint ${dir}: cannot read tensors.bin (${(err as Error).message})`);
  }
  const sha = createHash('sha256').update(bin).digest('hex');
  if (sha !== json.sha256) throw new CheckpointError(`checkpoint ${dir}: tensors.bin is corrupt (checksum mismatch)`);
  const weights: NamedTensor[] = [];
  const slots: NamedTensor[] = [];
  for (const e of json.tensors) {
    if (e.length !== product(e.shape) || e.offset + e.length * 4 > bin.byteLength)
      throw new CheckpointError(`checkpoint ${dir}: tensor ${e.name} does not fit its shape or the file`);
    const data = new Float32Array(e.length);
    Buffer.from(data.buffer).set(bin.subarray(e.offset, e.offset + e.length * 4));
    (e.group === 'optimizer' ? slots : weights).push({ name: e.name, shape: e.shape, data });
  }
  return {
    runId: json.runId,
    epoch: json.epoch,
    step: json.step,
    config: json.config,
    metrics: json.metrics,
    backend: json.backend,
    createdAt: json.createdAt,
    weights,
    optimizer: json.optimizer ? { ...json.optimizer, slots } : null,
  };
}
