// The evaluation worker's coordination, hung on the training loop: the worker (eval-helper.ts) is started when the
// scheduler gives the run an idle core and it has a test split; before each step it is linked for the data-parallel
// steps while it is free and the core still the run's, or unlinked when the core is taken back; the first run on a
// dataset fits the FID's feature classifier on it while training runs. The test evaluations it runs are started by
// the evaluator (evaluation.ts), which marks it busy meanwhile.
import { fidCacheDir } from './run-steps';
import { sharedFdFitSplit, trainsOnWholeSplit } from './fd-fit-split';
import { FD_CLASSIFIER_SEED } from '../../vae/fid';
import { EvalHelper } from './eval-helper';
import type { DataParallelSteps } from './data-parallel';
import type { LoopCallback } from './loop-callback';
import type { RunState } from './run-state';

/** Link attempts that may fail before the run stops trying (its steps then run on this thread). */
const MAX_LINK_FAILURES = 3;

export class EvalWorkerCallback implements LoopCallback {
  /** The worker (null: none, or it failed). */
  helper: EvalHelper | null = null;
  /** A test evaluation is running on the worker. */
  testBusy = false;
  private started = false;
  private linkFailures = 0;
  /** The FID's feature classifier: nothing to do before the FID (cached, fitted on the worker, or no FID), still to fit, or being fitted on the worker. */
  private fidFit: 'none' | 'needed' | 'running';
  /** The worker's fit of the feature classifier (it never rejects). */
  pendingFidFit: Promise<void> | null = null;

  constructor(
    private readonly run: RunState,
    private readonly parallel: DataParallelSteps | null,
    fidFitNeeded: boolean,
  ) {
    this.fidFit = fidFitNeeded ? 'needed' : 'none';
  }

  private log(level: 'info' | 'warn', message: string): void {
    this.run.steps.log(level, message);
  }

  /** The evaluation worker, when the scheduler gives this run an idle core and there is a test split. */
  start(): void {
    const { ctx, config, data, dataset, shape, eta } = this.run;
    if (this.helper || this.started || (ctx.idleCores?.() ?? 0) < 1 || data.test.n === 0) return;
    this.started = true; // one worker per run: after a failure it evaluates on its own thread
    try {
      const test = { x: data.test.x, n: data.test.n };
      const init = { backend: ctx.backend, config, shape, datasetKind: dataset.descriptor.kind, test, testSources: dataset.testSources };
      this.helper = EvalHelper.start(init, (reason) => {
        eta.useWorker(false);
        if (reason !== 'closed') this.log('warn', `${reason}; evaluating on the training thread from now on`);
      });
    } catch (err) {
      this.log('warn', `no evaluation worker (${(err as Error).message}); evaluating on the training thread`);
    }
    if (!this.helper) return;
    eta.useWorker(true);
    this.log('info', 'evaluation worker started on an idle core: test evaluations run beside training, the final -log p(x) on both');
  }

  /** Whether the evaluation worker may work now (its backend is up, and the scheduler still gives this run a core). */
  usable(): boolean {
    this.start(); // a core may have become idle since the run started
    return this.helper !== null && this.helper.ready && (this.run.ctx.idleCores?.() ?? 0) >= 1;
  }

  /** Whether the coming steps are expected to run with the worker linked (the pace the ETA extrapolates). */
  expectLinked(): boolean {
    const p = this.parallel;
    return p !== null && p.shards > 1 && this.linkFailures < MAX_LINK_FAILURES && this.helper !== null && this.usable();
  }

  /** Link the worker for data-parallel steps when it is free and the core still ours; unlink when the core is taken back. */
  async beforeStep(): Promise<void> {
    this.startFidFit();
    const parallel = this.parallel;
    if (!parallel || parallel.shards < 2 || this.linkFailures >= MAX_LINK_FAILURES) return;
    // worthLinking: linked steps measured slower than this thread alone send the worker away for a while
    const usable = !this.testBusy && this.fidFit !== 'running' && this.usable() && parallel.worthLinking;
    if (parallel.linked && !usable) parallel.unlink();
    else if (!parallel.linked && usable && !(await parallel.link(this.helper!, this.run.data.dynamicBinarize))) {
      this.linkFailures++;
      this.log('warn', `data-parallel: could not link the worker (${parallel.lastFailure}); this step's shards run here`);
    }
  }

  /**
   * The first run on a dataset fits the FID's feature classifier on the worker while it trains, not after its last
   * epoch (when the training split is in shared memory: data-parallel runs; else at the end, as without a worker).
   */
  private startFidFit(): void {
    const { ctx, config, data, dataset, eta } = this.run;
    // only when the worker can read the training split where it is (shared for the data-parallel steps), never a copy
    if (this.fidFit !== 'needed' || this.testBusy || !(data.train.x.buffer instanceof SharedArrayBuffer) || !this.usable()) return;
    this.fidFit = 'running';
    this.parallel?.unlink(); // the worker takes jobs after its training loop
    eta.setFidFit(false);
    // the classifier fits on the whole training split (loaded and shared once when the run trains on part of it)
    const whole = trainsOnWholeSplit(data, config) ? Promise.resolve(data.train) : sharedFdFitSplit(data, config, ctx.dataHome);
    const cacheDir = fidCacheDir(ctx.dataHome);
    const fit = (split: typeof data.train) =>
      this.helper!.fitFid({
        datasetId: dataset.descriptor.id,
        train: { x: split.x, y: split.y, n: split.n },
        d: data.d,
        cacheDir,
        seed: FD_CLASSIFIER_SEED,
      });
    this.pendingFidFit = whole.then(fit).then(
      () => {
        this.fidFit = 'none';
        this.log(
          'info',
          'classifier FD: the feature classifier of this dataset was fitted on the worker while training ran (cached for later runs)',
        );
      },
      (err: unknown) => {
        this.fidFit = 'none'; // the FID at the end fits it on this thread
        eta.setFidFit(true);
        if ((err as Error).message !== 'closed')
          this.log(
            'warn',
            `classifier FD: fitting the feature classifier on the worker failed (${(err as Error).message}); fitting it at the end`,
          );
      },
    );
  }

  /** End the worker's data-parallel loop (it takes evaluation jobs after it); the next step links it again when free. */
  parallelUnlink(): void {
    this.parallel?.unlink();
  }

  async close(): Promise<void> {
    await this.helper?.close().catch(() => undefined);
  }
}
