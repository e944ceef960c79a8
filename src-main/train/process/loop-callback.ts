// The hooks the training loop (trainer.ts) calls on the parts that hang on it, in the shape of Lightning's Callback:
// the evaluation worker's coordination links the worker before a step, progress counts every step, early stopping
// says when to stop after an epoch, and every part closes at the end. Each hook is optional; the loop calls the
// parts in the order it was given them.

/** What the loop tells its parts after an optimizer step. */
export interface StepDone {
  /** Wall milliseconds of the step (the step function and the loss log). */
  ms: number;
  /** Training rows of the step. */
  rows: number;
  /** Steps this process has run so far, this one included. */
  stepsRun: number;
  /** Whether the worker computed a shard of the step. */
  linked: boolean;
}

export interface LoopCallback {
  /** Before each optimizer step (after the cancel check). */
  beforeStep?(): Promise<void>;
  /** After each optimizer step. */
  afterStep?(done: StepDone): void;
  /** After an epoch's evaluation, snapshots and checkpoint (not after the last epoch): a reason to stop, or null. */
  stopAfterEpoch?(epoch: number): string | null;
  /** At the end of the run, however it ended (never throws). */
  close?(): Promise<void>;
}
