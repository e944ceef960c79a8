// The data a run trains and evaluates on: the loaded dataset, a seeded validation split and, for dynamic
// binarization, validation and test binarized once with fixed seeds.
import type { RunConfig } from '@shared/run-config';
import type { LoadedDataset, Split } from '../../data/types';
import { binarizeWith, gatherRows } from '../../data/split-utils';
import { deriveSeed, mulberry32, seededPermutation, SEED_STREAM } from '../../vae/seeds';

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
