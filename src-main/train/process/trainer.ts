// The training loop of one VAE-family run, inside the trainer process (the shape of pythae's BaseTrainer with
// Lightning's callbacks): run-setup.ts loads the data and the model and plans the run; the loop runs the epochs, each a pass of
// optimizer steps (the step function: step-function.ts, or its data-parallel form) followed by the evaluation
// (evaluation.ts), the snapshots (snapshots.ts) and the interval checkpoint (checkpointing.ts); finish() is the end
// of the run. Progress and ETA, the evaluation worker and early stopping hang on it as LoopCallbacks
// (loop-callback.ts); the loss is logged through loss-log.ts; everything is reported as TrainerEvents (run-steps.ts).
// Hot path rules: no read-back of the loss between log points, noise made in-graph from seeds derived from the run
// seed and the step, every tensor disposed.
import type { RunConfig } from '@shared/run-config';
import { deriveSeed, seededPermutation, SEED_STREAM } from '../../vae/seeds';
import type { TrainingContext } from '../common/messages';
import { resolveShards } from '../compute/shard-step';
import { perfPoints, PhaseClock } from '../progress/phase-clock';
import { Checkpointer } from './checkpointing';
import { DataParallelSteps, sharedCopy } from './data-parallel';
import { EarlyStopping } from './early-stopping';
import { EvalWorkerCallback } from './eval-worker-callback';
import { Evaluator } from './evaluation';
import { runGmm } from './gmm-run';
import type { LoopCallback } from './loop-callback';
import { LossLog } from './loss-log';
import { ProgressCallback } from './progress-callback';
import type { RunState } from './run-state';
import { loadRunData, setupRun, type Owned } from './run-setup';
import { Cancelled, Diverged, RunSteps, type CheckpointTag, type TrainingResult } from './run-steps';
import { writeSnapshots } from './snapshots';
import { singleShardStep, type StepFunction } from './step-function';
import { klWeightAt } from './training-plan';

/** Let the event loop run (cancel messages, timers) at least this often. */
const YIELD_INTERVAL_MS = 20;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The parts of a run set up by setup(): the state, the step function and what hangs on the loop. */
interface Parts {
  run: RunState;
  trainStep: StepFunction;
  parallel: DataParallelSteps | null;
  worker: EvalWorkerCallback;
  progress: ProgressCallback;
  stopping: EarlyStopping;
  evaluator: Evaluator;
  checkpointer: Checkpointer;
  /** In the order the loop calls them. */
  callbacks: LoopCallback[];
}

/** One run of a VAE-family model (vae, ae, dae, iwae); model.kind = 'gmm' is handed to runGmm. */
export class Trainer {
  private readonly config: RunConfig;
  private readonly steps: RunSteps;
  private readonly clock: PhaseClock;
  private parts: Parts | null = null;
  private readonly owned: Owned = { model: null, optimizer: null };
  private lastYield = Date.now();
  private stepsRun = 0;
  private reachedMax = false;

  constructor(private readonly ctx: TrainingContext) {
    this.config = ctx.config;
    this.steps = new RunSteps(ctx);
    this.clock = new PhaseClock(ctx.startupMs ?? 0);
  }

  /** The whole run: setup, the epochs, the end; never throws (failures become the result's status). */
  async run(): Promise<TrainingResult> {
    try {
      if (this.ctx.signal.aborted) throw new Cancelled();
      const loaded = await loadRunData(this.ctx, this.steps, this.clock);
      if (this.config.model.kind === 'gmm') return await runGmm(this.ctx, loaded.data, this.steps);
      const { run, fidFitNeeded } = await setupRun(this.ctx, this.steps, this.clock, loaded, this.owned);
      const parts = (this.parts = this.makeParts(run, fidFitNeeded));
      await this.trainEpochs(parts);
      return await this.finish(parts);
    } catch (err) {
      return this.failed(err);
    } finally {
      for (const c of this.parts?.callbacks ?? []) await c.close?.();
      this.owned.model?.dispose();
      this.owned.optimizer?.dispose();
    }
  }

  private failed(err: unknown): TrainingResult {
    const { final } = this.steps;
    const samplesPerSec = this.parts?.progress.samplesPerSec ?? 0;
    if (err instanceof Cancelled || this.ctx.signal.aborted) {
      if (this.parts) this.parts.progress.report('cancelled', true); // where it stopped, exactly: the host's cancel line says it
      return { status: 'cancelled', final, samplesPerSec };
    }
    const message = err instanceof Error ? err.message : String(err);
    this.steps.log('error', message);
    return { status: err instanceof Diverged ? 'diverged' : 'failed', error: message, final, samplesPerSec };
  }

  /** The step function (data-parallel when training.dataParallel resolves to more than one shard) and the loop's parts. */
  private makeParts(run: RunState, fidFitNeeded: boolean): Parts {
    const { config, data, dataset, model, optimizer, plan } = run;
    const shards = resolveShards(config.training.dataParallel, this.ctx.idleCores?.() ?? 0, plan.B);
    // the worker reads its shards' rows from the trainer's own copy of the training split, in shared memory
    if (shards > 1) {
      const own = data.train.x;
      data.train = { ...data.train, x: sharedCopy(own) };
      if (dataset.train.x === own) dataset.train = data.train; // one copy, not two
    }
    const vars = model.variables();
    const target = {
      model,
      vars,
      optimizer,
      spec: { config, dynamicBinarize: data.dynamicBinarize },
      train: { x: data.train.x, d: data.d },
    };
    const parallel = shards > 1 ? new DataParallelSteps(model, vars, optimizer, target.spec, shards, target.train, plan.B) : null;
    const trainStep: StepFunction = parallel ? (index, seed, kl) => parallel.step(index, seed, kl) : singleShardStep(target);
    if (parallel)
      this.steps.log(
        'info',
        `data-parallel: every batch of ${plan.B} in ${shards} shards, summed in shard order (training.dataParallel = ${config.training.dataParallel}); an idle core computes one`,
      );
    const worker = new EvalWorkerCallback(run, parallel, fidFitNeeded);
    worker.start();
    const progress = new ProgressCallback(run.eta, {
      position: () => ({ step: run.step, totalSteps: plan.totalSteps, stepsPerEpoch: plan.stepsPerEpoch, totalEpochs: plan.totalEpochs }),
      trainMs: () => this.clock.ms('train'),
      expectLinked: () => worker.expectLinked(),
      emit: (p) => this.steps.emit({ type: 'progress', progress: p }),
    });
    const stopping = new EarlyStopping(config.training.earlyStoppingPatience, data.val !== null);
    const checkpointer = new Checkpointer(config, this.ctx.runDir, this.steps);
    const evaluator = new Evaluator(run, worker, {
      progress: (phase, force) => progress.report(phase, force),
      checkCancel: () => this.checkCancel(),
      onValidationLoss: async (loss) => {
        if (stopping.observe(loss, run.epoch)) await this.checkpoint('best', { 'val/loss': loss });
      },
    });
    const callbacks = [worker, progress, stopping];
    return { run, trainStep, parallel, worker, progress, stopping, evaluator, checkpointer, callbacks };
  }

  private async checkCancel(): Promise<void> {
    if (Date.now() - this.lastYield >= YIELD_INTERVAL_MS) {
      await yieldToEventLoop();
      this.lastYield = Date.now();
    }
    if (this.ctx.signal.aborted) throw new Cancelled();
  }

  /** Every epoch from the plan's start on, with the evaluations, snapshots and checkpoints between them. */
  private async trainEpochs(parts: Parts): Promise<void> {
    const { run } = parts;
    const { plan } = run;
    const losses = new LossLog();
    this.reachedMax = plan.totalSteps <= run.step;
    let lastEpochRan = plan.startEpoch - 1;
    try {
      for (run.epoch = plan.startEpoch; run.epoch < plan.totalEpochs && !this.reachedMax; run.epoch++) {
        lastEpochRan = run.epoch;
        await this.trainEpoch(parts, losses);
        if (await this.afterEpoch(parts)) break;
      }
    } finally {
      losses.dispose();
    }
    run.epoch = lastEpochRan; // the last epoch that ran (0-based)
  }

  /** One pass over the shuffled training split (or up to training.maxSteps), then its log line. */
  private async trainEpoch(parts: Parts, losses: LossLog): Promise<void> {
    const { run, callbacks } = parts;
    const { config, data, plan, epoch } = run;
    const perm = seededPermutation(data.train.n, deriveSeed(config.seed, SEED_STREAM.shuffle, epoch));
    const epochStart = Date.now();
    let [epochSamples, epochTime] = [0, 0];
    for (let b = 0; b < plan.stepsPerEpoch; b++) {
      await this.checkCancel();
      const start = b * plan.B;
      const rows = Math.min(data.train.n, start + plan.B) - start;
      for (const c of callbacks) await c.beforeStep?.();
      const linked = parts.parallel?.linked ?? false;
      const t0 = performance.now();
      const v = await parts.trainStep(
        perm.subarray(start, start + rows),
        deriveSeed(config.seed, run.step),
        klWeightAt(config, plan, run.step),
      );
      // the loss of the model as it starts (the first step's, computed before its update): the divergence rule's reference
      if (this.stepsRun === 0) this.steps.health?.setInitialLoss(v.loss.dataSync()[0]!);
      losses.add(v);
      run.step++;
      this.stepsRun++;
      if (losses.pending >= config.training.logEverySteps) this.logLoss(run, losses);
      const dt = performance.now() - t0;
      epochTime += dt;
      epochSamples += rows;
      for (const c of callbacks) c.afterStep?.({ ms: dt, rows, stepsRun: this.stepsRun, linked });
      if (run.step >= plan.totalSteps) {
        this.reachedMax = true;
        break;
      }
    }
    this.logLoss(run, losses);
    const epochSps = epochTime > 0 ? (epochSamples * 1000) / epochTime : 0;
    this.steps.emitMetrics([{ name: 'perf/samplesPerSec', step: run.step, epoch: epoch + 1, time: Date.now(), value: epochSps }]);
    const seconds = ((Date.now() - epochStart) / 1000).toFixed(1);
    this.steps.log('info', `epoch ${epoch + 1}: ${epochSamples} samples in ${seconds} s (${epochSps.toFixed(0)} samples/s in steps)`);
  }

  /** The loss since the last log point (the only read-back while training); Diverged on NaN/Inf or the health rule. */
  private logLoss(run: RunState, losses: LossLog): void {
    const points = losses.flush(run.step, run.plan.stepsPerEpoch, run.epoch + 1);
    if (!points.length) return;
    this.steps.emitMetrics(points);
    const diverged = this.steps.health?.divergedWhy();
    if (diverged) throw new Diverged(diverged);
  }

  /** Evaluation, snapshots and the interval checkpoint when due (not after the last epoch); true to stop early. */
  private async afterEpoch(parts: Parts): Promise<boolean> {
    const { run, evaluator, checkpointer, callbacks } = parts;
    const { config, epoch, plan } = run;
    if (epoch === plan.totalEpochs - 1 || this.reachedMax) return false;
    if ((epoch + 1) % config.eval.everyEpochs === 0) await evaluator.evaluate(false);
    if ((epoch + 1) % config.snapshots.everyEpochs === 0) await this.snapshot();
    // The last epoch's interval checkpoint is written after the final evaluation (so it carries its metrics).
    if (checkpointer.intervalDue(epoch)) await this.checkpoint('interval', {});
    for (const c of callbacks) {
      const why = c.stopAfterEpoch?.(epoch);
      if (why) {
        this.steps.log('info', why);
        return true;
      }
    }
    return false;
  }

  /** Write the checkpoint `tag` (interval: checkpoints/epoch-N, keeping the newest checkpoints.keepLast). */
  private async checkpoint(tag: CheckpointTag, metrics: Record<string, number>): Promise<void> {
    const { run, progress, checkpointer } = this.parts!;
    return run.eta.item('checkpoint', () =>
      this.clock.during('checkpoints', async () => {
        progress.report('snapshot', true);
        await checkpointer.write(tag, { epoch: run.epoch, step: run.step }, { model: run.model, optimizer: run.optimizer }, metrics);
      }),
    );
  }

  /** The image (or JSON) snapshots of the model at this epoch. */
  private async snapshot(): Promise<void> {
    const { run, progress, evaluator } = this.parts!;
    return run.eta.item('snapshots', () =>
      this.clock.duringSync('snapshots', () => {
        progress.report('snapshot', true);
        writeSnapshots(run, evaluator.latentsFromEval === run.epoch);
      }),
    );
  }

  /** The end: evaluation, FID, snapshots and the last checkpoint. */
  private async finish(parts: Parts): Promise<TrainingResult> {
    const { run, evaluator, checkpointer, parallel, progress, stopping } = parts;
    const { epoch, step } = run;
    await evaluator.evaluate(true);
    await evaluator.finalFid();
    await this.snapshot();
    if (checkpointer.intervalDue(epoch)) await this.checkpoint('interval', {});
    await this.checkpoint('last', {});
    const at = { step, epoch: epoch + 1, time: Date.now() };
    this.steps.emitMetrics([
      ...perfPoints(this.clock, evaluator.finalNllRate, at),
      { name: 'perf/dataParallel', ...at, value: parallel?.shards ?? 1 },
    ]);
    await parallel?.settled();
    if (parallel && parallel.shards > 1)
      this.steps.log(
        'info',
        `data-parallel: the worker computed a shard in ${parallel.stepsOnWorker} of ${this.stepsRun} steps` +
          (parallel.linkPauses ? ` (sent away ${parallel.linkPauses} times: linked steps were slower than this thread alone)` : ''),
      );
    if (stopping.stopped) this.steps.log('info', `stopped early after epoch ${epoch + 1}`);
    return { status: 'completed', final: this.steps.final, samplesPerSec: progress.samplesPerSec };
  }
}
