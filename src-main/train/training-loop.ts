// The training loop of one run, inside the trainer process: load the data, build the model, train with
// minibatch SGD on the chosen objective, evaluate, snapshot, checkpoint, and report everything as
// TrainerEvents. Hot path rules: no read-back of the loss between log points (the loss, reconstruction
// and KL are summed on the device and read every training.logEverySteps steps), noise made in-graph
// from seeds derived from the run seed and the step, every tensor disposed.
import path from 'node:path';
import { readdirSync, rmSync, existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { MetricPoint } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';
import { readCheckpointDir, writeCheckpointDir, type CheckpointContents, type NamedTensor } from '../checkpoints/checkpoint-dir';
import { loadDataset } from '../data/registry';
import type { LoadedDataset, Split } from '../data/types';
import { binarizeWith, gatherRows } from '../data/split-utils';
import { binarizeBatch, corrupt } from '../vae/corruption';
import { evaluateSplit, type EvalResult } from '../vae/evaluate';
import { frechetDistanceFor } from '../vae/fid';
import { trainingObjective, type ObjectiveValue } from '../vae/estimators';
import { fitGmm } from '../vae/gmm';
import { VaeModel, modelSpecFromConfig } from '../vae/model';
import { createOptimizer, exportOptimizerState, importOptimizerState, optimizerStep } from '../vae/optimizer';
import { decodeMeans } from '../vae/sampling';
import { deriveSeed, mulberry32, seededPermutation, SEED_STREAM } from '../vae/seeds';
import type { FinalStatus, TrainerEvent, TrainingContext } from './messages';
import { EtaModel, planRun } from './eta';
import { PhaseClock } from './phase-clock';
import { imageArtifact, jsonArtifact, modelSnapshots } from './snapshots';
import { diagnosticPoints } from './eval-diagnostics';
import { HealthMonitor, healthLogLine } from './health';
import { describeGaussianDecoder } from '@shared/gaussian-decoder';

export interface TrainingResult {
  status: FinalStatus;
  error?: string;
  final: Record<string, number>;
  samplesPerSec: number;
}

/** Minimum interval between 'progress' events. */
export const PROGRESS_INTERVAL_MS = 250;
/** Let the event loop run (cancel messages, timers) at least this often. */
const YIELD_INTERVAL_MS = 20;
/**
 * The importance-sampled -log p(x) costs examples x k decoder passes. During training it is a cheap
 * progress signal: k = min(eval.iwSamples, NLL_K_INTERMEDIATE) on the first floor(budget / k) test
 * examples (a fixed subset: 100 examples at k = 50) ...
 */
export const NLL_SAMPLE_BUDGET_INTERMEDIATE = 5_000;
export const NLL_K_INTERMEDIATE = 50;
/** ... and at the end of the run the full estimate: k = eval.iwSamples on floor(budget / k) examples (k = 500: 1000). */
export const NLL_SAMPLE_BUDGET_FINAL = 500_000;
/** Real and generated images used for the Frechet distance. */
export const FID_EXAMPLES = 2000;

class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

class Diverged extends Error {}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The data a run trains and evaluates on. */
export interface PreparedData {
  dataset: LoadedDataset;
  train: Split;
  val: Split | null;
  test: Split;
  d: number;
  /** Binarize each training batch on the fly (data.binarize = 'dynamic'). */
  dynamicBinarize: boolean;
}

function binarizeSplit(split: Split, seed: number): Split {
  return { ...split, x: binarizeWith(split.x, mulberry32(seed)) };
}

/**
 * Split a validation set off the training split (data.validationFraction, seeded) and, for dynamic
 * binarization, binarize validation and test once with fixed seeds so evaluations are comparable.
 * (The loader already applied trainLimit/testLimit and static binarization.)
 */
export function prepareData(dataset: LoadedDataset, config: RunConfig): PreparedData {
  const d = dataset.d;
  const full = dataset.train;
  const nVal = Math.min(full.n - 1, Math.floor(full.n * config.data.validationFraction));
  let train = full;
  let val: Split | null = null;
  if (nVal > 0) {
    const perm = seededPermutation(full.n, deriveSeed(config.seed, SEED_STREAM.split));
    const valIdx = perm.subarray(0, nVal).slice().sort();
    const trainIdx = perm.subarray(nVal).slice().sort();
    val = gatherRows(full.x, full.y, d, valIdx);
    train = gatherRows(full.x, full.y, d, trainIdx);
  }
  let test = dataset.test;
  const dynamicBinarize = config.data.binarize === 'dynamic';
  if (dynamicBinarize) {
    if (val) val = binarizeSplit(val, deriveSeed(config.seed, SEED_STREAM.binarize, 1));
    test = binarizeSplit(test, deriveSeed(config.seed, SEED_STREAM.binarize, 2));
  }
  if (train.n === 0) throw new Error('the training split is empty');
  return { dataset, train, val, test, d, dynamicBinarize };
}

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

/** Interval checkpoints on disk, oldest first. */
function intervalCheckpoints(root: string): { dir: string; epoch: number }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => /^epoch-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ dir: path.join(root, m[0]), epoch: Number(m[1]) }))
    .sort((a, b) => a.epoch - b.epoch);
}

export async function runTraining(ctx: TrainingContext): Promise<TrainingResult> {
  const { config } = ctx;
  const final: Record<string, number> = {};
  let samplesPerSec = 0;
  let model: VaeModel | null = null;
  let optimizer: tf.Optimizer | null = null;
  let lastProgress = 0;
  let lastYield = Date.now();
  let trainTimeMs = 0;
  let trainSamples = 0;
  const clock = new PhaseClock(ctx.startupMs ?? 0);
  let stepsRun = 0;
  let finalNllRate = NaN;
  let health: HealthMonitor | null = null;

  const emit = (event: TrainerEvent) => ctx.emit(event);
  const log = (level: 'info' | 'warn' | 'error', message: string) => emit({ type: 'log', level, message });
  const emitMetrics = (points: MetricPoint[]) => {
    const good = points.filter((p) => finite(p.value));
    if (!good.length) return;
    for (const p of good) final[p.name] = p.value;
    emit({ type: 'metrics', points: good });
    for (const change of health?.observe(good) ?? []) {
      log(change.active ? 'warn' : 'info', healthLogLine(change));
      const last = good[good.length - 1]!;
      final[change.metric] = change.active ? 1 : 0;
      emit({
        type: 'metrics',
        points: [{ name: change.metric, step: last.step, epoch: last.epoch, time: last.time, value: final[change.metric]! }],
      });
    }
  };
  const checkCancel = async () => {
    if (Date.now() - lastYield >= YIELD_INTERVAL_MS) {
      await yieldToEventLoop();
      lastYield = Date.now();
    }
    if (ctx.signal.aborted) throw new Cancelled();
  };

  try {
    if (ctx.signal.aborted) throw new Cancelled();
    clock.enter('data');
    const dataset = await loadDataset(config.data, {
      dataHome: ctx.dataHome,
      seed: config.seed,
    });
    const data = prepareData(dataset, config);
    const shape = dataset.descriptor.shape;
    log(
      'info',
      `data: ${dataset.descriptor.id}, ${data.train.n} train, ${data.val?.n ?? 0} validation, ${data.test.n} test, ${data.d} features`,
    );
    if (config.model.kind === 'gmm') return await runGmm(ctx, data, final, emitMetrics, log);

    model = new VaeModel(modelSpecFromConfig(config, shape, dataset.descriptor.kind));
    optimizer = createOptimizer(config.optimizer);
    const vars = model.variables();
    health = new HealthMonitor({ latentDim: model.latentDim, stochastic: model.stochastic });
    if (config.model.likelihood === 'gaussian') log('info', describeGaussianDecoder(config.model.sigma, data.d));
    log('info', `model: ${config.model.kind}/${config.model.arch}, ${model.parameterCount()} parameters, backend ${ctx.backend}`);

    const B = Math.min(config.training.batchSize, data.train.n);
    const stepsPerEpoch = Math.ceil(data.train.n / B);
    const totalEpochs = config.training.epochs;
    let totalSteps = totalEpochs * stepsPerEpoch;
    if (config.training.maxSteps > 0) totalSteps = Math.min(totalSteps, config.training.maxSteps);

    let step = 0;
    let startEpoch = 0;
    if (ctx.resumeFrom) {
      const restored = await restoreFromCheckpoint(ctx.resumeFrom.dir, model, ctx.resumeFrom.restoreOptimizer ? optimizer : null);
      step = Number.isFinite(ctx.resumeFrom.step) ? ctx.resumeFrom.step : restored.step;
      startEpoch = Number.isFinite(ctx.resumeFrom.epoch) ? ctx.resumeFrom.epoch : restored.epoch;
      log(
        'info',
        `resumed from ${ctx.resumeFrom.dir} at epoch ${startEpoch}, step ${step}${ctx.resumeFrom.restoreOptimizer ? ' with optimizer state' : ''}`,
      );
    }
    emit({ type: 'started', backend: ctx.backend, totalSteps, totalEpochs });
    clock.enter('train');

    const evalBatch = Math.max(B, 256);
    const nllKAt = (isFinal: boolean) => (isFinal ? config.eval.iwSamples : Math.min(config.eval.iwSamples, NLL_K_INTERMEDIATE));
    const nllExamplesAt = (isFinal: boolean) =>
      model!.stochastic && data.test.n > 0
        ? Math.min(
            data.test.n,
            Math.max(1, Math.floor((isFinal ? NLL_SAMPLE_BUDGET_FINAL : NLL_SAMPLE_BUDGET_INTERMEDIATE) / nllKAt(isFinal))),
          )
        : 0;
    const withFid = config.eval.fid && dataset.descriptor.kind === 'image';
    const etaModel = new EtaModel(
      planRun(config, {
        step,
        startEpoch,
        stepsPerEpoch,
        totalSteps,
        batchSize: B,
        evalExamples: data.test.n + (data.val?.n ?? 0),
        fid: withFid,
        intermediateNllDecoded: nllExamplesAt(false) * nllKAt(false),
        finalNllDecoded: nllExamplesAt(true) * nllKAt(true),
      }),
    );
    const logEvery = config.training.logEverySteps;
    const klWarmupSteps = config.objective.klWarmupEpochs * stepsPerEpoch;
    const kind = config.model.kind;
    let bestVal = Infinity;
    let bestEpoch = -1;
    let lastKlPerDim: number[] | undefined;
    let lastKlEpoch = -1;
    let stoppedEarly = false;
    let epoch = startEpoch;

    const progress = (phase: string, force = false) => {
      const now = Date.now();
      if (!force && now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = now;
      const sps = trainTimeMs > 0 ? (trainSamples * 1000) / trainTimeMs : 0;
      // Everything still to come: steps at the measured wall time per step, evaluations, snapshots, checkpoints.
      const etaSeconds = etaModel.remainingSeconds(step, stepsRun > 0 ? clock.ms('train') / stepsRun : null);
      // epoch: fractional epochs done (step / steps per epoch), e.g. 2.5 halfway through the third epoch.
      emit({
        type: 'progress',
        progress: { step, totalSteps, epoch: step / stepsPerEpoch, totalEpochs, samplesPerSec: sps, etaSeconds, phase },
      });
    };

    // Running sums on the device since the last log point.
    let sumLoss: tf.Scalar = tf.scalar(0);
    let sumRecon: tf.Scalar = tf.scalar(0);
    let sumKl: tf.Scalar = tf.scalar(0);
    let pending = 0;
    const flushLog = () => {
      if (pending === 0) return;
      const [l, r, k] = [sumLoss.dataSync()[0]!, sumRecon.dataSync()[0]!, sumKl.dataSync()[0]!];
      const n = pending;
      pending = 0;
      for (const t of [sumLoss, sumRecon, sumKl]) t.dispose();
      sumLoss = tf.scalar(0);
      sumRecon = tf.scalar(0);
      sumKl = tf.scalar(0);
      if (!finite(l) || !finite(r) || !finite(k)) {
        const what = Number.isNaN(l) ? 'NaN' : !finite(l) ? 'infinite' : Number.isNaN(r + k) ? 'NaN in its terms' : 'infinite in its terms';
        throw new Diverged(
          `training diverged: the loss became ${what} by step ${step} (epoch ${epoch + 1}; averaged over steps ${step - n + 1}-${step})`,
        );
      }
      const time = Date.now();
      const at = step / stepsPerEpoch; // fractional epochs done
      emitMetrics([
        { name: 'train/loss', step, epoch: at, time, value: l / n },
        { name: 'train/recon', step, epoch: at, time, value: r / n },
        { name: 'train/kl', step, epoch: at, time, value: k / n },
      ]);
    };

    const evaluate = async (split: Split, isFinal: boolean, withNll: boolean): Promise<EvalResult> =>
      evaluateSplit(model!, split.x, split.n, {
        batchSize: evalBatch,
        estimator: config.objective.estimator,
        samples: 1,
        iwSamples: withNll && model!.stochastic ? nllKAt(isFinal) : 0,
        nllLimit: Math.max(1, nllExamplesAt(isFinal)),
        seed: deriveSeed(config.seed, SEED_STREAM.eval),
        // conv decoders hold feature maps per row: decode fewer importance samples at once.
        nllRows: config.model.arch === 'conv' ? 1024 : 8192,
        onBatch: async (fraction) => {
          etaModel.itemFraction(fraction);
          progress('eval');
          await checkCancel();
        },
      });

    const runEval = (isFinal: boolean) =>
      etaModel.item(isFinal ? 'finalEval' : 'eval', () => clock.during('eval', () => evalPoints(isFinal)));
    const evalPoints = async (isFinal: boolean) => {
      progress('eval', true); // the phase and its ETA show at once, however short the evaluation
      const time = Date.now();
      const points: MetricPoint[] = [];
      const at = { step, epoch: epoch + 1, time };
      if (data.val && data.val.n > 0) {
        const v = await evaluate(data.val, isFinal, false);
        points.push({ name: 'val/loss', ...at, value: v.loss });
        if (v.loss < bestVal) {
          bestVal = v.loss;
          bestEpoch = epoch;
          await saveCheckpoint('best', { 'val/loss': v.loss });
        }
      }
      if (data.test.n > 0) {
        const t = await evaluate(data.test, isFinal, true);
        etaModel.observeEval(t);
        if (isFinal && t.nllMs > 0) finalNllRate = (t.nllDecoded * 1000) / t.nllMs;
        points.push({ name: 'test/loss', ...at, value: t.loss }, { name: 'test/recon', ...at, value: t.recon });
        if (model!.stochastic) {
          points.push({ name: 'test/kl', ...at, value: t.kl }, { name: 'test/activeUnits', ...at, value: t.activeUnits });
          if (t.nllExamples > 0) points.push({ name: 'test/nll', ...at, value: t.nll });
          lastKlPerDim = t.klPerDim;
          lastKlEpoch = epoch;
        }
        points.push(
          ...diagnosticPoints({
            model: model!,
            config,
            test: data.test,
            testSources: dataset.testSources,
            nll: t.nll,
            nllExamples: t.nllExamples,
            at,
          }),
        );
        if (t.nllExamples > 0 && t.nllExamples < data.test.n && (isFinal || epoch === startEpoch))
          log(
            'info',
            `test/nll ${isFinal ? 'at the end' : 'during training'}: estimated on the first ${t.nllExamples} of ${data.test.n} test examples with k = ${nllKAt(isFinal)}`,
          );
      }
      emitMetrics(points);
    };

    const saveCheckpoint = (tag: 'interval' | 'best' | 'last', metrics: Record<string, number>) =>
      etaModel.item('checkpoint', () => clock.during('checkpoints', () => writeCheckpoint(tag, metrics)));
    const writeCheckpoint = async (tag: 'interval' | 'best' | 'last', metrics: Record<string, number>) => {
      progress('snapshot', true);
      const root = path.join(ctx.runDir, 'checkpoints');
      const dir = path.join(root, tag === 'interval' ? `epoch-${epoch + 1}` : tag);
      const contents: CheckpointContents = {
        runId: ctx.runId,
        epoch: epoch + 1,
        step,
        config,
        weights: model!.namedWeights(),
        optimizer: await exportOptimizerState(optimizer!, model!),
        metrics: { ...final, ...metrics },
        backend: ctx.backend,
        createdAt: Date.now(),
      };
      const bytes = writeCheckpointDir(dir, contents);
      emit({ type: 'checkpoint', epoch: epoch + 1, step, tag, dir, bytes, metrics: contents.metrics });
      if (tag === 'interval') {
        lastIntervalEpoch = epoch;
        const all = intervalCheckpoints(root);
        for (const old of all.slice(0, Math.max(0, all.length - config.checkpoints.keepLast)))
          rmSync(old.dir, { recursive: true, force: true });
      }
    };

    let lastIntervalEpoch = -1;
    const intervalDue = () =>
      config.checkpoints.everyEpochs > 0 && (epoch + 1) % config.checkpoints.everyEpochs === 0 && lastIntervalEpoch !== epoch;

    const runSnapshots = () => etaModel.item('snapshots', () => clock.duringSync('snapshots', writeSnapshots));
    const writeSnapshots = () => {
      progress('snapshot', true);
      for (const a of modelSnapshots(model!, data.test, {
        shape,
        datasetKind: dataset.descriptor.kind,
        gridSize: config.snapshots.gridSize,
        manifoldSize: config.snapshots.manifoldSize,
        epoch: epoch + 1,
        step,
        klPerDim: lastKlEpoch === epoch ? lastKlPerDim : undefined,
        labelNames: dataset.descriptor.labels,
      }))
        emit(a);
    };

    /** One optimizer step; adds the batch's loss, recon and KL to the device-side running sums. */
    const trainStep = (xb: tf.Tensor2D, stepSeed: number, klWeight: number) => {
      let kept: ObjectiveValue | null = null;
      optimizerStep(
        optimizer!,
        vars,
        () => {
          let input = xb;
          let target = xb;
          if (data.dynamicBinarize) input = target = binarizeBatch(xb, deriveSeed(stepSeed, SEED_STREAM.binarize));
          if (kind === 'dae')
            input = corrupt(target, config.model.corruption, config.model.corruptionLevel, deriveSeed(stepSeed, SEED_STREAM.corruption));
          const value = trainingObjective(model!, input, target, {
            kind: kind as 'vae' | 'ae' | 'dae' | 'iwae',
            estimator: config.objective.estimator,
            samples: config.objective.mcSamples,
            iwSamples: config.objective.iwSamples,
            klWeight,
            seed: deriveSeed(stepSeed, SEED_STREAM.eps),
          });
          // Reported loss: the -IW bound for iwae, else the unweighted -ELBO (recon + kl; recon for ae/dae).
          const reported = kind === 'iwae' ? tf.clone(value.loss) : tf.add(value.recon, value.kl);
          kept = { loss: tf.keep(reported as tf.Scalar), recon: tf.keep(value.recon), kl: tf.keep(value.kl) };
          return value.loss;
        },
        config.optimizer.clipNorm,
      );
      const v = kept as ObjectiveValue | null;
      if (!v) throw new Error('the objective did not run');
      const next = tf.tidy(() => [tf.add(sumLoss, v.loss), tf.add(sumRecon, v.recon), tf.add(sumKl, v.kl)]);
      tf.dispose([sumLoss, sumRecon, sumKl, v.loss, v.recon, v.kl]);
      [sumLoss, sumRecon, sumKl] = next as [tf.Scalar, tf.Scalar, tf.Scalar];
    };

    let reachedMax = totalSteps <= step;
    let lastEpochRan = startEpoch - 1;
    try {
      for (epoch = startEpoch; epoch < totalEpochs && !reachedMax; epoch++) {
        lastEpochRan = epoch;
        const perm = seededPermutation(data.train.n, deriveSeed(config.seed, SEED_STREAM.shuffle, epoch));
        const epochStart = Date.now();
        let epochSamples = 0;
        let epochTime = 0;
        for (let b = 0; b < stepsPerEpoch; b++) {
          await checkCancel();
          const start = b * B;
          const end = Math.min(data.train.n, start + B);
          const rows = end - start;
          const xs = new Float32Array(rows * data.d);
          for (let i = 0; i < rows; i++) {
            const r = perm[start + i]!;
            xs.set(data.train.x.subarray(r * data.d, (r + 1) * data.d), i * data.d);
          }
          const t0 = performance.now();
          const xb = tf.tensor2d(xs, [rows, data.d]);
          const stepSeed = deriveSeed(config.seed, step);
          const warm = klWarmupSteps > 0 ? Math.min(1, (step + 1) / klWarmupSteps) : 1;
          trainStep(xb, stepSeed, config.objective.beta * warm);
          xb.dispose();
          step++;
          stepsRun++;
          pending++;
          if (pending >= logEvery) flushLog();
          const dt = performance.now() - t0;
          trainTimeMs += dt;
          epochTime += dt;
          trainSamples += rows;
          epochSamples += rows;
          progress('train');
          if (step >= totalSteps) {
            reachedMax = true;
            break;
          }
        }
        flushLog();
        const epochSps = epochTime > 0 ? (epochSamples * 1000) / epochTime : 0;
        emitMetrics([{ name: 'perf/samplesPerSec', step, epoch: epoch + 1, time: Date.now(), value: epochSps }]);
        log(
          'info',
          `epoch ${epoch + 1}: ${epochSamples} samples in ${((Date.now() - epochStart) / 1000).toFixed(1)} s (${epochSps.toFixed(0)} samples/s in steps)`,
        );
        const isLast = epoch === totalEpochs - 1 || reachedMax;
        if (!isLast && (epoch + 1) % config.eval.everyEpochs === 0) await runEval(false);
        if (!isLast && (epoch + 1) % config.snapshots.everyEpochs === 0) await runSnapshots();
        // The last epoch's interval checkpoint is written after the final evaluation (so it carries its metrics).
        if (!isLast && intervalDue()) await saveCheckpoint('interval', {});
        const patience = config.training.earlyStoppingPatience;
        if (!isLast && patience > 0 && data.val && bestEpoch >= 0 && epoch - bestEpoch >= patience) {
          log(
            'info',
            `early stopping: no validation improvement for ${epoch - bestEpoch} epochs (best ${bestVal.toFixed(3)} at epoch ${bestEpoch + 1})`,
          );
          stoppedEarly = true;
          break;
        }
      }
    } finally {
      tf.dispose([sumLoss, sumRecon, sumKl]);
    }
    epoch = lastEpochRan; // the last epoch that ran (0-based)
    samplesPerSec = trainTimeMs > 0 ? (trainSamples * 1000) / trainTimeMs : 0;

    // The end: evaluation, FID, snapshots and the last checkpoint.
    await runEval(true);
    if (withFid) await etaModel.item('fid', () => clock.during('fid', computeFid));
    await runSnapshots();
    if (intervalDue()) await saveCheckpoint('interval', {});
    await saveCheckpoint('last', {});
    emitMetrics(perfPoints(clock, finalNllRate, { step, epoch: epoch + 1, time: Date.now() }));
    if (stoppedEarly) log('info', `stopped early after epoch ${epoch + 1}`);
    return { status: 'completed', final, samplesPerSec };

    async function computeFid() {
      progress('eval', true);
      const n = Math.min(FID_EXAMPLES, data.test.n);
      if (n < 2) return;
      const fake = new Float32Array(n * data.d);
      const chunk = 500;
      const D = model!.latentDim;
      const noise = tf
        .tidy(() => tf.randomNormal([n, D], 0, 1, 'float32', deriveSeed(config.seed, SEED_STREAM.eval, 77)).dataSync() as Float32Array)
        .slice();
      for (let s = 0; s < n; s += chunk) {
        const e = Math.min(n, s + chunk);
        fake.set(decodeMeans(model!, noise.subarray(s * D, e * D), e - s), s * data.d);
        await checkCancel();
      }
      try {
        const value = await frechetDistanceFor(dataset.descriptor.id, data.train, shape, data.test.x.subarray(0, n * data.d), fake, n, {
          cacheDir: path.join(ctx.dataHome, 'fid-cache'),
          seed: config.seed,
          signal: ctx.signal,
          onProgress: (fraction) => {
            etaModel.itemFraction(fraction);
            progress('eval');
          },
        });
        emitMetrics([{ name: 'test/fid', step, epoch: epoch + 1, time: Date.now(), value }]);
      } catch (err) {
        if (ctx.signal.aborted) throw new Cancelled();
        log('warn', `test/fid failed: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    samplesPerSec = trainTimeMs > 0 ? (trainSamples * 1000) / trainTimeMs : 0;
    if (err instanceof Cancelled || ctx.signal.aborted) return { status: 'cancelled', final, samplesPerSec };
    if (err instanceof Diverged) {
      log('error', err.message);
      return { status: 'diverged', error: err.message, final, samplesPerSec };
    }
    const message = err instanceof Error ? err.message : String(err);
    log('error', message);
    return { status: 'failed', error: message, final, samplesPerSec };
  } finally {
    model?.dispose();
    optimizer?.dispose();
  }
}

/** Where the run's time went (perf/time/<phase>, seconds) and the final -log p(x)'s decoder passes per second. */
function perfPoints(clock: PhaseClock, nllDecodedPerSec: number, at: { step: number; epoch: number; time: number }): MetricPoint[] {
  const points: MetricPoint[] = Object.entries(clock.seconds()).map(([phase, value]) => ({ name: `perf/time/${phase}`, ...at, value }));
  if (Number.isFinite(nllDecodedPerSec)) points.push({ name: 'perf/evalNllDecodedPerSec', ...at, value: nllDecodedPerSec });
  return points;
}

/** model.kind = 'gmm': EM on the training split, exact test log-likelihood, samples. */
async function runGmm(
  ctx: TrainingContext,
  data: PreparedData,
  final: Record<string, number>,
  emitMetrics: (p: MetricPoint[]) => void,
  log: (level: 'info' | 'warn' | 'error', message: string) => void,
): Promise<TrainingResult> {
  const { config } = ctx;
  const iterations = config.model.emIterations;
  const t0 = performance.now();
  ctx.emit({ type: 'started', backend: ctx.backend, totalSteps: iterations, totalEpochs: 1 });
  let lastProgress = 0;
  let diverged: string | null = null;
  const gmm = await fitGmm(data.train.x, data.train.n, data.d, {
    components: config.model.components,
    iterations,
    seed: config.seed,
    signal: ctx.signal,
    onIteration: (it, avgLogLik) => {
      const step = it + 1;
      if (!Number.isFinite(avgLogLik) && !diverged) diverged = `EM diverged: the log-likelihood became ${avgLogLik} at iteration ${step}`;
      emitMetrics([{ name: 'train/loss', step, epoch: 1, time: Date.now(), value: -avgLogLik }]);
      const now = Date.now();
      if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        const elapsed = (performance.now() - t0) / 1000;
        ctx.emit({
          type: 'progress',
          progress: {
            step,
            totalSteps: iterations,
            epoch: 0,
            totalEpochs: 1,
            samplesPerSec: (data.train.n * step) / Math.max(elapsed, 1e-9),
            etaSeconds: (elapsed / step) * (iterations - step),
            phase: 'train',
          },
        });
      }
    },
  });
  if (ctx.signal.aborted) return { status: 'cancelled', final, samplesPerSec: 0 };
  const elapsed = (performance.now() - t0) / 1000;
  const samplesPerSec = (data.train.n * iterations) / Math.max(elapsed, 1e-9);
  if (diverged) return { status: 'diverged', error: diverged, final, samplesPerSec };
  const time = Date.now();
  const mean = (v: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i]!;
    return v.length ? s / v.length : NaN;
  };
  const points: MetricPoint[] = [];
  if (data.val && data.val.n > 0)
    points.push({ name: 'val/loss', step: iterations, epoch: 1, time, value: -mean(gmm.logLikelihood(data.val.x, data.val.n)) });
  if (data.test.n > 0) {
    const nll = -mean(gmm.logLikelihood(data.test.x, data.test.n));
    points.push(
      { name: 'test/loss', step: iterations, epoch: 1, time, value: nll },
      { name: 'test/nll', step: iterations, epoch: 1, time, value: nll },
    );
  }
  points.push({ name: 'perf/samplesPerSec', step: iterations, epoch: 1, time, value: samplesPerSec });
  const shape = data.dataset.descriptor.shape;
  // The same sample-quality score as the VAEs' (on draws from the mixture), so the baseline sits beside them.
  const nFid = Math.min(FID_EXAMPLES, data.test.n);
  if (config.eval.fid && data.dataset.descriptor.kind === 'image' && nFid >= 2) {
    try {
      const fake = gmm.sample(nFid, deriveSeed(config.seed, SEED_STREAM.eval, 77));
      const value = await frechetDistanceFor(
        data.dataset.descriptor.id,
        data.train,
        shape,
        data.test.x.subarray(0, nFid * data.d),
        fake,
        nFid,
        {
          cacheDir: path.join(ctx.dataHome, 'fid-cache'),
          seed: config.seed,
          signal: ctx.signal,
        },
      );
      points.push({ name: 'test/fid', step: iterations, epoch: 1, time, value });
    } catch (err) {
      if (ctx.signal.aborted) return { status: 'cancelled', final, samplesPerSec };
      log('warn', `test/fid failed: ${(err as Error).message}`);
    }
  }
  emitMetrics(points);
  const at = { shape, epoch: 1, step: iterations };
  if (data.dataset.descriptor.kind === 'image' && (shape[2] === 1 || shape[2] === 3)) {
    const g = config.snapshots.gridSize;
    ctx.emit(
      imageArtifact('prior-samples', gmm.sample(g * g, 12345), g * g, g, g, at, {
        description: 'samples from the fitted mixture',
        generative: true,
      }),
    );
    const k = gmm.components;
    const cols = Math.min(k, 10);
    ctx.emit(imageArtifact('reconstructions', gmm.means(), k, Math.ceil(k / cols), cols, at, { description: 'component means' }));
  } else {
    ctx.emit(jsonArtifact('prior-samples', { samples: Array.from(gmm.sample(16, 12345)), d: data.d }, at));
  }
  const weights: NamedTensor[] = gmm.toNamedTensors();
  const dir = path.join(ctx.runDir, 'checkpoints', 'last');
  const contents: CheckpointContents = {
    runId: ctx.runId,
    epoch: 1,
    step: iterations,
    config,
    weights,
    optimizer: null,
    metrics: { ...final },
    backend: ctx.backend,
    createdAt: Date.now(),
  };
  const bytes = writeCheckpointDir(dir, contents);
  ctx.emit({ type: 'checkpoint', epoch: 1, step: iterations, tag: 'last', dir, bytes, metrics: contents.metrics });
  log('info', `gmm: ${config.model.components} components, ${iterations} EM iterations in ${elapsed.toFixed(1)} s`);
  return { status: 'completed', final, samplesPerSec };
}
