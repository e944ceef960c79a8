// What the training loop and the parts that hang on it share about one VAE-family run: its context and config, the
// loaded data, the model and optimizer, the plan, the clocks, and where the run is (step, epoch). The loop owns it
// and is the only one that moves step and epoch.
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '@shared/run-config';
import type { LoadedDataset } from '../../data/types';
import type { VaeModel } from '../../vae/model';
import type { TrainingContext } from '../common/messages';
import type { EtaModel } from '../progress/eta';
import type { PhaseClock } from '../progress/phase-clock';
import type { PreparedData } from './prepare-data';
import type { RunSteps } from './run-steps';
import type { TrainingPlan } from './training-plan';

export interface RunState {
  readonly ctx: TrainingContext;
  readonly config: RunConfig;
  readonly steps: RunSteps;
  readonly clock: PhaseClock;
  readonly dataset: LoadedDataset;
  readonly data: PreparedData;
  readonly shape: [number, number, number];
  readonly model: VaeModel;
  readonly optimizer: tf.Optimizer;
  readonly plan: TrainingPlan;
  readonly eta: EtaModel;
  /** Whether the run computes the FID (eval.fid, an image dataset and a model with a prior to sample). */
  readonly withFid: boolean;
  /** Optimizer steps done (from the run's start, resumed runs included). */
  step: number;
  /** The 0-based epoch being trained (after the loop: the last one that ran). */
  epoch: number;
}
