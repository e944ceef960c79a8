// The plan of one VAE-family run, fixed before its first step: the batch size, steps per epoch, the epochs and steps in
// all (training.maxSteps caps them), where a resumed run starts, the evaluation batch, whether the FID is computed,
// the KL warm-up, and the budget of the importance-sampled -log p(x) during training and at the end. Pure: no tfjs.
import type { RunConfig } from '@shared/run-config';

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

export interface TrainingPlan {
  /** The batch size (training.batchSize, at most the training split). */
  B: number;
  stepsPerEpoch: number;
  totalEpochs: number;
  /** Steps of the whole run (from step 0), capped by training.maxSteps. */
  totalSteps: number;
  /** The first epoch this process trains (0-based; later when resuming). */
  startEpoch: number;
  evalBatch: number;
  /** Steps of the KL warm-up (objective.klWarmupEpochs), 0 for none. */
  klWarmupSteps: number;
  /** k of the -log p(x) estimate during training (false) or at the end (true). */
  nllK(isFinal: boolean): number;
  /** Test examples the -log p(x) is estimated on (0: no estimate: a deterministic model or no test split). */
  nllExamples(isFinal: boolean): number;
}

/** The plan of a run on `trainN` training and `testN` test examples; `stochastic`: the model has a posterior to sample. */
export function planTraining(
  config: RunConfig,
  sizes: { trainN: number; testN: number; stochastic: boolean; startEpoch: number },
): TrainingPlan {
  const B = Math.min(config.training.batchSize, sizes.trainN);
  const stepsPerEpoch = Math.ceil(sizes.trainN / B);
  const totalEpochs = config.training.epochs;
  let totalSteps = totalEpochs * stepsPerEpoch;
  if (config.training.maxSteps > 0) totalSteps = Math.min(totalSteps, config.training.maxSteps);
  const { iwSamples, nllExamples } = config.eval;
  const nllK = (isFinal: boolean) => (isFinal ? iwSamples : Math.min(iwSamples, NLL_K_INTERMEDIATE));
  return {
    B,
    stepsPerEpoch,
    totalEpochs,
    totalSteps,
    startEpoch: sizes.startEpoch,
    evalBatch: Math.max(B, 256),
    klWarmupSteps: config.objective.klWarmupEpochs * stepsPerEpoch,
    nllK,
    nllExamples: (isFinal) =>
      sizes.stochastic && sizes.testN > 0
        ? Math.min(
            sizes.testN,
            isFinal && nllExamples > 0 ? nllExamples : sizes.testN,
            Math.max(1, Math.floor((isFinal ? NLL_SAMPLE_BUDGET_FINAL : NLL_SAMPLE_BUDGET_INTERMEDIATE) / nllK(isFinal))),
          )
        : 0,
  };
}

/** The KL weight of the step after `step` steps: objective.beta, ramped up linearly over the warm-up steps. */
export function klWeightAt(config: RunConfig, plan: TrainingPlan, step: number): number {
  const warm = plan.klWarmupSteps > 0 ? Math.min(1, (step + 1) / plan.klWarmupSteps) : 1;
  return config.objective.beta * warm;
}
