// The trainer's handle on its worker (eval-worker.ts): started on an idle core, it takes a shard of the
// data-parallel training steps, evaluates snapshots of the weights off the training critical path and shares
// the final -log p(x) with the trainer. Any failure of the worker (not built, its backend would not start, a crash) only turns it
// off: the trainer then evaluates on its own thread, as it does when no core is idle.
import { Worker } from 'node:worker_threads';
import type { MetricPoint } from '@shared/model-types';
import { builtEntry } from '../../os/built-entry';
import type { NamedTensor } from '../../vae/named-tensor';
import type { EvalResult, NllShare } from '../../vae/evaluate';
import type { EvalDone, EvalJob, EvalJobOptions, EvalReply, EvalWorkerInit } from '../worker/eval-messages';
import type { ShardReplicaJob } from '../worker/shard-replica';

type Pending = { resolve: (r: EvalDone) => void; reject: (e: Error) => void };

/** Jobs that need the whole weights: send each its own copy (moved to the worker, not cloned). */
function transferable(weights: NamedTensor[]): ArrayBuffer[] {
  return weights.map((w) => w.data.buffer as ArrayBuffer);
}

export class EvalHelper {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: string | null = null;
  private started = false;

  /** Start the worker, or null when its entry is not built. */
  static start(init: EvalWorkerInit, onDeath: (reason: string) => void): EvalHelper | null {
    const entry = builtEntry('eval-worker.js');
    return entry ? new EvalHelper(entry, init, onDeath) : null;
  }

  private constructor(entry: string, init: EvalWorkerInit, onDeath: (reason: string) => void) {
    this.worker = new Worker(entry, { workerData: init });
    this.worker.unref(); // never keeps the trainer alive
    const die = (reason: string) => {
      if (this.dead) return;
      this.dead = reason;
      for (const p of this.pending.values()) p.reject(new Error(reason));
      this.pending.clear();
      onDeath(reason);
    };
    this.worker.on('message', (r: EvalReply) => {
      if (r.id === 0) {
        if (!r.ok) die(`the evaluation worker could not start its backend: ${r.error}`);
        else this.started = true;
        return;
      }
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (r.ok) p?.resolve(r as EvalDone);
      else p?.reject(new Error(r.error));
    });
    this.worker.on('error', (err) => die(`the evaluation worker failed: ${err.message}`));
    this.worker.on('exit', (code) => die(`the evaluation worker exited (code ${code})`));
    // A reply that cannot be deserialized names no job: everything pending fails and the worker is ended.
    this.worker.on('messageerror', (err) => {
      die(`the evaluation worker's reply could not be read: ${err.message}`);
      void this.worker.terminate();
    });
  }

  /** True once the worker's backend is up, false again once it has failed or was closed (work then stays on the caller's thread). */
  get ready(): boolean {
    return this.started && this.dead === null;
  }

  private send(job: EvalJob, transfer: ArrayBuffer[]): Promise<EvalDone> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    return new Promise((resolve, reject) => {
      this.pending.set(job.id, { resolve, reject });
      this.worker.postMessage(job, transfer);
    });
  }

  /** Work through the shared -log p(x) batches beside the caller (weights: a copy the worker takes over). */
  async nll(weights: NamedTensor[], share: NllShare, opts: { iwSamples: number; seed: number }): Promise<void> {
    await this.send({ id: this.nextId++, type: 'nll', weights, share, ...opts }, transferable(weights));
  }

  /** A whole test evaluation of these weights (a copy the worker takes over), as points at `at`. */
  async test(
    weights: NamedTensor[],
    options: EvalJobOptions,
    at: { step: number; epoch: number; time: number },
  ): Promise<{ points: MetricPoint[]; result: EvalResult }> {
    const r = await this.send({ id: this.nextId++, type: 'test', weights, options, at }, transferable(weights));
    return { points: r.points ?? [], result: r.result! };
  }

  /** Fit the FID's feature classifier into cacheDir (train.x: best in shared memory, else it is copied). */
  async fitFid(job: {
    datasetId: string;
    train: { x: Float32Array; y: Int32Array | null; n: number };
    d: number;
    cacheDir: string;
    seed: number;
  }): Promise<void> {
    await this.send({ id: this.nextId++, type: 'fidFit', ...job }, []);
  }

  /** Serve data-parallel steps (shard-link.ts) from this state until ended; resolves with the steps it took part in. */
  async train(job: ShardReplicaJob): Promise<number> {
    const r = await this.send({ id: this.nextId++, type: 'train', ...job }, transferable(job.weights));
    return r.steps ?? 0;
  }

  async close(): Promise<void> {
    this.dead ??= 'closed';
    for (const p of this.pending.values()) p.reject(new Error('closed'));
    this.pending.clear();
    await this.worker.terminate();
  }
}
