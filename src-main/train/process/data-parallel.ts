// The trainer's side of data-parallel training: every step cuts the batch into shards (shard-step.ts); while
// a worker is linked (shard-link.ts) it computes the last shard beside the trainer, otherwise the trainer
// computes them all, one after the other, to the same result. Linking sends the worker an exact copy of the
// weights and optimizer state; unlinking (for the worker's evaluations, or when the scheduler takes the core
// back) costs nothing but the rest of the steps on one thread.
import * as tf from '@tensorflow/tfjs';
import type { VaeModel } from '../../vae/model';
import { applyClipped, exportReplicaState } from '../../vae/optimizer';
import type { EvalHelper } from './eval-helper';
import { CTRL, ShardViews, applyShardSum, createShardBuffers, regionScalars, writeRegion, type ShardBuffers } from '../compute/shard-link';
import {
  addGradients,
  gatherBatch,
  shardBounds,
  shardGradients,
  type ShardGradients,
  type ShardParams,
  type StepSpec,
} from '../compute/shard-step';

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
/** How long a linked worker may take over its shard, or to take the trainer's state, before it counts as lost. */
const WORKER_STEP_TIMEOUT_MS = 60_000;
const WORKER_LINK_TIMEOUT_MS = 15_000;

/** Linked steps left out of the judgement after a link (the worker's first steps are slow), then judged in windows of this many. */
const LINK_WARMUP_STEPS = 10;
const LINK_WINDOW_STEPS = 20;
/** Steps run here after a window of linked steps that were no faster than this thread alone (then the link is tried again). */
const LINK_BACKOFF_STEPS = 200;
/** Steps alone (kept: the most recent) that make a measured pace to judge linked steps against. */
const MIN_ALONE_STEPS = 10;
const ALONE_KEPT = 40;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/**
 * Whether linked steps beat this thread alone: the median linked step (shards, exchange, update) against the
 * median of the last steps this thread took alone (all S shards one after the other) when there are enough of
 * them, else against S / (S - 1) times this thread's own shards in the linked steps. False when the other core is
 * busy with someone else's work and the lockstep with the worker only waits. Which thread computes a shard never
 * changes the result, so this only decides where the worker's shard is computed.
 */
export function linkPays(linkedMs: number[], ownShardsMs: number[], shards: number, aloneMs: number[] = []): boolean {
  if (!linkedMs.length || shards < 2) return true;
  if (aloneMs.length >= MIN_ALONE_STEPS) return median(linkedMs) < median(aloneMs);
  if (!ownShardsMs.length) return true;
  return median(linkedMs) < (median(ownShardsMs) * shards) / (shards - 1);
}

/** A float32 array in shared memory (the same one when it already is). */
export function sharedCopy(x: Float32Array): Float32Array {
  if (x.buffer instanceof SharedArrayBuffer) return x;
  const shared = new Float32Array(new SharedArrayBuffer(x.byteLength));
  shared.set(x);
  return shared;
}

/** A shard's draw before its rows are known. */
type BatchDraw = Omit<ShardParams, 'shardFrom' | 'shardRows'>;

/** The batch's mean loss, reconstruction and KL (sums of the shards' shares), for the running sums. */
export type StepValue = { loss: tf.Scalar; recon: tf.Scalar; kl: tf.Scalar };

export class DataParallelSteps {
  private buffersMade: ShardBuffers | null = null;
  private viewsMade: ShardViews | null = null;
  private seq = 0;
  private token = 0;
  private helper: EvalHelper | null = null;
  private job: Promise<void> | null = null;
  /** Steps in which the worker computed a shard. */
  stepsOnWorker = 0;
  /** Why the last link failed (for the log), if it did. */
  lastFailure: string | null = null;
  /** Times linked steps were found slower than this thread alone, and the worker sent away for a while. */
  linkPauses = 0;
  private linkedSteps = 0;
  private linkedMs: number[] = [];
  private ownMs: number[] = [];
  private backoff = 0;
  private aloneMs: number[] = [];

  constructor(
    private readonly model: VaeModel,
    private readonly vars: tf.Variable[],
    private readonly optimizer: tf.Optimizer,
    private readonly spec: StepSpec,
    readonly shards: number,
    private readonly train: { x: Float32Array; d: number },
    private readonly maxRows: number,
  ) {}

  /** The shared memory, made on the first link (a run that never links never pays for it). */
  private get buffers(): ShardBuffers {
    return (this.buffersMade ??= createShardBuffers(
      this.vars.map((v) => v.size),
      this.maxRows,
    ));
  }

  private get views(): ShardViews {
    return (this.viewsMade ??= new ShardViews(this.buffers));
  }

  get linked(): boolean {
    return this.helper !== null;
  }

  /** False for a while after linked steps were found no faster than this thread alone (linkPays): link later. */
  get worthLinking(): boolean {
    return this.backoff === 0;
  }

  /** Hand the worker an exact copy of the trainer's state and wait until it holds it; false when it did not. */
  async link(helper: EvalHelper, dynamicBinarize: boolean): Promise<boolean> {
    if (this.helper || this.shards < 2) return this.linked;
    const { ctrl } = this.views;
    const token = ++this.token;
    const optimizer = await exportReplicaState(this.optimizer, this.model);
    const job = { weights: this.model.namedWeights(), optimizer, buffers: this.buffers, train: this.train, dynamicBinarize, token };
    this.job = helper.train(job).then(
      (steps) => {
        this.stepsOnWorker += steps;
      },
      (err: unknown) => {
        this.lastFailure = (err as Error).message;
      },
    );
    const t0 = Date.now();
    while (Atomics.load(ctrl, CTRL.READY) !== token) {
      if (!helper.ready || Date.now() - t0 > WORKER_LINK_TIMEOUT_MS) {
        this.lastFailure ??= helper.ready ? 'the worker did not take the training state in time' : 'the worker is gone';
        this.end(token);
        return false;
      }
      Atomics.wait(ctrl, CTRL.READY, Atomics.load(ctrl, CTRL.READY), 5);
      await yieldToEventLoop();
    }
    this.helper = helper;
    this.linkedSteps = 0;
    this.linkedMs = [];
    this.ownMs = [];
    return true;
  }

  /** End the worker's loop (it finishes its last update on its own); the next steps run here until a new link. */
  unlink(): void {
    if (!this.helper) return;
    this.helper = null;
    this.end(this.token);
  }

  private end(token: number): void {
    if (!this.viewsMade) return;
    const { ctrl } = this.views;
    Atomics.store(ctrl, CTRL.ENDED, token);
    Atomics.add(ctrl, CTRL.SEQ, 1);
    this.seq = Atomics.load(ctrl, CTRL.SEQ);
    Atomics.notify(ctrl, CTRL.SEQ);
  }

  /** Until the worker's train job has returned (its replica state is no longer needed). */
  async settled(): Promise<void> {
    await this.job;
  }

  /** One optimizer step on the train rows `index`; returns the batch's reported values (the caller disposes them). */
  async step(index: Int32Array, stepSeed: number, klWeight: number): Promise<StepValue> {
    const t0 = performance.now();
    if (!this.helper && this.backoff > 0) this.backoff--;
    const bounds = shardBounds(index.length, this.shards);
    const S = bounds.length;
    const base = { stepSeed, klWeight, shards: S, batchRows: index.length };
    const remote = this.helper !== null && S >= 2 ? bounds[S - 1]! : null;
    let seq = 0;
    if (remote) {
      const { ctrl } = this.views;
      this.views.indices.set(index.subarray(remote.from, remote.to));
      this.views.setParams({ ...base, shard: S - 1, shardFrom: remote.from, shardRows: remote.to - remote.from });
      seq = ++this.seq;
      Atomics.store(ctrl, CTRL.SEQ, seq);
      Atomics.notify(ctrl, CTRL.SEQ);
    }
    const local = remote ? bounds.slice(0, S - 1) : bounds;
    let sum: tf.Tensor[] | null = null;
    const shares: tf.Scalar[][] = [];
    for (const [s, b] of local.entries()) {
      const g = this.localShard(index, b, { ...base, shard: s });
      shares.push([g.loss, g.recon, g.kl]);
      sum = this.accumulate(sum, g.grads);
    }
    const clipNorm = this.spec.config.optimizer.clipNorm;
    let applied = false;
    const tOwn = performance.now() - t0;
    if (remote) {
      writeRegion(this.views.regionOf('main', seq), this.views.layout, sum!, []);
      Atomics.store(this.views.ctrl, CTRL.MAIN, seq);
      Atomics.notify(this.views.ctrl, CTRL.MAIN);
      const theirs = await this.remoteShard(seq, index, remote, { ...base, shard: S - 1 });
      shares.push([theirs.loss, theirs.recon, theirs.kl]);
      if ('region' in theirs) {
        // prefix + the worker's gradients, summed inside the update (the worker does the same with the two swapped)
        applyShardSum(this.optimizer, this.vars, sum!, theirs.region, this.views.layout, clipNorm);
        applied = true;
      } else sum = this.accumulate(sum, theirs.grads);
    }
    if (!applied) applyClipped(this.optimizer, this.vars, sum!, clipNorm);
    tf.dispose(sum!);
    if (remote && this.helper) this.judgeLink(performance.now() - t0, tOwn, S);
    else if (!remote && S >= 2) this.aloneMs = [...this.aloneMs.slice(1 - ALONE_KEPT), performance.now() - t0];
    const value = tf.tidy(() => {
      // (a new tensor even for one shard: the shares are disposed below)
      const total = (i: number) => shares.map((v) => v[i]!).reduce((a, b) => tf.add(a, b), tf.scalar(0)) as tf.Scalar;
      return { loss: total(0), recon: total(1), kl: total(2) };
    });
    tf.dispose(shares.flat());
    return value;
  }

  /** Record a linked step (ms in all, ms of this thread's shards); after each window, send the worker away if it did not pay. */
  private judgeLink(stepMs: number, ownMs: number, shards: number): void {
    if (++this.linkedSteps <= LINK_WARMUP_STEPS) return;
    this.linkedMs.push(stepMs);
    this.ownMs.push(ownMs);
    if (this.linkedMs.length < LINK_WINDOW_STEPS) return;
    const pays = linkPays(this.linkedMs, this.ownMs, shards, this.aloneMs);
    this.linkedMs = [];
    this.ownMs = [];
    if (pays) return;
    this.linkPauses++;
    this.backoff = LINK_BACKOFF_STEPS;
    this.unlink();
  }

  private localShard(index: Int32Array, b: { from: number; to: number }, p: BatchDraw): ShardGradients {
    const xb = gatherBatch(this.train.x, this.train.d, index.subarray(b.from, b.to));
    try {
      return shardGradients(this.model, this.vars, this.spec, xb, { ...p, shardFrom: b.from, shardRows: b.to - b.from });
    } finally {
      xb.dispose();
    }
  }

  /** sum + grads in weight order (both disposed), or grads themselves first. */
  private accumulate(sum: tf.Tensor[] | null, grads: tf.Tensor[]): tf.Tensor[] {
    if (!sum) return grads;
    const next = addGradients(sum, grads);
    tf.dispose([...sum, ...grads]);
    return next;
  }

  /** The worker's shard of step `seq` (its region of shared memory); computed here when the worker is lost (then unlinked). */
  private async remoteShard(
    seq: number,
    index: Int32Array,
    b: { from: number; to: number },
    p: BatchDraw,
  ): Promise<ShardGradients | (Omit<ShardGradients, 'grads'> & { region: Float32Array })> {
    const { ctrl } = this.views;
    const t0 = Date.now();
    let lastYield = t0;
    for (;;) {
      const done = Atomics.load(ctrl, CTRL.DONE);
      if (done === seq) break;
      Atomics.wait(ctrl, CTRL.DONE, done, 20);
      if (Date.now() - lastYield < 20) continue;
      await yieldToEventLoop(); // the worker's exit or error events, the trainer's cancel
      lastYield = Date.now();
      if (!this.helper?.ready || Date.now() - t0 > WORKER_STEP_TIMEOUT_MS) {
        this.lastFailure ??= this.helper?.ready ? 'the worker took too long over its shard' : 'the worker is gone';
        this.unlink();
        return this.localShard(index, b, p);
      }
    }
    const region = this.views.regionOf('worker', seq);
    const [loss, recon, kl] = regionScalars(region, this.views.layout);
    return { region, loss: tf.scalar(loss), recon: tf.scalar(recon), kl: tf.scalar(kl) };
  }
}
