// The shared memory between a trainer and its worker while they take data-parallel steps together
// (shard-step.ts). The trainer computes shards 0..S-2 and the worker the last one; per step:
//   trainer: writes the worker shard's row indices and the step's draw, bumps SEQ, computes its
//            shards, writes the sum of their gradients (its "prefix") and bumps MAIN;
//   worker:  computes its shard, writes its gradients and share of the loss and bumps DONE, waits for MAIN;
//   both:    prefix + worker's gradients, in that order, then the same optimizer update on the same state.
// Every region, and every weight's gradients in it, starts 16-byte aligned (regionLayout): a copy between shared
// memory and the wasm heap is ~3x slower when the two addresses differ mod 8 (measured: 0.55 against 0.18 ms for
// 2.6 MB; presumably V8's copy of shared memory, made of relaxed atomic accesses, goes a word at a time only when
// both sides are word-aligned: not confirmed in its source). Unaligned, the worker's region of a 784-400-20 step took 1.3 ms to read and 0.7 to write, the
// trainer's 0.3 each.
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

/** Where a region holds each weight's gradients and the scalars (float offsets, each a multiple of 4), and its length (a multiple of 16). */
export interface RegionLayout {
  offsets: number[];
  scalarsAt: number;
  length: number;
}

export function regionLayout(weightSizes: number[]): RegionLayout {
  const up = (n: number, k: number) => Math.ceil(n / k) * k;
  let at = 0;
  const offsets = weightSizes.map((size) => {
    const here = at;
    at = up(at + size, 4);
    return here;
  });
  return { offsets, scalarsAt: at, length: up(at + SCALARS, 16) };
}

export interface ShardBuffers {
  ctrl: SharedArrayBuffer;
  params: SharedArrayBuffer;
  indices: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  /** Where each weight's gradients lie in a region (the model's weights in order). */
  layout: RegionLayout;
  maxRows: number;
}

export function createShardBuffers(weightSizes: number[], maxRows: number): ShardBuffers {
  const layout = regionLayout(weightSizes);
  return {
    ctrl: new SharedArrayBuffer(8 * 4),
    params: new SharedArrayBuffer(PARAMS * 8),
    indices: new SharedArrayBuffer(Math.max(1, maxRows) * 4),
    grads: new SharedArrayBuffer(4 * layout.length * 4),
    layout,
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
  readonly layout: RegionLayout;

  constructor(readonly buffers: ShardBuffers) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.params = new Float64Array(buffers.params);
    this.indices = new Int32Array(buffers.indices);
    this.grads = new Float32Array(buffers.grads);
    this.layout = buffers.layout;
    this.region = buffers.layout.length;
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

/** Read gradient tensors back into a region (weight order, at the layout's offsets), the reported scalars after them. */
export function writeRegion(region: Float32Array, layout: RegionLayout, grads: tf.Tensor[], scalars: tf.Scalar[]): void {
  grads.forEach((g, i) => copyTensorInto(g, region, layout.offsets[i]!));
  let at = layout.scalarsAt;
  for (const s of scalars) region[at++] = s.dataSync()[0]!;
}

/** Tensors of a region's gradients, shaped like `vars` (copies: the region is reused two steps later). */
export function readRegion(region: Float32Array, layout: RegionLayout, vars: tf.Variable[]): tf.Tensor[] {
  return vars.map((v, i) => {
    const at = layout.offsets[i]!;
    return tensorFromView(region.subarray(at, at + v.size), v.shape);
  });
}

/** The reported scalars of a region (loss, recon, kl). */
export function regionScalars(region: Float32Array, layout: RegionLayout): [number, number, number] {
  const at = layout.scalarsAt;
  return [region[at]!, region[at + 1]!, region[at + 2]!];
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
  layout: RegionLayout,
  clipNorm: number,
): void {
  if (clipNorm <= 0 && isWasmAdam(optimizer) && optimizer.applyGradientSum(vars, mine, theirs, layout.offsets)) return;
  const other = readRegion(theirs, layout, vars);
  const summed = mine.map((g, i) => tf.add(g, other[i]!));
  applyClipped(optimizer, vars, summed, clipNorm);
  tf.dispose([...other, ...summed]);
}
