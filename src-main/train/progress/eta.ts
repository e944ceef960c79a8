// The time left in a run, for the progress bar: the training steps still to run plus every evaluation,
// snapshot and checkpoint still to come (the final -log p(x) with its large sample budget often costs
// more than the training). Costs are measured as the run goes; before the first measurement of a kind
// they are estimated from the training speed (priors below, measured on the reference run).
import type { RunConfig } from '@shared/run-config';

export type WorkItem = 'eval' | 'finalEval' | 'fid' | 'snapshots' | 'checkpoint';
const ITEMS: WorkItem[] = ['eval', 'finalEval', 'fid', 'snapshots', 'checkpoint'];

/** Priors, in training-sample times (measured on the reference run): an ELBO forward pass per example, one decoder pass of the IW NLL, ... */
const ELBO_PER_EXAMPLE = 0.35;
/** One thread's decoder pass against a training sample at the run's pace: 0.106-0.121 in four benches (2026-12-03). */
const NLL_PER_DECODED = 0.12;
/**
 * ... one round of snapshots, one checkpoint, the Frechet distance (2 x 2,000 images through the feature classifier)
 * and, the first time on a dataset, the fit of that classifier.
 */
const SNAPSHOT_SAMPLES = 300;
const CHECKPOINT_SAMPLES = 100;
/** 0.38-0.45 s at 0.36 ms a training sample (reference run, wasm, 2 threads: 2026-12-03). */
const FID_SAMPLES = 1200;
const FID_FIT_SAMPLES = 6000;

export interface EtaPlan {
  totalSteps: number;
  batchSize: number;
  /** How many of each work item the run will do from here on. */
  planned: Record<WorkItem, number>;
  /** Examples an evaluation runs the ELBO over (test + validation). */
  evalExamples: number;
  /** Decoder passes of the intermediate and of the final -log p(x). */
  intermediateNllDecoded: number;
  finalNllDecoded: number;
  /** The FID's feature classifier is not cached yet: the run fits it. */
  fidFit: boolean;
}

/** The plan of a run that starts (or resumes) at `step` in `startEpoch`. */
export function planRun(
  config: RunConfig,
  o: {
    step: number;
    startEpoch: number;
    stepsPerEpoch: number;
    totalSteps: number;
    batchSize: number;
    evalExamples: number;
    fid: boolean;
    fidFit?: boolean;
    intermediateNllDecoded: number;
    finalNllDecoded: number;
  },
): EtaPlan {
  const epochsLeft = Math.max(1, Math.min(config.training.epochs - o.startEpoch, Math.ceil((o.totalSteps - o.step) / o.stepsPerEpoch)));
  const planned: Record<WorkItem, number> = { eval: 0, finalEval: 1, fid: o.fid ? 1 : 0, snapshots: 1, checkpoint: 1 };
  const every = config.checkpoints.everyEpochs;
  for (let e = o.startEpoch; e < o.startEpoch + epochsLeft; e++) {
    const last = e === o.startEpoch + epochsLeft - 1;
    if (every > 0 && (e + 1) % every === 0) planned.checkpoint++;
    if (last) continue;
    if ((e + 1) % config.eval.everyEpochs === 0) planned.eval++;
    if ((e + 1) % config.snapshots.everyEpochs === 0) planned.snapshots++;
  }
  return {
    totalSteps: o.totalSteps,
    batchSize: o.batchSize,
    planned,
    evalExamples: o.evalExamples,
    intermediateNllDecoded: o.intermediateNllDecoded,
    finalNllDecoded: o.finalNllDecoded,
    fidFit: !!o.fidFit,
  };
}

export class EtaModel {
  private readonly done = new Map<WorkItem, number>();
  private readonly spentMs = new Map<WorkItem, number>();
  /** The item running now; `besideMs`/`besideSince`: time spent on other work inside it (not its own progress). */
  private running: { item: WorkItem; since: number; fraction: number; besideMs: number; besideSince: number | null } | null = null;
  /** What the evaluations so far measured, summed: their rates over all of them, not the last one (a short -log p(x) of a few thousand decoder passes beside training varies by 30 % from one epoch to the next). */
  private readonly measured = { elboMs: 0, examples: 0, nllMs: 0, decoded: 0 };
  /** Threads the final -log p(x) runs on (2 with an evaluation worker), and whether test evaluations run off the critical path. */
  private nllThreads = 1;
  private evalOffloaded = false;

  constructor(
    private readonly plan: EtaPlan,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Run fn as one work item, timed. An item inside another (a best checkpoint inside an evaluation) counts as part of it. */
  async item<T>(item: WorkItem, fn: () => T | Promise<T>): Promise<T> {
    if (this.running) return await fn();
    this.running = { item, since: this.now(), fraction: 0, besideMs: 0, besideSince: null };
    try {
      return await fn();
    } finally {
      const ms = this.now() - this.running!.since;
      this.running = null;
      this.done.set(item, (this.done.get(item) ?? 0) + 1);
      this.spentMs.set(item, (this.spentMs.get(item) ?? 0) + ms);
    }
  }

  /**
   * An item done inside the running one (the FID beside the final -log p(x)): its time counts for the outer item,
   * but not toward the outer item's own rate of progress; once done it is no longer to come.
   */
  async inside<T>(item: WorkItem, fn: () => Promise<T>): Promise<T> {
    const outer = this.running;
    if (outer) outer.besideSince = this.now();
    try {
      return await fn();
    } finally {
      if (outer && outer.besideSince !== null) {
        outer.besideMs += this.now() - outer.besideSince;
        outer.besideSince = null;
      }
      this.done.set(item, (this.done.get(item) ?? 0) + 1);
    }
  }

  /** How much of the running item is done (an evaluation reports it batch by batch). */
  itemFraction(fraction: number): void {
    if (this.running && Number.isFinite(fraction)) this.running.fraction = Math.min(1, Math.max(0, fraction));
  }

  /** Whether the FID's classifier fit is still to come on the training thread (false once the worker took it over). */
  setFidFit(on: boolean): void {
    this.plan.fidFit = on;
  }

  /** With an evaluation worker: per-epoch test evaluations cost the training thread (almost) nothing, the final one is shared. */
  useWorker(on: boolean): void {
    this.nllThreads = on ? 2 : 1;
    this.evalOffloaded = on;
  }

  /** What an evaluation measured: the rates the final evaluation is predicted from. */
  observeEval(r: { n: number; elboMs: number; nllMs: number; nllDecoded: number }): void {
    const m = this.measured;
    if (r.n > 0 && r.elboMs > 0) {
      m.elboMs += r.elboMs;
      m.examples += r.n;
    }
    if (r.nllDecoded >= 1000 && r.nllMs > 0) {
      m.nllMs += r.nllMs;
      m.decoded += r.nllDecoded;
    }
  }

  /** Milliseconds one item of this kind is expected to take, given the training time per sample. */
  estimateMs(item: WorkItem, msPerSample: number): number {
    const n = this.done.get(item) ?? 0;
    if (n > 0 && item !== 'finalEval') return this.spentMs.get(item)! / n;
    if (item === 'eval' && this.evalOffloaded) return 0;
    const m = this.measured;
    const elbo = this.plan.evalExamples * (m.examples > 0 ? m.elboMs / m.examples : ELBO_PER_EXAMPLE * msPerSample);
    switch (item) {
      case 'eval':
        return elbo + this.nllMs(this.plan.intermediateNllDecoded, msPerSample);
      case 'finalEval':
        return elbo + this.nllMs(this.plan.finalNllDecoded, msPerSample) / this.nllThreads;
      case 'fid':
        return (FID_SAMPLES + (this.plan.fidFit ? FID_FIT_SAMPLES : 0)) * msPerSample;
      case 'snapshots':
        return SNAPSHOT_SAMPLES * msPerSample;
      case 'checkpoint':
        return CHECKPOINT_SAMPLES * msPerSample;
    }
  }

  /** One thread's milliseconds for `decoded` decoder passes of the -log p(x). */
  private nllMs(decoded: number, msPerSample: number): number {
    const m = this.measured;
    return decoded * (m.decoded > 0 ? m.nllMs / m.decoded : NLL_PER_DECODED * msPerSample);
  }

  /**
   * What the FID adds to the wall time. With a worker, the trainer computes it beside the final -log p(x) while the
   * worker works through that estimate's batches, which both threads then finish: (nll + fid) / 2 instead of
   * nll / 2 + fid, unless the FID outlasts the worker's whole share.
   */
  private fidWallMs(msPerSample: number): number {
    const fid = this.estimateMs('fid', msPerSample);
    const finalToCome = (this.done.get('finalEval') ?? 0) < this.plan.planned.finalEval;
    if (this.nllThreads < 2 || !finalToCome) return fid;
    const nllWall = this.nllMs(this.plan.finalNllDecoded, msPerSample) / this.nllThreads;
    return Math.max(fid - nllWall, fid / 2);
  }

  /** Seconds left, or null before the training speed is known. */
  remainingSeconds(step: number, msPerStep: number | null): number | null {
    if (msPerStep === null || !Number.isFinite(msPerStep) || msPerStep <= 0) return null;
    const msPerSample = msPerStep / this.plan.batchSize;
    let ms = Math.max(0, this.plan.totalSteps - step) * msPerStep;
    for (const item of ITEMS) {
      const left = this.plan.planned[item] - (this.done.get(item) ?? 0) - (this.running?.item === item ? 1 : 0);
      if (left > 0) ms += left * (item === 'fid' ? this.fidWallMs(msPerSample) : this.estimateMs(item, msPerSample));
    }
    if (this.running) {
      // The running item: from its own progress once it has some (its rate so far), else from the estimate.
      const { fraction, besideMs, besideSince } = this.running;
      const now = this.now();
      // its own time so far: without the work beside it (that item's estimate is counted above until it is done)
      const elapsed = now - this.running.since - besideMs - (besideSince !== null ? now - besideSince : 0);
      const est = this.estimateMs(this.running.item, msPerSample);
      ms += fraction >= 0.05 && elapsed >= 200 ? (elapsed * (1 - fraction)) / fraction : Math.max(0.02 * est, est - elapsed);
    }
    return ms / 1000;
  }
}
