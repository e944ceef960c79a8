// The dataset registry: what datasets exist (listDatasets) and loading one for a run (loadDataset).
//
// loadDataset returns the dataset's full fixed train/test splits, then applies from the run config:
//   - data.trainLimit / data.testLimit: keep the first N examples of each split (views, no copy);
//   - data.trainOnTest: the training split followed by the (limited) test split, one copy (the keras.io example);
//   - data.binarize = 'static': every grey value v becomes 1 with probability v, once, seeded by the run seed.
// It does NOT carve out the validation fraction (data.validationFraction) nor do dynamic binarization:
// those belong to the training loop (binarizeStatic from ./split-utils can be reused with a per-epoch seed).
// Parsed datasets are kept per process, so a second load of the same dataset is instant.
import path from 'node:path';
import type { RunConfig } from '@shared/run-config';
import { DatasetError, type DatasetDescriptor, type LoadedDataset } from './types';
import type { DatasetLoader, LoadContext } from './loader';
import { mnistLoader } from './mnist-bundled';
import { mnistEvenLoader } from './mnist-even';
import { fashionMnistLoader, mnistFullLoader } from './idx-dataset';
import { cifar10Loader } from './cifar10';
import { icaSyntheticLoader } from './ica-synthetic';
import { importLoader } from './import-file';
import { binarizeStatic, concatSplits, limitSplit } from './split-utils';

const LOADERS: DatasetLoader[] = [
  mnistLoader,
  mnistEvenLoader,
  fashionMnistLoader,
  mnistFullLoader,
  cifar10Loader,
  icaSyntheticLoader,
  importLoader,
];

export function knownDatasetIds(): string[] {
  return LOADERS.map((l) => l.id);
}

function loaderFor(id: string): DatasetLoader {
  const loader = LOADERS.find((l) => l.id === id);
  if (!loader) throw new DatasetError(`unknown dataset "${id}"; known datasets: ${knownDatasetIds().join(', ')}`);
  return loader;
}

/** Every dataset with its shape, labels, splits, source, license and whether it can be loaded now. */
export function listDatasets(opts: { dataHome?: string } = {}): DatasetDescriptor[] {
  return LOADERS.map((l) => l.describe(opts));
}

/**
 * The descriptor of the dataset a config names, for that config (data.path, sources, observedDim), without
 * loading it (the import dataset reads its file to learn the shape). Unknown id => DatasetError.
 */
export function describeDataset(data: RunConfig['data'], opts: { dataHome?: string } = {}): DatasetDescriptor {
  return loaderFor(data.dataset).describe({ dataHome: opts.dataHome ? path.resolve(opts.dataHome) : undefined, data });
}

const memo = new Map<string, Promise<LoadedDataset>>();

/** Forget the per-process cache of parsed datasets (tests; after files changed on disk). */
export function clearDatasetMemo(): void {
  memo.clear();
}

/** Load a dataset for a run: full fixed splits, then the config's limits and static binarization. */
export async function loadDataset(
  data: RunConfig['data'],
  opts: { dataHome: string; seed: number; onProgress?: (fraction: number, message: string) => void },
): Promise<LoadedDataset> {
  const loader = loaderFor(data.dataset);
  const ctx: LoadContext = { dataHome: path.resolve(opts.dataHome), seed: opts.seed, onProgress: opts.onProgress };
  const key = loader.memoKey(data, ctx);
  let pending = key === null ? undefined : memo.get(`${loader.id}\u0000${key}`);
  if (pending) opts.onProgress?.(1, `${loader.id} already loaded`);
  else {
    pending = loader.load(data, ctx);
    if (key !== null) {
      const memoKey = `${loader.id}\u0000${key}`;
      memo.set(memoKey, pending);
      pending.catch(() => memo.delete(memoKey));
    }
  }
  const full = await pending;
  const d = full.d;
  let test = limitSplit(full.test, d, data.testLimit);
  let train = data.trainOnTest
    ? concatSplits(limitSplit(full.train, d, data.trainLimit), test, d)
    : limitSplit(full.train, d, data.trainLimit);
  if (data.binarize === 'static') {
    train = { ...train, x: binarizeStatic(train.x, opts.seed) };
    test = { ...test, x: binarizeStatic(test.x, opts.seed + 1) };
  }
  return { descriptor: full.descriptor, d, train, test, ...(full.testSources ? { testSources: full.testSources } : {}) };
}
