// How big a model is (parameters and bytes), from its config and the dataset's example shape alone, and the
// limit it must respect: LIMITS.MODEL_MAX_PARAMETERS, and its training footprint against the machine's memory.
import os from 'node:os';
import { LIMITS, LimitError } from '@shared/limits';
import type { RunConfig } from '@shared/run-config';
import { expectedWeightShapes, type InputShape } from './architecture';

/** Trainable parameters of the model the config describes on examples of this shape. */
export function modelParameters(config: RunConfig, inputShape: InputShape): number {
  return expectedWeightShapes(config, inputShape).reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
}

/** Bytes a training process needs at least for the weights: float32 weights, gradients and two Adam slots. */
export function trainingBytes(parameters: number): number {
  return parameters * 4 * 4;
}

/**
 * Refuse a model over LIMITS.MODEL_MAX_PARAMETERS, or one whose training state would not fit in half of the
 * machine's total memory. `what` names the model in the message ("model", "the bundle's model").
 */
export function checkModelSize(config: RunConfig, inputShape: InputShape, what = 'model'): number {
  const n = modelParameters(config, inputShape);
  const shape = `[${inputShape.join(', ')}]`;
  if (n > LIMITS.MODEL_MAX_PARAMETERS)
    throw new LimitError(
      `${what} has ${n.toLocaleString('en-US')} parameters on examples of shape ${shape}, more than the limit of ${LIMITS.MODEL_MAX_PARAMETERS.toLocaleString('en-US')} (MODEL_MAX_PARAMETERS); use fewer or smaller hidden layers`,
      'MODEL_MAX_PARAMETERS',
    );
  const bytes = trainingBytes(n);
  const budget = os.totalmem() / 2;
  if (bytes > budget)
    throw new LimitError(
      `${what} needs about ${Math.round(bytes / 2 ** 20)} MiB for its weights, gradients and optimizer state, more than half of this machine's memory (${Math.round(budget / 2 ** 20)} MiB)`,
      'MODEL_MAX_PARAMETERS',
    );
  return n;
}
