// The setup of a VAE-family run before its first step: the data loaded and prepared, the model and optimizer built
// (restored from a checkpoint when resuming), the health monitor, the plan (training-plan.ts), the 'started' event,
// and the ETA model of everything still to come. Its result is the RunState the loop and its parts share.
import { existsSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { describeGaussianDecoder } from '@shared/gaussian-decoder';
import { checkModelSize } from '../../checkpoints/model-size';
import { loadDataset } from '../../data/registry';
import type { LoadedDataset } from '../../data/types';
import { activeGemmVariant } from '../../kernels/wasm-gemm';
import { featureCachePaths } from '../../vae/fid';
import { VaeModel, modelSpecFromConfig } from '../../vae/model';
import { createOptimizer } from '../../vae/optimizer';
import type { TrainingContext } from '../common/messages';
import { EtaModel, planRun } from '../progress/eta';
import type { PhaseClock } from '../progress/phase-clock';
import { restoreFromCheckpoint } from './checkpointing';
import { HealthMonitor } from './health';
import { prepareData, type PreparedData } from './prepare-data';
import type { RunState } from './run-state';
import { fidCacheDir, type RunSteps } from './run-steps';
import { planTraining } from './training-plan';

export interface LoadedRunData {
  dataset: LoadedDataset;
  data: PreparedData;
  shape: [number, number, number];
}

/** What the caller disposes at the end of the run, set as soon as it exists (a failed restore still frees it). */
export interface Owned {
  model: VaeModel | null;
  optimizer: tf.Optimizer | null;
}

/** The run's dataset, its splits (prepare-data.ts) and the model checked against the data's real shape. */
export async function loadRunData(ctx: TrainingContext, steps: RunSteps, clock: PhaseClock): Promise<LoadedRunData> {
  const { config } = ctx;
  clock.enter('data');
  const dataset = await loadDataset(config.data, { dataHome: ctx.dataHome, seed: config.seed });
  const data = prepareData(dataset, config);
  steps.log(
    'info',
    `data: ${dataset.descriptor.id}, ${data.train.n} train, ${data.val?.n ?? 0} validation, ${data.test.n} test, ${data.d} features`,
  );
  const shape = dataset.descriptor.shape;
  // The model against the data's real shape (the service could only check a header or a placeholder).
  checkModelSize(config, shape, `the model (${config.model.kind} ${config.model.arch})`);
  return { dataset, data, shape };
}

/** Build the model and optimizer, restore a checkpoint when resuming, plan the run and report 'started'. */
export async function setupRun(
  ctx: TrainingContext,
  steps: RunSteps,
  clock: PhaseClock,
  { dataset, data, shape }: LoadedRunData,
  owned: Owned,
): Promise<{ run: RunState; fidFitNeeded: boolean }> {
  const { config } = ctx;
  const model = (owned.model = new VaeModel(modelSpecFromConfig(config, shape, dataset.descriptor.kind)));
  const optimizer = (owned.optimizer = createOptimizer(config.optimizer));
  const learnedSigma = config.model.likelihood === 'gaussian-learned';
  steps.health = new HealthMonitor({ latentDim: model.latentDim, stochastic: model.stochastic, learnedSigma });
  if (config.model.likelihood === 'gaussian') steps.log('info', describeGaussianDecoder(config.model.sigma, data.d));
  steps.log(
    'info',
    `model: ${config.model.kind}/${config.model.arch}, ${model.parameterCount()} parameters, backend ${ctx.backend}${gemmNote()}`,
  );
  let step = 0;
  let startEpoch = 0;
  if (ctx.resumeFrom) {
    const { dir, restoreOptimizer } = ctx.resumeFrom;
    const restored = await restoreFromCheckpoint(dir, model, restoreOptimizer ? optimizer : null);
    step = Number.isFinite(ctx.resumeFrom.step) ? ctx.resumeFrom.step : restored.step;
    startEpoch = Number.isFinite(ctx.resumeFrom.epoch) ? ctx.resumeFrom.epoch : restored.epoch;
    steps.log('info', `resumed from ${dir} at epoch ${startEpoch}, step ${step}${restoreOptimizer ? ' with optimizer state' : ''}`);
  }
  const plan = planTraining(config, { trainN: data.train.n, testN: data.test.n, stochastic: model.stochastic, startEpoch });
  steps.emit({ type: 'started', backend: ctx.backend, totalSteps: plan.totalSteps, totalEpochs: plan.totalEpochs });
  clock.enter('train');
  // no sample-quality score for models without a prior to sample from (ae, dae)
  const withFid = config.eval.fid && dataset.descriptor.kind === 'image' && model.stochastic;
  const fidFitNeeded = withFid && !existsSync(featureCachePaths(fidCacheDir(ctx.dataHome), dataset.descriptor.id, data.d).json);
  const eta = new EtaModel(
    planRun(config, {
      step,
      startEpoch,
      stepsPerEpoch: plan.stepsPerEpoch,
      totalSteps: plan.totalSteps,
      batchSize: plan.B,
      evalExamples: data.test.n + (data.val?.n ?? 0),
      fid: withFid,
      fidFit: fidFitNeeded,
      intermediateNllDecoded: plan.nllExamples(false) * plan.nllK(false),
      finalNllDecoded: plan.nllExamples(true) * plan.nllK(true),
    }),
  );
  const run: RunState = { ctx, config, steps, clock, dataset, data, shape, model, optimizer, plan, eta, withFid, step, epoch: startEpoch };
  return { run, fidFitNeeded };
}

/** Which of our wasm GEMM variants runs the matrix products (kernels/wasm-gemm.ts), for the run's log. */
function gemmNote(): string {
  const variant = activeGemmVariant();
  return variant ? ` (matrix products: our wasm GEMM, ${variant})` : '';
}
