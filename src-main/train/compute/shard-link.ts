// The shared memory between a trainer and its worker while they take data-parallel steps together
// (shard-step.ts). The trainer computes shards 0..S-2 and the worker the last one; per step:
//   trainer: writes the worker shard's row indices and the step's draw, bumps SEQ, computes its
//            shards, writes the sum of their gradients (its "prefix") and bumps MAIN;
//   worker:  computes its shard, writes its gradients and share of the loss and bumps DONE, waits for MAIN;
//   both:    prefix + worker's gradients, in that order, then the same optimizer update on the same state.
// Gradients are double-buffered by step parity: a side only writes a parity again two steps later, after the
// other side has read it. SEQ and MAIN only grow, and MAIN = seq is stored before the trainer reads DONE = seq,
// so by the time the worker looks for the prefix of its step the trainer may already have handed out the next
// step and stored MAIN = seq + 1 (the worker was descheduled after DONE): MAIN >= seq, not MAIN = seq, says the
// prefix is there (prefixWritten). Each link session has a token: the worker tells READY = token once it holds the
// trainer's state, and the trainer ends the session with ENDED = token and a SEQ bump.
import * as tf from '@tensorflow/tfjs';
import { copyTensorInto, tensorFromView } from '../../kernels/wasm-heap';
import { isWasmAdam } from '../../kernels/wasm-kernels';
import { applyClipped } from '../../vae/optimizer';
import type { ShardParams } from './shard-step';

export const CTRL = { SEQ: 0, DONE: 1, MAIN: 2, READY: 3, ENDED: 4 } as const;
/** Float64 params of a step: stepSeed, klWeight, shard, shards, shardFrom, shardRows, batchRows. */
const PARAMS = 7;
/** Reported scalars after a region's gradients: loss, recon, kl (the shard's share). */
const SCALARS = 3;

export interface ShardBuffers {
  ctrl: SharedArrayBuffer;
  params: SharedArrayBuffer;
  indices: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  /** Weights (and gradient values) per step: the model's parameter count. */
  paramCount: number;
  maxRows: number;
}

export function createShardBuffers(paramCount: number, maxRows: number): ShardBuffers {
  return {
    ctrl: new SharedArrayBuffer(8 * 4),
    params: new SharedArrayBuffer(PARAMS * 8),
    indices: new SharedArrayBuffer(Math.max(1, maxRows) * 4),
    grads: new SharedArrayBuffer(4 * (paramCount + SCALARS) * 4),
    paramCount,
    maxRows,
  };
}

/** Whether the trainer's prefix of step `seq` is in shared memory (MAIN may be past it: see above). */
export function prefixWritten(ctrl: Int32Array, seq: number): boolean {
  return Atomics.load(ctrl, CTRL.MAIN) - seq >= 0;
}

/** Typed views of the buffers, and the regions of one step. */
export class ShardViews {
  readonly ctrl: Int32Array;
  readonly params: Float64Array;
  readonly indices: Int32Array;
  private readonly grads: Float32Array;
  private readonly region: number;

  constructor(readonly buffers: ShardBuffers) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.params = new Float64Array(buffers.params);
    this.indices = new Int32Array(buffers.indices);
    this.grads = new Float32Array(buffers.grads);
    this.region = buffers.paramCount + SCALARS;
  }

  /** The gradients (and scalars) the trainer ('main') or the worker wrote at step `seq`. */
  regionOf(side: 'main' | 'worker', seq: number): Float32Array {
    const at = ((seq & 1) * 2 + (side === 'main' ? 0 : 1)) * this.region;
    return this.grads.subarray(at, at + this.region);
  }

  setParams(p: ShardParams): void {
    this.params.set([p.stepSeed, p.klWeight, p.shard, p.shards, p.shardFrom, p.shardRows, p.batchRows]);
  }

  getParams(): ShardParams {
    const [stepSeed, klWeight, shard, shards, shardFrom, shardRows, batchRows] = Array.from(this.params);
    return {
      stepSeed: stepSeed!,
      klWeight: klWeight!,
      shard: shard!,
      shards: shards!,
      shardFrom: shardFrom!,
      shardRows: shardRows!,
      batchRows: batchRows!,
    };
  }
}

/** Read gradient tensors back into a region (weight order), the reported scalars after them. */
export function writeRegion(region: Float32Array, grads: tf.Tensor[], scalars: tf.Scalar[]): void {
  let at = 0;
  for (const g of grads) {
    copyTensorInto(g, region, at);
    at += g.size;
  }
  for (const s of scalars) region[at++] = s.dataSync()[0]!;
}

/** Tensors of a region's gradients, shaped like `vars` (copies: the region is reused two steps later). */
export function readRegion(region: Float32Array, vars: tf.Variable[]): tf.Tensor[] {
  let at = 0;
  return vars.map((v) => {
    const t = tensorFromView(region.subarray(at, at + v.size), v.shape);
    at += v.size;
    return t;
  });
}

/** The reported scalars of a region (loss, recon, kl). */
export function regionScalars(region: Float32Array, paramCount: number): [number, number, number] {
  return [region[paramCount]!, region[paramCount + 1]!, region[paramCount + 2]!];
}

/**
 * One optimizer update with mine + theirs (theirs: the other side's region), in that order on both sides of a
 * step (float addition is commutative, so trainer and worker reach the same bits). Adam without clipping on wasm
 * adds them inside its one pass, reading theirs through one copy into the heap and making no tensor for the sum;
 * otherwise the region becomes tensors, the sum is taken per weight and applied as usual.
 */
export function applyShardSum(
  optimizer: tf.Optimizer,
  vars: tf.Variable[],
  mine: tf.Tensor[],
  theirs: Float32Array,
  clipNorm: number,
): void {
  if (clipNorm <= 0 && isWasmAdam(optimizer) && optimizer.applyGradientSum(vars, mine, theirs)) return;
  const other = readRegion(theirs, vars);
  const summed = mine.map((g, i) => tf.add(g, other[i]!));
  applyClipped(optimizer, vars, summed, clipNorm);
  tf.dispose([...other, ...summed]);
}
