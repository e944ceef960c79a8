// Datasets stored as the four standard MNIST-style IDX files in one directory (mnist-full, fashion-mnist):
// train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte,
// each plain or gzipped (.gz). Also accepted: the same names with '.idx' instead of '-idx' (a common variant).
import fs from 'node:fs';
import path from 'node:path';
import { DatasetError, type DatasetDescriptor, type LoadedDataset, type Split } from './types';
import { idxImages, idxLabels, readIdx } from './idx';
import type { DataConfig, DatasetLoader, LoadContext } from './loader';
import { fileStamp } from './split-utils';

export const IDX_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The file for a base name in dir (plain, .gz, or the '.idx' spelling), or null. */
export function findIdxFile(dir: string, base: string): string | null {
  const dotted = base.replace('-idx', '.idx');
  for (const name of [base, `${base}.gz`, dotted, `${dotted}.gz`]) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/** Which of the four files are missing from dir (names without .gz). */
export function missingIdxFiles(dir: string): string[] {
  return Object.values(IDX_FILES).filter((base) => !findIdxFile(dir, base));
}

export interface IdxDatasetSpec {
  id: string;
  title: string;
  description: string;
  labels: string[];
  splits: { train: number; test: number };
  source: string;
  license: string;
  /** Directories tried in order when data.path is absent (besides `${dataHome}/datasets/<id>`). */
  systemDirs: string[];
}

function candidateDirs(spec: IdxDatasetSpec, dataHome?: string): string[] {
  return [...(dataHome ? [path.join(dataHome, 'datasets', spec.id)] : []), ...spec.systemDirs];
}

/** The directory to read: data.path when given (must exist), else the first default holding all four files. */
function resolveDir(spec: IdxDatasetSpec, data: DataConfig | null, dataHome?: string): { dir: string | null; reason?: string } {
  if (data?.path) {
    const dir = path.resolve(data.path);
    if (!fs.existsSync(dir)) return { dir: null, reason: `data.path ${dir} does not exist` };
    if (!fs.statSync(dir).isDirectory())
      return { dir: null, reason: `data.path ${dir} is not a directory (${spec.id} needs the directory holding the four IDX files)` };
    const missing = missingIdxFiles(dir);
    if (missing.length) return { dir: null, reason: `${dir} lacks ${missing.join(', ')} (each may be plain or .gz)` };
    return { dir };
  }
  const tried = candidateDirs(spec, dataHome);
  for (const dir of tried) if (fs.existsSync(dir) && missingIdxFiles(dir).length === 0) return { dir };
  return {
    dir: null,
    reason: `no ${spec.id} files found (looked in ${tried.join(', ')}); set data.path to a directory holding ${Object.values(IDX_FILES).join(', ')} (each optionally .gz)`,
  };
}

function describe(spec: IdxDatasetSpec, dataHome?: string, data?: DataConfig): DatasetDescriptor {
  const { dir, reason } = resolveDir(spec, data ?? null, dataHome);
  return {
    id: spec.id,
    title: spec.title,
    description: spec.description,
    shape: [28, 28, 1],
    kind: 'image',
    labels: spec.labels,
    splits: spec.splits,
    source: spec.source,
    license: spec.license,
    needsPath: dir === null,
    available: dir !== null,
    ...(dir === null ? { unavailableReason: reason } : {}),
  };
}

function loadSplit(
  dir: string,
  images: string,
  labels: string,
  classes: number,
  what: string,
): { split: Split; shape: [number, number, number] } {
  const imageFile = findIdxFile(dir, images);
  const labelFile = findIdxFile(dir, labels);
  if (!imageFile) throw new DatasetError(`missing ${what} images: no ${images} or ${images}.gz in ${dir}`);
  if (!labelFile) throw new DatasetError(`missing ${what} labels: no ${labels} or ${labels}.gz in ${dir}`);
  const img = readIdx(imageFile);
  if (img.type !== 'ubyte' || img.dims.length !== 3)
    throw new DatasetError(`${imageFile}: expected n x 28 x 28 unsigned bytes, got ${img.dims.join('x')} of ${img.type}`);
  const { n, shape, x } = idxImages(img, imageFile);
  const y = idxLabels(readIdx(labelFile), labelFile);
  if (y.length !== n) throw new DatasetError(`${labelFile} holds ${y.length} labels but ${imageFile} holds ${n} images`);
  for (let i = 0; i < n; i++)
    if (y[i]! >= classes) throw new DatasetError(`${labelFile}: label ${i} is ${y[i]}, expected 0..${classes - 1}`);
  return { split: { x, y, n }, shape };
}

/** Parse the four IDX files of dir into train/test splits (the files' own order). */
export function loadIdxDirectory(
  dir: string,
  classes: number,
  onProgress?: LoadContext['onProgress'],
): { d: number; shape: [number, number, number]; train: Split; test: Split } {
  onProgress?.(0, `reading training images from ${dir}`);
  const train = loadSplit(dir, IDX_FILES.trainImages, IDX_FILES.trainLabels, classes, 'training');
  onProgress?.(0.8, `reading test images from ${dir}`);
  const test = loadSplit(dir, IDX_FILES.testImages, IDX_FILES.testLabels, classes, 'test');
  if (train.shape.join() !== test.shape.join())
    throw new DatasetError(`${dir}: training images are ${train.shape.join('x')} but test images are ${test.shape.join('x')}`);
  onProgress?.(1, 'loaded');
  return { d: train.shape[0] * train.shape[1] * train.shape[2], shape: train.shape, train: train.split, test: test.split };
}

export function idxDatasetLoader(spec: IdxDatasetSpec): DatasetLoader {
  return {
    id: spec.id,
    describe: (opts) => describe(spec, opts.dataHome, opts.data),
    memoKey: (data, ctx) => {
      const { dir } = resolveDir(spec, data, ctx.dataHome);
      return dir ? fileStamp(Object.values(IDX_FILES).map((base) => findIdxFile(dir, base))) : null;
    },
    async load(data, ctx): Promise<LoadedDataset> {
      const { dir, reason } = resolveDir(spec, data, ctx.dataHome);
      if (!dir) throw new DatasetError(`${spec.id}: ${reason}`);
      const missing = missingIdxFiles(dir);
      if (missing.length) throw new DatasetError(`${spec.id}: ${dir} lacks ${missing.join(', ')} (each may be plain or .gz)`);
      const loaded = loadIdxDirectory(dir, spec.labels.length, ctx.onProgress);
      if (loaded.shape.join() !== '28,28,1')
        throw new DatasetError(`${spec.id}: expected 28x28 images in ${dir}, got ${loaded.shape.join('x')}`);
      const descriptor: DatasetDescriptor = {
        ...describe(spec, ctx.dataHome, data),
        splits: { train: loaded.train.n, test: loaded.test.n },
        needsPath: !!data.path,
        available: true,
      };
      delete descriptor.unavailableReason;
      return { descriptor, d: loaded.d, train: loaded.train, test: loaded.test };
    },
  };
}

export const FASHION_LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
export const FASHION_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';

export const fashionMnistLoader = idxDatasetLoader({
  id: 'fashion-mnist',
  title: 'Fashion-MNIST',
  description:
    "Zalando article images, 28x28 grey (bytes / 255). The standard split: 60,000 train / 10,000 test in the files' order. " +
    `Read from data.path, else ${'${dataHome}'}/datasets/fashion-mnist, else ${FASHION_SYSTEM_DIR} (Debian package dataset-fashion-mnist).`,
  labels: FASHION_LABELS,
  splits: { train: 60000, test: 10000 },
  source: 'github.com/zalandoresearch/fashion-mnist (Xiao, Rasul & Vollgraf 2017)',
  license: 'MIT',
  systemDirs: [FASHION_SYSTEM_DIR],
});

export const mnistFullLoader = idxDatasetLoader({
  id: 'mnist-full',
  title: 'MNIST (full 70k)',
  description:
    "The full MNIST database, 28x28 grey (bytes / 255): the standard 60,000 train / 10,000 test split in the files' order. " +
    'Read from data.path (a directory with the four IDX files, plain or .gz), else ${dataHome}/datasets/mnist-full (see downloadDataset).',
  labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  splits: { train: 60000, test: 10000 },
  source: 'yann.lecun.com/exdb/mnist (LeCun, Cortes & Burges); mirror storage.googleapis.com/cvdf-datasets/mnist',
  license: 'CC BY-SA 3.0',
  systemDirs: [],
});
