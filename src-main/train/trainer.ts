// The training loop of one run, inside the trainer process, as an object (the shape of pythae's
// BaseTrainer): setup() loads the data and builds the model, trainEpoch() runs minibatch SGD on the
// chosen objective, evaluate() / snapshot() / checkpoint() are the steps between epochs, finish() the
// end of the run; everything is reported as TrainerEvents through RunSteps (shared with the GMM fit).
// Hot path rules: no read-back of the loss between log points (the loss, reconstruction and KL are
// summed on the device and read every training.logEverySteps steps), noise made in-graph from seeds
// derived from the run seed and the step, every tensor disposed.
import { activeGemmVariant } from '../kernels/wasm-gemm';
import path from 'node:path';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { FD_CLASSIFIER_METRIC } from '@shared/metric-labels';
import type { MetricPoint } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';
import { describeGaussianDecoder } from '@shared/gaussian-decoder';
import { readCheckpointDir, type CheckpointContents } from '../checkpoints/checkpoint-dir';
import { pruneIntervalCheckpoints } from '../checkpoints/checkpoint-rules';
import { loadDataset } from '../data/registry';
import { checkModelSize } from '../checkpoints/model-size';
import type { LoadedDataset, Split } from '../data/types';
import { evaluateSplit, type EvalResult } from '../vae/evaluate';
import { VaeModel, modelSpecFromConfig } from '../vae/model';
import { createOptimizer, exportOptimizerState, importOptimizerState } from '../vae/optimizer';
import { decodeMeans } from '../vae/sampling';
import { FD_CLASSIFIER_SEED, featureCachePaths } from '../vae/fid';
import { sharedFdFitSplit, trainsOnWholeSplit } from './fd-fit-split';
import { deriveSeed, seededPermutation, SEED_STREAM } from '../vae/seeds';
import type { TrainingContext } from './messages';
import { EtaModel, planRun } from './eta';
import { PhaseClock } from './phase-clock';
import { DIAGNOSTIC_EXAMPLES } from './eval-diagnostics';
import { imageSnapshotArtifacts, LATENT_POINTS, latentSnapshots, modelSnapshots } from './snapshots';
import { EvalHelper } from './eval-helper';
import type { EvalJobOptions } from './eval-messages';
import { testPoints } from './test-split-points';
import { HealthMonitor } from './health';
import { prepareData, type PreparedData } from './prepare-data';
import { runGmm } from './gmm-run';
import { DataParallelSteps, sharedCopy } from './data-parallel';
import { resolveShards } from './shard-step';
import { SplitStepRate } from './step-rate';
import {
  Cancelled,
  Diverged,
  FID_EXAMPLES,
  fidCacheDir,
  PROGRESS_INTERVAL_MS,
  RunSteps,
  type CheckpointTag,
  type LogLevel,
  type TrainingResult,
} from './run-steps';

/** Let the event loop run (cancel messages, timers) at least this often. */
const YIELD_INTERVAL_MS = 20;
/**
 * The importance-sampled -log p(x) costs examples x k decoder passes. During training it is a cheap
 * progress signal: k = min(eval.iwSamples, NLL_K_INTERMEDIATE) on the first floor(budget / k) test
 * examples (a fixed subset: 100 examples at k = 50) ...
 */
export const NLL_SAMPLE_BUDGET_INTERMEDIATE = 5_000;
export const NLL_K_INTERMEDIATE = 50;
/**
 * ... and at the end of the run the full estimate: k = eval.iwSamples on the first eval.nllExamples test examples
 * (0: all), fewer when k is large (at most NLL_SAMPLE_BUDGET_FINAL decoder passes: k = 5000 on 100). With the
 * defaults (k = 100 on 1,000 examples): 100,000 decoder passes.
 */
export const NLL_SAMPLE_BUDGET_FINAL = 500_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function finite(v: number): boolean {
  return Number.isFinite(v);
}

/** Restore model weights (and optimizer state when asked) from a checkpoint directory; returns its counters. */
export async function restoreFromCheckpoint(
  dir: string,
  model: VaeModel,
  optimizer: tf.Optimizer | null,
): Promise<{ step: number; epoch: number; contents: CheckpointContents }> {
  const contents = readCheckpointDir(dir);
  model.loadNamedWeights(contents.weights);
  if (optimizer && contents.optimizer) await importOptimizerState(optimizer, model, contents.optimizer);
  return { step: contents.step, epoch: contents.epoch, contents };
}

/** Where the run's time went (perf/time/<phase>, seconds) and the final -log p(x)'s decoder passes per second. */
function perfPoints(clock: PhaseClock, nllDecodedPerSec: number, at: { step: number; epoch: number; time: number }): MetricPoint[] {
  // the classifier Fréchet distance's phase is reported as perf/time/fdClassifier (it is not an Inception FID)
  const points: MetricPoint[] = Object.entries(clock.seconds()).map(([phase, value]) => ({
    name: `perf/time/${phase === 'fid' ? 'fdClassifier' : phase}`,
    ...at,
    value,
  }));
  if (Number.isFinite(nllDecodedPerSec)) points.push({ name: 'perf/evalNllDecodedPerSec', ...at, value: nllDecodedPerSec });
  return points;
}

/** One run of a VAE-family model (vae, ae, dae, iwae); model.kind = 'gmm' is handed to runGmm. */
export class Trainer {
  private readonly config: RunConfig;
  private readonly steps: RunSteps;
  private readonly clock: PhaseClock;
  private model: VaeModel | null = null;
  private optimizer: tf.Optimizer | null = null;
  private vars: tf.Variable[] = [];
  private dataset!: LoadedDataset;
  private data!: PreparedData;
  private shape!: [number, number, number];
  private etaModel!: EtaModel;
  private samplesPerSec = 0;
  private lastProgress = 0;
  private lastYield = Date.now();
  private trainTimeMs = 0;
  private trainSamples = 0;
  private stepsRun = 0;
  private finalNllRate = NaN;
  // The plan of the run (setup()).
  private B = 0;
  private stepsPerEpoch = 0;
  private totalEpochs = 0;
  private totalSteps = 0;
  private startEpoch = 0;
  private evalBatch = 0;
  private withFid = false;
  private klWarmupSteps = 0;
  // Where the run is.
  private step = 0;
  private epoch = 0;
  private reachedMax = false;
  private bestVal = Infinity;
  private bestEpoch = -1;
  /** The epoch whose test evaluation brings the snapshots' latent view (its encoder means and KL), -1 for none. */
  private latentsFromEval = -1;
  private stoppedEarly = false;
  private lastIntervalEpoch = -1;
  // Running sums on the device since the last log point.
  private sumLoss: tf.Scalar | null = null;
  private sumRecon: tf.Scalar | null = null;
  private sumKl: tf.Scalar | null = null;
  private pending = 0;
  // The evaluation worker on an idle core (null: none, or it failed) and the test evaluation it is running.
  private helper: EvalHelper | null = null;
  private pendingTest: Promise<void> | null = null;
  private testBusy = false;
  private helperStarted = false;
  // Data-parallel steps (shards of every batch; the worker computes one while it is linked).
  private parallel: DataParallelSteps | null = null;
  private linkFailures = 0;
  private fidDone = false;
  /** The FID's feature classifier: nothing to do before the FID (cached, fitted on the worker, or no FID), still to fit, or being fitted on the worker. */
  private fidFit: 'none' | 'needed' | 'running' = 'none';
  private pendingFidFit: Promise<void> | null = null;
  // The recent training speed the ETA extrapolates.
  private readonly stepRate = new SplitStepRate();

  constructor(private readonly ctx: TrainingContext) {
    this.config = ctx.config;
    this.steps = new RunSteps(ctx);
    this.clock = new PhaseClock(ctx.startupMs ?? 0);
  }

  private get final(): Record<string, number> {
    return this.steps.final;
  }

  private log(level: LogLevel, message: string): void {
    this.steps.log(level, message);
  }

  /** The whole run: setup, the epochs, the end; never throws (failures become the result's status). */
  async run(): Promise<TrainingResult> {
    try {
      if (this.ctx.signal.aborted) throw new Cancelled();
      const data = await this.loadData();
      if (this.config.model.kind === 'gmm') return await runGmm(this.ctx, data, this.steps);
      await this.setup();
      await this.trainEpochs();
      return await this.finish();
    } catch (err) {
      return this.failed(err);
    } finally {
      await this.helper?.close().catch(() => undefined);
      this.model?.dispose();
      this.optimizer?.dispose();
    }
  }

  private failed(err: unknown): TrainingResult {
    const { final } = this;
    const samplesPerSec = this.trainTimeMs > 0 ? (this.trainSamples * 1000) / this.trainTimeMs : 0;
    if (err instanceof Cancelled || this.ctx.signal.aborted) {
      if (this.stepsPerEpoch > 0) this.progress('cancelled', true); // where it stopped, exactly: the host's cancel line says it
      return { status: 'cancelled', final, samplesPerSec };
    }
    if (err instanceof Diverged) {
      this.log('error', err.message);
      return { status: 'diverged', error: err.message, final, samplesPerSec };
    }
    const message = err instanceof Error ? err.message : String(err);
    this.log('error', message);
    return { status: 'failed', error: message, final, samplesPerSec };
  }

  private async loadData(): Promise<PreparedData> {
    const { config } = this;
    this.clock.enter('data');
    const dataset = await loadDataset(config.data, {
      dataHome: this.ctx.dataHome,
      seed: config.seed,
    });
    const data = prepareData(dataset, config);
    this.log(
      'info',
      `data: ${dataset.descriptor.id}, ${data.train.n} train, ${data.val?.n ?? 0} validation, ${data.test.n} test, ${data.d} features`,
    );
    this.dataset = dataset;
    this.data = data;
    this.shape = dataset.descriptor.shape;
    // The model against the data's real shape (the service could only check a header or a placeholder).
    checkModelSize(config, this.shape, `the model (${config.model.kind} ${config.model.arch})`);
    return data;
  }

  /** Build the model and optimizer, restore a checkpoint when resuming, plan the run and report 'started'. */
  private async setup(): Promise<void> {
    const { config, ctx, data, dataset } = this;
    const model = (this.model = new VaeModel(modelSpecFromConfig(config, this.shape, dataset.descriptor.kind)));
    this.optimizer = createOptimizer(config.optimizer);
    this.vars = model.variables();
    this.steps.health = new HealthMonitor({
      latentDim: model.latentDim,
      stochastic: model.stochastic,
      learnedSigma: config.model.likelihood === 'gaussian-learned',
    });
    if (config.model.likelihood === 'gaussian') this.log('info', describeGaussianDecoder(config.model.sigma, data.d));
    this.log(
      'info',
      `model: ${config.model.kind}/${config.model.arch}, ${model.parameterCount()} parameters, backend ${ctx.backend}${gemmNote()}`,
    );

    const B = (this.B = Math.min(config.training.batchSize, data.train.n));
    this.stepsPerEpoch = Math.ceil(data.train.n / B);
    this.totalEpochs = config.training.epochs;
    this.totalSteps = this.totalEpochs * this.stepsPerEpoch;
    if (config.training.maxSteps > 0) this.totalSteps = Math.min(this.totalSteps, config.training.maxSteps);

    if (ctx.resumeFrom) {
      const restored = await restoreFromCheckpoint(ctx.resumeFrom.dir, model, ctx.resumeFrom.restoreOptimizer ? this.optimizer : null);
      this.step = Number.isFinite(ctx.resumeFrom.step) ? ctx.resumeFrom.step : restored.step;
      this.startEpoch = Number.isFinite(ctx.resumeFrom.epoch) ? ctx.resumeFrom.epoch : restored.epoch;
      this.log(
        'info',
        `resumed from ${ctx.resumeFrom.dir} at epoch ${this.startEpoch}, step ${this.step}${ctx.resumeFrom.restoreOptimizer ? ' with optimizer state' : ''}`,
      );
    }
    this.steps.emit({ type: 'started', backend: ctx.backend, totalSteps: this.totalSteps, totalEpochs: this.totalEpochs });
    this.clock.enter('train');

    this.evalBatch = Math.max(B, 256);
    // no sample-quality score for models without a prior to sample from (ae, dae)
    this.withFid = config.eval.fid && dataset.descriptor.kind === 'image' && this.model!.stochastic;
    this.fidFit =
      this.withFid && !existsSync(featureCachePaths(fidCacheDir(ctx.dataHome), dataset.descriptor.id, data.d).json) ? 'needed' : 'none';
    this.etaModel = new EtaModel(
      planRun(config, {
        step: this.step,
        startEpoch: this.startEpoch,
        stepsPerEpoch: this.stepsPerEpoch,
        totalSteps: this.totalSteps,
        batchSize: B,
        evalExamples: data.test.n + (data.val?.n ?? 0),
        fid: this.withFid,
        fidFit: this.fidFit === 'needed',
        intermediateNllDecoded: this.nllExamplesAt(false) * this.nllKAt(false),
        finalNllDecoded: this.nllExamplesAt(true) * this.nllKAt(true),
      }),
    );
    this.klWarmupSteps = config.objective.klWarmupEpochs * this.stepsPerEpoch;
    this.epoch = this.startEpoch;
    this.setupShards();
    this.startHelper();
  }

  /** training.dataParallel resolved (auto: 2 shards when this run has an idle core now), and the steps that use it. */
  private setupShards(): void {
    const { config, data } = this;
    const shards = resolveShards(config.training.dataParallel, this.ctx.idleCores?.() ?? 0, this.B);
    // the worker reads its shards' rows from the trainer's own copy of the training split, in shared memory
    if (shards > 1) {
      const own = data.train.x;
      data.train = { ...data.train, x: sharedCopy(own) };
      if (this.dataset.train.x === own) this.dataset.train = data.train; // one copy, not two
    }
    const spec = { config, dynamicBinarize: data.dynamicBinarize };
    this.parallel = new DataParallelSteps(this.model!, this.vars, this.optimizer!, spec, shards, { x: data.train.x, d: data.d }, this.B);
    if (shards > 1)
      this.log(
        'info',
        `data-parallel: every batch of ${this.B} in ${shards} shards, summed in shard order (training.dataParallel = ${config.training.dataParallel}); an idle core computes one`,
      );
  }

  /** The evaluation worker, when the scheduler gives this run an idle core and there is a test split. */
  private startHelper(): void {
    const { ctx, config, data, dataset } = this;
    if (this.helper || this.helperStarted || (ctx.idleCores?.() ?? 0) < 1 || data.test.n === 0) return;
    this.helperStarted = true; // one worker per run: after a failure it evaluates on its own thread
    try {
      this.helper = EvalHelper.start(
        {
          backend: ctx.backend,
          config,
          shape: this.shape,
          datasetKind: dataset.descriptor.kind,
          test: { x: data.test.x, n: data.test.n },
          testSources: dataset.testSources,
        },
        (reason) => {
          this.etaModel.useWorker(false);
          if (reason !== 'closed') this.log('warn', `${reason}; evaluating on the training thread from now on`);
        },
      );
    } catch (err) {
      this.log('warn', `no evaluation worker (${(err as Error).message}); evaluating on the training thread`);
    }
    if (!this.helper) return;
    this.etaModel.useWorker(true);
    this.log('info', 'evaluation worker started on an idle core: test evaluations run beside training, the final -log p(x) on both');
  }

  /** Whether the evaluation worker may work now (its backend is up, and the scheduler still gives this run a core). */
  private helperUsable(): boolean {
    this.startHelper(); // a core may have become idle since the run started
    return this.helper !== null && this.helper.ready && (this.ctx.idleCores?.() ?? 0) >= 1;
  }

  private nllKAt(isFinal: boolean): number {
    const { iwSamples } = this.config.eval;
    return isFinal ? iwSamples : Math.min(iwSamples, NLL_K_INTERMEDIATE);
  }

  private nllExamplesAt(isFinal: boolean): number {
    const { test } = this.data;
    return this.model!.stochastic && test.n > 0
      ? Math.min(
          test.n,
          isFinal && this.config.eval.nllExamples > 0 ? this.config.eval.nllExamples : test.n,
          Math.max(1, Math.floor((isFinal ? NLL_SAMPLE_BUDGET_FINAL : NLL_SAMPLE_BUDGET_INTERMEDIATE) / this.nllKAt(isFinal))),
        )
      : 0;
  }

  /** The step time the ETA extrapolates: at the pace with the worker linked while it is there to take part (step-rate.ts). */
  private etaMsPerStep(): number | null {
    const p = this.parallel;
    const expected = p !== null && p.shards > 1 && this.linkFailures < 3 && this.helper !== null && this.helperUsable();
    return this.stepRate.msPerStep(expected);
  }

  private progress(phase: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastProgress < PROGRESS_INTERVAL_MS) return;
    this.lastProgress = now;
    const { step, totalSteps, stepsPerEpoch, totalEpochs } = this;
    const sps = this.trainTimeMs > 0 ? (this.trainSamples * 1000) / this.trainTimeMs : 0;
    // Everything still to come: steps at the measured wall time per step, evaluations, snapshots, checkpoints.
    const etaSeconds = this.etaModel.remainingSeconds(step, this.etaMsPerStep());
    // epoch: fractional epochs done (step / steps per epoch), e.g. 2.5 halfway through the third epoch.
    this.steps.emit({
      type: 'progress',
      progress: { step, totalSteps, epoch: step / stepsPerEpoch, totalEpochs, samplesPerSec: sps, etaSeconds, phase },
    });
  }

  private async checkCancel(): Promise<void> {
    if (Date.now() - this.lastYield >= YIELD_INTERVAL_MS) {
      await yieldToEventLoop();
      this.lastYield = Date.now();
    }
    if (this.ctx.signal.aborted) throw new Cancelled();
  }

  /** Every epoch from startEpoch on, with the evaluations, snapshots and checkpoints between them. */
  private async trainEpochs(): Promise<void> {
    this.sumLoss = tf.scalar(0);
    this.sumRecon = tf.scalar(0);
    this.sumKl = tf.scalar(0);
    this.reachedMax = this.totalSteps <= this.step;
    let lastEpochRan = this.startEpoch - 1;
    try {
      for (this.epoch = this.startEpoch; this.epoch < this.totalEpochs && !this.reachedMax; this.epoch++) {
        lastEpochRan = this.epoch;
        await this.trainEpoch();
        if (await this.afterEpoch()) break;
      }
    } finally {
      tf.dispose([this.sumLoss, this.sumRecon, this.sumKl]);
    }
    this.epoch = lastEpochRan; // the last epoch that ran (0-based)
    this.samplesPerSec = this.trainTimeMs > 0 ? (this.trainSamples * 1000) / this.trainTimeMs : 0;
  }

  /** One pass over the shuffled training split (or up to training.maxSteps), then its log line. */
  private async trainEpoch(): Promise<void> {
    const { config, data, B, epoch } = this;
    const perm = seededPermutation(data.train.n, deriveSeed(config.seed, SEED_STREAM.shuffle, epoch));
    const epochStart = Date.now();
    let epochSamples = 0;
    let epochTime = 0;
    for (let b = 0; b < this.stepsPerEpoch; b++) {
      await this.checkCancel();
      const start = b * B;
      const end = Math.min(data.train.n, start + B);
      const rows = end - start;
      await this.syncLink();
      const linked = this.parallel?.linked ?? false;
      const t0 = performance.now();
      const stepSeed = deriveSeed(config.seed, this.step);
      const warm = this.klWarmupSteps > 0 ? Math.min(1, (this.step + 1) / this.klWarmupSteps) : 1;
      await this.trainStep(perm.subarray(start, end), stepSeed, config.objective.beta * warm);
      this.step++;
      this.stepsRun++;
      this.pending++;
      if (this.pending >= config.training.logEverySteps) this.flushLog();
      const dt = performance.now() - t0;
      this.trainTimeMs += dt;
      this.stepRate.observe(this.clock.ms('train'), this.stepsRun, linked);
      epochTime += dt;
      this.trainSamples += rows;
      epochSamples += rows;
      this.progress('train');
      if (this.step >= this.totalSteps) {
        this.reachedMax = true;
        break;
      }
    }
    this.flushLog();
    const epochSps = epochTime > 0 ? (epochSamples * 1000) / epochTime : 0;
    this.steps.emitMetrics([{ name: 'perf/samplesPerSec', step: this.step, epoch: epoch + 1, time: Date.now(), value: epochSps }]);
    this.log(
      'info',
      `epoch ${epoch + 1}: ${epochSamples} samples in ${((Date.now() - epochStart) / 1000).toFixed(1)} s (${epochSps.toFixed(0)} samples/s in steps)`,
    );
  }

  /** Evaluation, snapshots and the interval checkpoint when due (not after the last epoch); true to stop early. */
  private async afterEpoch(): Promise<boolean> {
    const { config, epoch } = this;
    const isLast = epoch === this.totalEpochs - 1 || this.reachedMax;
    if (!isLast && (epoch + 1) % config.eval.everyEpochs === 0) await this.evaluate(false);
    if (!isLast && (epoch + 1) % config.snapshots.everyEpochs === 0) await this.snapshot();
    // The last epoch's interval checkpoint is written after the final evaluation (so it carries its metrics).
    if (!isLast && this.intervalDue()) await this.checkpoint('interval', {});
    const patience = config.training.earlyStoppingPatience;
    if (!isLast && patience > 0 && this.data.val && this.bestEpoch >= 0 && epoch - this.bestEpoch >= patience) {
      this.log(
        'info',
        `early stopping: no validation improvement for ${epoch - this.bestEpoch} epochs (best ${this.bestVal.toFixed(3)} at epoch ${this.bestEpoch + 1})`,
      );
      this.stoppedEarly = true;
      return true;
    }
    return false;
  }

  /** One optimizer step on the train rows `index`; adds the batch's loss, recon and KL to the device-side running sums. */
  private async trainStep(index: Int32Array, stepSeed: number, klWeight: number): Promise<void> {
    const v = await this.parallel!.step(index, stepSeed, klWeight);
    // the loss of the model as it starts (the first step's, computed before its update): the divergence rule's reference
    if (this.stepsRun === 0) this.steps.health?.setInitialLoss(v.loss.dataSync()[0]!);
    const [sumLoss, sumRecon, sumKl] = [this.sumLoss!, this.sumRecon!, this.sumKl!];
    const next = tf.tidy(() => [tf.add(sumLoss, v.loss), tf.add(sumRecon, v.recon), tf.add(sumKl, v.kl)]);
    tf.dispose([sumLoss, sumRecon, sumKl, v.loss, v.recon, v.kl]);
    [this.sumLoss, this.sumRecon, this.sumKl] = next as [tf.Scalar, tf.Scalar, tf.Scalar];
  }

  /** Link the worker for data-parallel steps when it is free and the core still ours; unlink when the core is taken back. */
  private async syncLink(): Promise<void> {
    this.startFidFit();
    const parallel = this.parallel;
    if (!parallel || parallel.shards < 2 || this.linkFailures >= 3) return;
    const usable = !this.testBusy && this.fidFit !== 'running' && this.helperUsable();
    if (parallel.linked && !usable) parallel.unlink();
    else if (!parallel.linked && usable && !(await parallel.link(this.helper!, this.data.dynamicBinarize))) {
      this.linkFailures++;
      this.log('warn', `data-parallel: could not link the worker (${parallel.lastFailure}); this step's shards run here`);
    }
  }

  /**
   * The first run on a dataset fits the FID's feature classifier on the worker while it trains, not after its last
   * epoch (when the training split is in shared memory: data-parallel runs; else at the end, as without a worker).
   */
  private startFidFit(): void {
    const { ctx, config, data, dataset } = this;
    // only when the worker can read the training split where it is (shared for the data-parallel steps), never a copy
    if (this.fidFit !== 'needed' || this.testBusy || !(data.train.x.buffer instanceof SharedArrayBuffer) || !this.helperUsable()) return;
    this.fidFit = 'running';
    this.parallel?.unlink(); // the worker takes jobs after its training loop
    this.etaModel.setFidFit(false);
    // the classifier fits on the whole training split (loaded and shared once when the run trains on part of it)
    const whole = trainsOnWholeSplit(data, config) ? Promise.resolve(data.train) : sharedFdFitSplit(data, config, ctx.dataHome);
    this.pendingFidFit = whole
      .then((split) =>
        this.helper!.fitFid({
          datasetId: dataset.descriptor.id,
          train: { x: split.x, y: split.y, n: split.n },
          d: data.d,
          cacheDir: fidCacheDir(ctx.dataHome),
          seed: FD_CLASSIFIER_SEED,
        }),
      )
      .then(
        () => {
          this.fidFit = 'none';
          this.log(
            'info',
            'classifier FD: the feature classifier of this dataset was fitted on the worker while training ran (cached for later runs)',
          );
        },
        (err: unknown) => {
          this.fidFit = 'none'; // the FID at the end fits it on this thread
          this.etaModel.setFidFit(true);
          if ((err as Error).message !== 'closed')
            this.log(
              'warn',
              `classifier FD: fitting the feature classifier on the worker failed (${(err as Error).message}); fitting it at the end`,
            );
        },
      );
  }

  /** Read the running sums back (the only read-back while training) and report their means; Diverged on NaN/Inf. */
  private flushLog(): void {
    if (this.pending === 0) return;
    const { step, stepsPerEpoch } = this;
    const sums = [this.sumLoss!, this.sumRecon!, this.sumKl!];
    const [l, r, k] = [sums[0]!.dataSync()[0]!, sums[1]!.dataSync()[0]!, sums[2]!.dataSync()[0]!];
    const n = this.pending;
    this.pending = 0;
    for (const t of sums) t.dispose();
    this.sumLoss = tf.scalar(0);
    this.sumRecon = tf.scalar(0);
    this.sumKl = tf.scalar(0);
    if (!finite(l) || !finite(r) || !finite(k)) {
      const what = Number.isNaN(l) ? 'NaN' : !finite(l) ? 'infinite' : Number.isNaN(r + k) ? 'NaN in its terms' : 'infinite in its terms';
      throw new Diverged(
        `training diverged: the loss became ${what} by step ${step} (epoch ${this.epoch + 1}; averaged over steps ${step - n + 1}-${step})`,
      );
    }
    const time = Date.now();
    const at = step / stepsPerEpoch; // fractional epochs done
    this.steps.emitMetrics([
      { name: 'train/loss', step, epoch: at, time, value: l / n },
      { name: 'train/recon', step, epoch: at, time, value: r / n },
      { name: 'train/kl', step, epoch: at, time, value: k / n },
    ]);
    const diverged = this.steps.health?.divergedWhy();
    if (diverged) throw new Diverged(diverged);
  }

  /** The options of one evaluation (what the trainer and its worker both run). */
  private evalOptions(isFinal: boolean, withNll: boolean): EvalJobOptions {
    const { config } = this;
    return {
      // a test evaluation keeps the encoder means it computes: the diagnostics and the snapshots' latent view use them
      latentMeans: withNll ? Math.max(LATENT_POINTS, DIAGNOSTIC_EXAMPLES) : 0,
      batchSize: this.evalBatch,
      estimator: config.objective.estimator,
      samples: 1,
      iwSamples: withNll && this.model!.stochastic ? this.nllKAt(isFinal) : 0,
      nllLimit: Math.max(1, this.nllExamplesAt(isFinal)),
      seed: deriveSeed(config.seed, SEED_STREAM.eval),
      // conv decoders hold feature maps per row: decode fewer importance samples at once.
      nllRows: config.model.arch === 'conv' ? 1024 : 8192,
      // a DAE's test loss also on inputs corrupted as in training (its training loss sees those), beside the clean one
      ...(config.model.kind === 'dae' ? { corruption: { kind: config.model.corruption, level: config.model.corruptionLevel } } : {}),
    };
  }

  private evaluateSplit(split: Split, isFinal: boolean, withNll: boolean): Promise<EvalResult> {
    const options = this.evalOptions(isFinal, withNll);
    const helper = withNll && this.helperUsable() ? this.helper! : null;
    return evaluateSplit(this.model!, split.x, split.n, {
      ...options,
      // an idle core shares the -log p(x) batches (the same value whoever computes which batch)
      nllHelper: helper
        ? (share) => helper.nll(this.model!.namedWeights(), share, { iwSamples: options.iwSamples, seed: options.seed })
        : undefined,
      onBatch: async (fraction) => {
        this.etaModel.itemFraction(fraction);
        this.progress('eval');
        await this.checkCancel();
      },
      // at the end, this thread computes the FID while the worker starts on the -log p(x) batches
      beside: isFinal && helper && this.withFid && split === this.data.test ? () => this.fidBeside() : undefined,
    });
  }

  private async fidBeside(): Promise<void> {
    await this.etaModel.inside('fid', () => this.clock.during('fid', () => this.computeFid(false)));
    this.fidDone = true;
  }

  /** Evaluate on validation (best checkpoint on improvement) and test; isFinal: the full -log p(x) estimate. */
  async evaluate(isFinal: boolean): Promise<void> {
    return this.etaModel.item(isFinal ? 'finalEval' : 'eval', () => this.clock.during('eval', () => this.evalPoints(isFinal)));
  }

  private async evalPoints(isFinal: boolean): Promise<void> {
    const { data, epoch } = this;
    this.parallel?.unlink(); // the worker's evaluations come after its training loop
    this.progress('eval', true); // the phase and its ETA show at once, however short the evaluation
    const time = Date.now();
    const points: MetricPoint[] = [];
    const at = { step: this.step, epoch: epoch + 1, time };
    if (data.val && data.val.n > 0) {
      const v = await this.evaluateSplit(data.val, isFinal, false);
      points.push({ name: 'val/loss', ...at, value: v.loss });
      if (v.loss < this.bestVal) {
        this.bestVal = v.loss;
        this.bestEpoch = epoch;
        await this.checkpoint('best', { 'val/loss': v.loss });
      }
    }
    // The previous test evaluation of the worker first (points stay in epoch order; it is rarely still running).
    await this.settleTest();
    // This epoch's snapshots take their latent view from this evaluation (it encodes the test examples anyway).
    const latents = data.test.n > 0 && (isFinal || (epoch + 1) % this.config.snapshots.everyEpochs === 0);
    if (latents) this.latentsFromEval = epoch;
    if (data.test.n > 0 && !isFinal && this.helperUsable()) this.offloadTest(at, latents);
    else if (data.test.n > 0) points.push(...(await this.inlineTestPoints(isFinal, at, latents)));
    this.steps.emitMetrics(points);
  }

  /** Wait for the worker's test evaluation, if one is running. */
  private async settleTest(): Promise<void> {
    const pending = this.pendingTest;
    this.pendingTest = null;
    await pending;
  }

  /** The test evaluation of this epoch's weights on the worker; its points land, tagged with this epoch, when done. */
  private offloadTest(at: { step: number; epoch: number; time: number }, latents: boolean): void {
    const { epoch } = this;
    this.testBusy = true;
    this.pendingTest = this.helper!.test(this.model!.namedWeights(), this.evalOptions(false, true), at).then(
      ({ points, result }) => {
        this.etaModel.observeEval(result);
        this.afterTest(result, false, epoch, at, latents);
        this.steps.emitMetrics(points);
      },
      (err: unknown) => {
        if ((err as Error).message !== 'closed')
          this.log('warn', `test evaluation of epoch ${at.epoch} on the worker failed: ${(err as Error).message}`);
      },
    );
    void this.pendingTest.finally(() => {
      this.testBusy = false;
    });
  }

  private async inlineTestPoints(
    isFinal: boolean,
    at: { step: number; epoch: number; time: number },
    latents: boolean,
  ): Promise<MetricPoint[]> {
    const { config, data, epoch } = this;
    const t = await this.evaluateSplit(data.test, isFinal, true);
    this.etaModel.observeEval(t);
    if (isFinal && t.nllMs > 0) this.finalNllRate = (t.nllDecoded * 1000) / t.nllMs;
    this.afterTest(t, isFinal, epoch, at, latents);
    return testPoints(t, { model: this.model!, config, test: data.test, testSources: this.dataset.testSources, at });
  }

  /** What a test evaluation leaves behind: the snapshots' latent view and KL per dimension (when asked), the log line on the nll subset. */
  private afterTest(t: EvalResult, isFinal: boolean, epoch: number, at: { step: number; epoch: number }, latents: boolean): void {
    const { data } = this;
    const model = this.model!;
    if (latents && t.latentMeans) {
      const n = Math.min(LATENT_POINTS, t.latentMeans.length / model.latentDim);
      const view = {
        means: t.latentMeans.subarray(0, n * model.latentDim),
        n,
        dims: model.latentDim,
        stochastic: model.stochastic,
        klPerDim: model.stochastic ? t.klPerDim : null,
        klExamples: null,
      };
      for (const a of latentSnapshots(view, data.test.y, { epoch: at.epoch, step: at.step, labelNames: this.dataset.descriptor.labels }))
        this.steps.emit(a);
    }
    if (t.nllExamples > 0 && t.nllExamples < data.test.n && (isFinal || epoch === this.startEpoch))
      this.log(
        'info',
        `test/nll ${isFinal ? 'at the end' : 'during training'}: estimated on the first ${t.nllExamples} of ${data.test.n} test examples with k = ${this.nllKAt(isFinal)}`,
      );
  }

  /** Write the checkpoint `tag` (interval: checkpoints/epoch-N, keeping the newest checkpoints.keepLast). */
  async checkpoint(tag: CheckpointTag, metrics: Record<string, number>): Promise<void> {
    return this.etaModel.item('checkpoint', () => this.clock.during('checkpoints', () => this.writeCheckpoint(tag, metrics)));
  }

  private async writeCheckpoint(tag: CheckpointTag, metrics: Record<string, number>): Promise<void> {
    const { epoch, config } = this;
    this.progress('snapshot', true);
    const weights = this.model!.namedWeights();
    const optimizer = await exportOptimizerState(this.optimizer!, this.model!);
    const at = { epoch: epoch + 1, step: this.step };
    this.steps.writeCheckpoint(tag, tag === 'interval' ? `epoch-${epoch + 1}` : tag, at, weights, optimizer, metrics);
    if (tag === 'interval') {
      this.lastIntervalEpoch = epoch;
      pruneIntervalCheckpoints(path.join(this.ctx.runDir, 'checkpoints'), config.checkpoints.keepLast);
    }
  }

  private intervalDue(): boolean {
    const every = this.config.checkpoints.everyEpochs;
    return every > 0 && (this.epoch + 1) % every === 0 && this.lastIntervalEpoch !== this.epoch;
  }

  /** The image (or JSON) snapshots of the model at this epoch. */
  async snapshot(): Promise<void> {
    return this.etaModel.item('snapshots', () => this.clock.duringSync('snapshots', () => this.writeSnapshots()));
  }

  private writeSnapshots(): void {
    const { config, epoch, dataset } = this;
    this.progress('snapshot', true);
    const opts = {
      shape: this.shape,
      datasetKind: dataset.descriptor.kind,
      gridSize: config.snapshots.gridSize,
      manifoldSize: config.snapshots.manifoldSize,
      epoch: epoch + 1,
      step: this.step,
      labelNames: dataset.descriptor.labels,
    };
    // the latent view comes with this epoch's test evaluation when it encoded the test examples
    const artifacts =
      this.latentsFromEval === epoch
        ? imageSnapshotArtifacts(this.model!, this.data.test, opts)
        : modelSnapshots(this.model!, this.data.test, opts);
    for (const a of artifacts) this.steps.emit(a);
  }

  /** test/fid on images decoded from prior draws; `ownItem`: it is an ETA item of its own (not inside the final evaluation). */
  private async computeFid(ownItem = true): Promise<void> {
    const { config, data } = this;
    const model = this.model!;
    this.progress('eval', true);
    const n = Math.min(FID_EXAMPLES, data.test.n);
    if (n < 2) return;
    await this.pendingFidFit; // the worker's fit of the feature classifier (it never rejects)
    const fake = new Float32Array(n * data.d);
    const chunk = 500;
    const D = model.latentDim;
    const noise = tf
      .tidy(() => tf.randomNormal([n, D], 0, 1, 'float32', deriveSeed(config.seed, SEED_STREAM.eval, 77)).dataSync() as Float32Array)
      .slice();
    for (let s = 0; s < n; s += chunk) {
      const e = Math.min(n, s + chunk);
      fake.set(decodeMeans(model, noise.subarray(s * D, e * D), e - s), s * data.d);
      await this.checkCancel();
    }
    const value = await this.steps.fid(data, fake, n, (fraction) => {
      if (ownItem) this.etaModel.itemFraction(fraction);
      this.progress('eval');
    });
    if (value !== null)
      this.steps.emitMetrics([{ name: FD_CLASSIFIER_METRIC, step: this.step, epoch: this.epoch + 1, time: Date.now(), value }]);
  }

  /** The end: evaluation, FID, snapshots and the last checkpoint. */
  private async finish(): Promise<TrainingResult> {
    const { epoch } = this;
    await this.evaluate(true);
    if (this.withFid && !this.fidDone) await this.etaModel.item('fid', () => this.clock.during('fid', () => this.computeFid()));
    await this.snapshot();
    if (this.intervalDue()) await this.checkpoint('interval', {});
    await this.checkpoint('last', {});
    this.steps.emitMetrics([
      ...perfPoints(this.clock, this.finalNllRate, { step: this.step, epoch: epoch + 1, time: Date.now() }),
      { name: 'perf/dataParallel', step: this.step, epoch: epoch + 1, time: Date.now(), value: this.parallel?.shards ?? 1 },
    ]);
    await this.parallel?.settled();
    if (this.parallel && this.parallel.shards > 1)
      this.log('info', `data-parallel: the worker computed a shard in ${this.parallel.stepsOnWorker} of ${this.stepsRun} steps`);
    if (this.stoppedEarly) this.log('info', `stopped early after epoch ${epoch + 1}`);
    return { status: 'completed', final: this.final, samplesPerSec: this.samplesPerSec };
  }
}

/** Which of our wasm GEMM variants runs the matrix products (kernels/wasm-gemm.ts), for the run's log. */
function gemmNote(): string {
  const variant = activeGemmVariant();
  return variant ? ` (matrix products: our wasm GEMM, ${variant})` : '';
}
