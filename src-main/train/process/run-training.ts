// The entry of the trainer process: runTraining(ctx) trains one run and reports it as TrainerEvents.
// The run itself is a Trainer (trainer.ts: the loop of epochs, with run-setup.ts before it and its callbacks on it);
// model.kind = 'gmm' is fitted by runGmm (gmm-run.ts); both share the steps in run-steps.ts.
import type { TrainingContext } from '../common/messages';
import { Trainer } from './trainer';
import type { TrainingResult } from './run-steps';

export { FID_EXAMPLES, PROGRESS_INTERVAL_MS, type TrainingResult } from './run-steps';
export { prepareData, type PreparedData } from './prepare-data';
export { NLL_K_INTERMEDIATE, NLL_SAMPLE_BUDGET_FINAL, NLL_SAMPLE_BUDGET_INTERMEDIATE } from './training-plan';
export { restoreFromCheckpoint } from './checkpointing';

export async function runTraining(ctx: TrainingContext): Promise<TrainingResult> {
  return new Trainer(ctx).run();
}
