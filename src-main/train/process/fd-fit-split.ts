// The split the classifier of test/fdClassifier is fitted on: the dataset's whole training split as its loader
// gives it (no data.trainLimit, no data.trainOnTest, no validation hold-out, grey values), whatever the run that fits it trains on, so
// the cached classifier (src-main/vae/fid.ts) is the same for every run on the dataset.
import type { RunConfig } from '@shared/run-config';
import { loadDataset } from '../../data/registry';
import type { Split } from '../../data/types';
import type { PreparedData } from './prepare-data';

/** Whether the run's own training split is the whole one (then it can be used as it is, even in shared memory). */
export function trainsOnWholeSplit(data: PreparedData, config: RunConfig): boolean {
  return (
    config.data.trainLimit === 0 && !config.data.trainOnTest && config.data.binarize !== 'static' && data.train.n === data.dataset.train.n
  );
}

/** The whole training split of the run's dataset (loaded again when the run trains on part of it). */
export async function fdFitSplit(data: PreparedData, config: RunConfig, dataHome: string): Promise<Split> {
  if (trainsOnWholeSplit(data, config)) return data.train;
  const whole = await loadDataset(
    { ...config.data, trainLimit: 0, testLimit: 0, trainOnTest: false, binarize: 'none' },
    { dataHome, seed: config.seed },
  );
  return whole.train;
}

/** The whole training split in shared memory, for an evaluation worker to fit the classifier on without a copy. */
export async function sharedFdFitSplit(data: PreparedData, config: RunConfig, dataHome: string): Promise<Split> {
  const split = await fdFitSplit(data, config, dataHome);
  if (split.x.buffer instanceof SharedArrayBuffer) return split;
  const x = new Float32Array(new SharedArrayBuffer(split.x.byteLength));
  x.set(split.x);
  return { ...split, x };
}
