// `cifar10`: the CIFAR-10 binary version (data_batch_1.bin .. data_batch_5.bin, test_batch.bin). Each record is
// 1 label byte then 3072 pixel bytes: the red plane (32x32, row-major), then green, then blue. We store each
// image row-major as height x width x channels (HWC, interleaved RGB), values bytes / 255.
// data.path may be the directory holding the .bin files or its parent (the archive's cifar-10-batches-bin/).
import fs from 'node:fs';
import path from 'node:path';
import { DatasetError, type DatasetDescriptor, type LoadedDataset, type Split } from './types';
import { readMaybeGzip } from './idx';
import type { DataConfig, DatasetLoader } from './loader';
import { fileStamp } from './split-utils';

export const CIFAR10_LABELS = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const SIDE = 32;
const PLANE = SIDE * SIDE;
const RECORD = 1 + 3 * PLANE;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = 'test_batch.bin';

function hasBatches(dir: string): boolean {
  return [...TRAIN_FILES, TEST_FILE].every((f) => fs.existsSync(path.join(dir, f)));
}

/** The directory with the .bin files: dir itself or dir/cifar-10-batches-bin. */
function batchesDir(dir: string): string | null {
  if (hasBatches(dir)) return dir;
  const sub = path.join(dir, 'cifar-10-batches-bin');
  if (hasBatches(sub)) return sub;
  return null;
}

function resolve(data: DataConfig | null, dataHome?: string): { dir: string | null; reason?: string } {
  const candidates = data?.path ? [path.resolve(data.path)] : dataHome ? [path.join(dataHome, 'datasets', 'cifar10')] : [];
  for (const c of candidates) {
    const dir = fs.existsSync(c) ? batchesDir(c) : null;
    if (dir) return { dir };
  }
  if (data?.path) {
    const dir = path.resolve(data.path);
    if (!fs.existsSync(dir)) return { dir: null, reason: `data.path ${dir} does not exist` };
    const missing = [...TRAIN_FILES, TEST_FILE].filter((f) => !fs.existsSync(path.join(dir, f)));
    return { dir: null, reason: `${dir} lacks ${missing.join(', ')} (the CIFAR-10 binary version)` };
  }
  return {
    dir: null,
    reason: `set data.path to the directory of the CIFAR-10 binary version (${TRAIN_FILES[0]}..${TRAIN_FILES[4]}, ${TEST_FILE}) or download it`,
  };
}

function describe(dataHome?: string, data?: DataConfig): DatasetDescriptor {
  const { dir, reason } = resolve(data ?? null, dataHome);
  return {
    id: 'cifar10',
    title: 'CIFAR-10',
    description:
      '32x32 colour images in 10 classes, stored height x width x RGB (interleaved), values bytes / 255. ' +
      "The standard split: data_batch_1..5 = 50,000 train, test_batch = 10,000 test, in the files' order. " +
      "Read from data.path (the binary version's directory or its parent), else ${dataHome}/datasets/cifar10.",
    shape: [SIDE, SIDE, 3],
    kind: 'image',
    labels: CIFAR10_LABELS,
    splits: { train: 50000, test: 10000 },
    source: 'www.cs.toronto.edu/~kriz/cifar.html (Krizhevsky 2009), binary version',
    license: 'no explicit license; cite Krizhevsky 2009',
    needsPath: dir === null,
    available: dir !== null,
    ...(dir === null ? { unavailableReason: reason } : {}),
  };
}

/** Decode CIFAR binary batches into one split (HWC order). */
export function decodeCifarBatches(files: string[]): Split {
  const buffers = files.map((file) => {
    const buf = readMaybeGzip(file);
    if (buf.length === 0 || buf.length % RECORD !== 0)
      throw new DatasetError(
        `${file}: ${buf.length} bytes is not a whole number of CIFAR-10 records of ${RECORD} bytes (truncated or not the binary version)`,
      );
    return { file, buf };
  });
  const n = buffers.reduce((s, b) => s + b.buf.length / RECORD, 0);
  const d = 3 * PLANE;
  const x = new Float32Array(n * d);
  const y = new Int32Array(n);
  let row = 0;
  for (const { file, buf } of buffers) {
    for (let r = 0; r < buf.length / RECORD; r++, row++) {
      const at = r * RECORD;
      const label = buf[at]!;
      if (label > 9) throw new DatasetError(`${file}: record ${r} has label ${label}, expected 0..9`);
      y[row] = label;
      const out = row * d;
      for (let p = 0; p < PLANE; p++) {
        x[out + 3 * p] = buf[at + 1 + p]! / 255;
        x[out + 3 * p + 1] = buf[at + 1 + PLANE + p]! / 255;
        x[out + 3 * p + 2] = buf[at + 1 + 2 * PLANE + p]! / 255;
      }
    }
  }
  return { x, y, n };
}

export const cifar10Loader: DatasetLoader = {
  id: 'cifar10',
  describe: (opts) => describe(opts.dataHome, opts.data),
  memoKey: (data, ctx) => {
    const { dir } = resolve(data, ctx.dataHome);
    return dir ? fileStamp([...TRAIN_FILES, TEST_FILE].map((f) => path.join(dir, f))) : null;
  },
  async load(data, ctx): Promise<LoadedDataset> {
    const { dir, reason } = resolve(data, ctx.dataHome);
    if (!dir) throw new DatasetError(`cifar10: ${reason}`);
    ctx.onProgress?.(0, `reading CIFAR-10 training batches from ${dir}`);
    const train = decodeCifarBatches(TRAIN_FILES.map((f) => path.join(dir, f)));
    ctx.onProgress?.(0.85, 'reading CIFAR-10 test batch');
    const test = decodeCifarBatches([path.join(dir, TEST_FILE)]);
    ctx.onProgress?.(1, 'loaded');
    const descriptor = {
      ...describe(ctx.dataHome, data),
      splits: { train: train.n, test: test.n },
      available: true,
      needsPath: !!data.path,
    };
    delete descriptor.unavailableReason;
    return { descriptor, d: 3 * PLANE, train, test };
  },
};
