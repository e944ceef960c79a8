// What a model and its optimizer hand out to be saved, and take back when restored: named float32 tensors.
// The model kinds (model.ts, gmm.ts) and the optimizer define the names; checkpoints/ writes and reads them.
export interface NamedTensor {
  /** e.g. "encoder/dense_0/kernel"; the model documents its names. */
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface OptimizerState {
  /** adam | adagrad | rmsprop | sgd */
  name: string;
  /** Number of updates applied so far (Adam's bias correction needs it). */
  iterations: number;
  /** Slot variables, named "<weight name>/<slot>", e.g. "encoder/dense_0/kernel/m". */
  slots: NamedTensor[];
}
