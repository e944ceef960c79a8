// Optimizers (tf.train.*), one training step with optional global-norm clipping, and the optimizer state
// as named tensors for checkpoints (slots named "<stable weight name>/<slot>", e.g. "encoder/mu/kernel/m").
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '@shared/run-config';
import type { NamedTensor, OptimizerState } from './named-tensor';
import { WasmAdamOptimizer } from '../kernels/wasm-kernels';
import { tensorValues } from '../kernels/wasm-heap';
import type { VaeModel } from './model';

export function createOptimizer(opt: RunConfig['optimizer']): tf.Optimizer {
  switch (opt.name) {
    case 'adam':
      // tf.train.adam's update, done in one SIMD pass per weight on the wasm backend (stock update elsewhere).
      return new WasmAdamOptimizer(opt.learningRate);
    case 'adagrad':
      // tfjs divides by sqrt(accumulator + backend epsilon (1e-7)), so an accumulator starting at 0 never divides by 0
      return tf.train.adagrad(opt.learningRate, opt.initialAccumulator);
    case 'rmsprop':
      return tf.train.rmsprop(opt.learningRate);
    case 'sgd':
      return opt.momentum > 0 ? tf.train.momentum(opt.learningRate, opt.momentum) : tf.train.sgd(opt.learningRate);
  }
}

/** Scale gradients so their global L2 norm is at most clipNorm (in-graph; no read-back). */
export function clipByGlobalNorm(grads: tf.Tensor[], clipNorm: number): tf.Tensor[] {
  return tf.tidy(() => {
    const sq = tf.addN(grads.map((g) => tf.sum(tf.square(g))));
    const norm = tf.sqrt(sq);
    const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
    return grads.map((g) => tf.mul(g, scale));
  });
}

/** The gradients of tf.variableGrads in the model's weight order; every weight must have one. */
export function gradientList(vars: tf.Variable[], grads: tf.NamedTensorMap): tf.Tensor[] {
  return vars.map((v) => {
    const g = grads[v.name];
    if (!g) throw new Error(`weight ${v.name} gets no gradient from the loss`);
    return g;
  });
}

/** Clip gradients to a global norm (clipNorm > 0) and apply them in the model's weight order, so optimizer slots line up with weights. */
export function applyClipped(optimizer: tf.Optimizer, vars: tf.Variable[], grads: tf.Tensor[], clipNorm: number): void {
  tf.tidy(() => {
    const list = clipNorm > 0 ? clipByGlobalNorm(grads, clipNorm) : grads;
    optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: list[i]! })));
  });
}

/** One optimizer step on `lossFn` (whatever extra scalars lossFn keeps are left to the caller). */
export function optimizerStep(optimizer: tf.Optimizer, vars: tf.Variable[], lossFn: () => tf.Scalar, clipNorm: number): void {
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(lossFn, vars);
    value.dispose();
    applyClipped(optimizer, vars, gradientList(vars, grads), clipNorm);
  });
}

function optimizerName(optimizer: tf.Optimizer): string {
  const cls = optimizer.getClassName();
  return (
    ({ Adam: 'adam', Adagrad: 'adagrad', RMSProp: 'rmsprop', SGD: 'sgd', Momentum: 'sgd' } as Record<string, string>)[cls] ??
    cls.toLowerCase()
  );
}

/** The optimizer's state (iterations and slot variables) under stable names. */
export async function exportOptimizerState(optimizer: tf.Optimizer, model: VaeModel): Promise<OptimizerState> {
  const weights = await optimizer.getWeights();
  let iterations = 0;
  const slots: NamedTensor[] = [];
  for (const w of weights) {
    if (w.name === 'iter') {
      iterations = (await w.tensor.data())[0]!;
      continue;
    }
    slots.push({ name: model.stableName(w.name), shape: [...w.tensor.shape], data: tensorValues(w.tensor) });
  }
  // Only the iteration counter is a fresh tensor; the slots are the optimizer's own variables.
  for (const w of weights) if (w.name === 'iter') w.tensor.dispose();
  return { name: optimizerName(optimizer), iterations, slots };
}

/** Restore optimizer state saved by exportOptimizerState into a fresh optimizer of the same kind for `model`. */
export async function importOptimizerState(optimizer: tf.Optimizer, model: VaeModel, state: OptimizerState): Promise<void> {
  const name = optimizerName(optimizer);
  if (state.name !== name) throw new Error(`checkpoint optimizer is ${state.name}, the run uses ${name}`);
  const list: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }];
  for (const s of state.slots) {
    const slash = s.name.lastIndexOf('/');
    const weight = s.name.slice(0, slash);
    if (!model.weights.has(weight)) throw new Error(`optimizer slot ${s.name} names no weight of this model`);
    list.push({ name: `${model.variableName(weight)}${s.name.slice(slash)}`, tensor: tf.tensor(s.data, s.shape) });
  }
  await optimizer.setWeights(list);
  for (const t of list) t.tensor.dispose();
}

/**
 * The optimizer's exact state for a replica that must take bit-identical steps (a data-parallel worker): the
 * checkpoint state plus, for Adam, its running powers of beta1 and beta2 (a checkpoint restore recomputes them
 * as beta^t, which differs in the last bits from the running product).
 */
export interface ReplicaOptimizerState {
  state: OptimizerState;
  adamPowers?: [number, number];
}

interface AdamPowers {
  accBeta1?: tf.Variable;
  accBeta2?: tf.Variable;
}

export async function exportReplicaState(optimizer: tf.Optimizer, model: VaeModel): Promise<ReplicaOptimizerState> {
  const state = await exportOptimizerState(optimizer, model);
  const { accBeta1, accBeta2 } = optimizer as unknown as AdamPowers;
  if (!accBeta1 || !accBeta2) return { state };
  return { state, adamPowers: [accBeta1.dataSync()[0]!, accBeta2.dataSync()[0]!] };
}

export async function importReplicaState(optimizer: tf.Optimizer, model: VaeModel, replica: ReplicaOptimizerState): Promise<void> {
  await importOptimizerState(optimizer, model, replica.state);
  const { accBeta1, accBeta2 } = optimizer as unknown as AdamPowers;
  if (replica.adamPowers && accBeta1 && accBeta2)
    tf.tidy(() => {
      accBeta1.assign(tf.scalar(replica.adamPowers![0]));
      accBeta2.assign(tf.scalar(replica.adamPowers![1]));
    });
}
