// `import`: one user file (data.path) in IDX, CSV or NPY format; data.format overrides the extension.
//
// Shapes: IDX/NPY arrays [n, h, w] -> h x w x 1 images, [n, h, w, c] -> h x w x c, [n, d] and CSV rows -> a
// square s x s x 1 image when d = s*s (s >= 2), s x s x 3 when d = 3*s*s (s >= 8), else a series [1, d, 1].
// Values: uint8 files are divided by 255; other values are kept when already in [0,1], divided by 255 when in
// [0,255], else rescaled linearly from [min,max] to [0,1] (the rule applied is stated in the descriptor).
// Labels: CSV see csv.ts; IDX: a sibling labels file (the name with images->labels, idx3->idx1); NPY: a sibling
// <name>_labels.npy, <name>-labels.npy or <name>.labels.npy holding n integers.
// Split: the last 10% of the rows (at least 1) are the test split, the rest train, in file order.
import { LIMITS } from '@shared/limits';
import { checkDatasetFile } from './path-check';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { openRegularFile } from '../os/untrusted';
import { DatasetError, type DatasetDescriptor, type LoadedDataset } from './types';
import { idxLabels, parseIdx, readIdx, readMaybeGzip } from './idx';
import { checkCsvBytes, parseCsv } from './csv';
import { parseNpy } from './npy';
import { inferShape, normaliseInPlace, sliceSplit, type Normalisation } from './split-utils';
export { inferShape };
import type { DataConfig, DatasetLoader } from './loader';
import { fileStamp } from './split-utils';

export type ImportFormat = 'idx' | 'csv' | 'npy';
export const IMPORT_TEST_FRACTION = 0.1;

export function formatFromName(file: string): ImportFormat | null {
  const base = path.basename(file).toLowerCase().replace(/\.gz$/, '');
  if (/\.(csv|tsv|txt)$/.test(base)) return 'csv';
  if (base.endsWith('.npy')) return 'npy';
  if (/\.idx$|idx\d-ubyte$|\.idx\d$|\.ubyte$/.test(base)) return 'idx';
  return null;
}

export interface ParsedImport {
  n: number;
  d: number;
  shape: [number, number, number];
  kind: 'image' | 'series';
  x: Float32Array;
  y: Int32Array | null;
  normalisation: Normalisation;
  labelSource: string;
}

function shapeOfDims(dims: number[], name: string): { shape: [number, number, number]; kind: 'image' | 'series' } {
  const rest = dims.slice(1);
  if (dims.length < 2) throw new DatasetError(`${name}: expected an array of examples [n, ...], got shape (${dims.join(', ')})`);
  if (rest.length === 1) return inferShape(rest[0]!);
  if (rest.length === 2) return { shape: [rest[0]!, rest[1]!, 1], kind: 'image' };
  if (rest.length === 3) return { shape: [rest[0]!, rest[1]!, rest[2]!], kind: 'image' };
  throw new DatasetError(`${name}: arrays of rank ${dims.length} are not supported (use [n, d], [n, h, w] or [n, h, w, c])`);
}

function findSibling(candidates: string[]): string | null {
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return null;
}

function idxLabelSibling(file: string): string | null {
  const dir = path.dirname(file);
  const base = path.basename(file).replace(/\.gz$/, '');
  const swapped = base.replace(/images/g, 'labels').replace(/idx3/g, 'idx1');
  if (swapped === base) return null;
  return findSibling([path.join(dir, swapped), path.join(dir, `${swapped}.gz`)]);
}

function npyLabelSibling(file: string): string | null {
  const stem = file.replace(/\.npy$/i, '');
  return findSibling([`${stem}_labels.npy`, `${stem}-labels.npy`, `${stem}.labels.npy`]);
}

function toFloat(data: ArrayLike<number>): Float32Array {
  const x = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) x[i] = data[i]!;
  return x;
}

function checkLabels(y: Int32Array | null, n: number, labelFile: string): void {
  if (y && y.length !== n) throw new DatasetError(`${labelFile} holds ${y.length} labels but the data holds ${n} examples`);
}

/** Parse one file into examples (normalised to [0,1]) and optional labels. */
export function parseImportFile(
  file: string,
  format: ImportFormat,
  opts: { csvLabelColumn?: 'auto' | 'last' | 'none' } = {},
): ParsedImport {
  checkDatasetFile(file);
  let x: Float32Array;
  let y: Int32Array | null = null;
  let n: number;
  let shape: ParsedImport['shape'];
  let kind: ParsedImport['kind'];
  let bytes = false;
  let labelSource = 'none';
  if (format === 'idx') {
    const arr = readIdx(file);
    ({ shape, kind } = shapeOfDims(arr.dims, file));
    n = arr.dims[0]!;
    bytes = arr.type === 'ubyte';
    x = toFloat(arr.data);
    const labelFile = idxLabelSibling(file);
    if (labelFile) {
      y = idxLabels(parseIdx(readMaybeGzip(labelFile), labelFile), labelFile);
      checkLabels(y, n, labelFile);
      labelSource = path.basename(labelFile);
    }
  } else if (format === 'npy') {
    const arr = parseNpy(readMaybeGzip(file), file);
    if (arr.dtype === 'int32' || arr.dtype === 'int64')
      throw new DatasetError(`${file}: integer arrays are read as labels only; the data must be float32, float64 or uint8`);
    ({ shape, kind } = shapeOfDims(arr.shape, file));
    n = arr.shape[0]!;
    bytes = arr.dtype === 'uint8';
    x = arr.data instanceof Float32Array ? arr.data : toFloat(arr.data);
    const labelFile = npyLabelSibling(file);
    if (labelFile) {
      const labels = parseNpy(readMaybeGzip(labelFile), labelFile);
      if (labels.shape.length !== 1)
        throw new DatasetError(`${labelFile}: labels must be one-dimensional, got shape (${labels.shape.join(', ')})`);
      y = new Int32Array(labels.data.length);
      for (let i = 0; i < y.length; i++) {
        const v = labels.data[i]!;
        if (!Number.isInteger(v) || v < 0) throw new DatasetError(`${labelFile}: label ${i} is ${v}, not a non-negative integer`);
        y[i] = v;
      }
      checkLabels(y, n, labelFile);
      labelSource = path.basename(labelFile);
    }
  } else {
    const bytes = readMaybeGzip(file);
    checkCsvBytes(bytes, file); // rows and values bounded before the bytes become one string and its lines
    const table = parseCsv(bytes.toString('utf8'), file, { labelColumn: opts.csvLabelColumn ?? 'auto' });
    ({ shape, kind } = inferShape(table.d));
    n = table.n;
    x = table.x;
    y = table.y;
    if (table.labelColumn >= 0)
      labelSource = `column ${table.labelColumn + 1}${table.header ? ` (${table.header[table.labelColumn]})` : ''}`;
  }
  let normalisation: Normalisation;
  if (bytes) {
    for (let i = 0; i < x.length; i++) x[i] = x[i]! / 255;
    normalisation = 'divide-255';
  } else {
    try {
      normalisation = normaliseInPlace(x);
    } catch (e) {
      throw new DatasetError(`${file}: ${(e as Error).message}`);
    }
  }
  const d = shape[0] * shape[1] * shape[2];
  if (d > LIMITS.DATASET_MAX_DIMENSION)
    throw new DatasetError(
      `${file}: examples of ${d} values each, more than the limit of ${LIMITS.DATASET_MAX_DIMENSION} (DATASET_MAX_DIMENSION)`,
    );
  if (n === 0 || d === 0) throw new DatasetError(`${file}: no examples (shape ${n} x ${d})`);
  return { n, d, shape, kind, x, y, normalisation, labelSource };
}

/** Train = all but the last testCount rows (default: the last 10%, at least one); both views into the parsed arrays. */
export function splitLastFraction(
  parsed: ParsedImport,
  file: string,
  testCount?: number,
): { train: LoadedDataset['train']; test: LoadedDataset['test'] } {
  if (parsed.n < 2) throw new DatasetError(`${file}: needs at least 2 examples (one for the test split), has ${parsed.n}`);
  const nTest = testCount ?? Math.max(1, Math.round(parsed.n * IMPORT_TEST_FRACTION));
  const all = { x: parsed.x, y: parsed.y, n: parsed.n };
  return { train: sliceSplit(all, parsed.d, 0, parsed.n - nTest), test: sliceSplit(all, parsed.d, parsed.n - nTest, parsed.n) };
}

export function labelNames(y: Int32Array | null): string[] | null {
  if (!y) return null;
  let max = 0;
  for (const v of y) if (v > max) max = v;
  return Array.from({ length: max + 1 }, (_, i) => String(i));
}

function resolveFormat(data: DataConfig, file: string): ImportFormat {
  const format = data.format ?? formatFromName(file);
  if (!format) throw new DatasetError(`import: cannot tell the format of ${file} from its name; set data.format to idx, csv or npy`);
  return format;
}

const IMPORT_DESCRIPTION =
  'A file you provide (data.path): IDX (.idx, *-idx3-ubyte, optionally .gz), numeric CSV (.csv, optional header, ' +
  'optional label column) or NumPy .npy (float32, float64 or uint8, C order, [n, ...]); data.format overrides the ' +
  'extension. Values are brought into [0,1] (bytes / 255, or min-max when outside [0,255]). Split: the last 10% of ' +
  'the rows are the test split, the rest train, in file order.';

function unavailable(reason: string): DatasetDescriptor {
  return {
    id: 'import',
    title: 'Import a file',
    description: IMPORT_DESCRIPTION,
    shape: [0, 0, 0],
    kind: 'image',
    labels: null,
    splits: { train: 0, test: 0 },
    source: 'a local file',
    license: 'as provided by the user',
    needsPath: true,
    available: false,
    unavailableReason: reason,
  };
}

function importDescriptor(
  file: string,
  format: ImportFormat,
  parsed: ParsedImport,
  splits: { train: number; test: number },
): DatasetDescriptor {
  return {
    id: 'import',
    title: `Imported ${path.basename(file)}`,
    description: `${IMPORT_DESCRIPTION} This file: ${format}, ${parsed.n} examples of ${parsed.shape.join('x')}, values normalised by ${parsed.normalisation}, labels from ${parsed.labelSource}.`,
    shape: parsed.shape,
    kind: parsed.kind,
    labels: labelNames(parsed.y),
    splits,
    source: file,
    license: 'as provided by the user',
    needsPath: true,
    available: true,
  };
}

export const importLoader: DatasetLoader = {
  id: 'import',
  describe: (opts) => {
    if (!opts.data?.path) return unavailable('needs data.path: an .idx, .csv or .npy file (shape and splits are known once it is read)');
    const file = path.resolve(opts.data.path);
    try {
      const format = resolveFormat(opts.data, file);
      const parsed = parseImportFile(file, format);
      const { train, test } = splitLastFraction(parsed, file);
      return importDescriptor(file, format, parsed, { train: train.n, test: test.n });
    } catch (e) {
      if (e instanceof DatasetError) return unavailable(e.message);
      throw e;
    }
  },
  memoKey: (data) => {
    if (!data.path) return null;
    return `${fileStamp([path.resolve(data.path)])}\u0000${data.format ?? ''}`;
  },
  async load(data, ctx): Promise<LoadedDataset> {
    if (!data.path) throw new DatasetError('import: data.path is required (an .idx, .csv or .npy file)');
    const file = path.resolve(data.path);
    const format = resolveFormat(data, file);
    ctx.onProgress?.(0, `reading ${path.basename(file)} as ${format}`);
    const parsed = parseImportFile(file, format);
    const { train, test } = splitLastFraction(parsed, file);
    ctx.onProgress?.(1, 'loaded');
    return { descriptor: importDescriptor(file, format, parsed, { train: train.n, test: test.n }), d: parsed.d, train, test };
  },
};

/** The first bytes of a file (gzip inflated from a short prefix, at most 8 MiB): enough for a header or a CSV line. */
function readHead(file: string, bytes: number): Buffer {
  const { fd, size } = openRegularFile(file, {
    what: 'data.path',
    maxBytes: LIMITS.DATASET_MAX_FILE_BYTES,
    limit: 'DATASET_MAX_FILE_BYTES',
    follow: true,
  });
  try {
    const head = Buffer.alloc(Math.min(size, bytes));
    fs.readSync(fd, head, 0, head.length, 0);
    if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) return head;
    let out = Buffer.alloc(0);
    for (const prefix of [4096, 65536, 1 << 20]) {
      try {
        out = zlib.gunzipSync(head.subarray(0, prefix), { finishFlush: zlib.constants.Z_SYNC_FLUSH, maxOutputLength: 8 << 20 });
      } catch {
        break; // inflates past 8 MiB: keep the last head
      }
      if (out.length >= bytes || prefix >= head.length) break;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The example shape of an import file from its header alone (IDX dims, the .npy header, a CSV's first line), so
 * the service can check the model against the real shape before queueing a run without parsing the file on its
 * thread. CSV: the first line's width less a possible label column (the trainer checks the exact shape again).
 * Null when the head does not tell (the trainer's check still applies).
 */
export function peekImportShape(data: DataConfig): { shape: [number, number, number]; kind: 'image' | 'series' } | null {
  if (!data.path) return null;
  const file = path.resolve(data.path);
  try {
    const format = resolveFormat(data, file);
    const head = readHead(file, format === 'csv' ? 8 << 20 : 64 * 1024);
    if (format === 'idx') {
      const ndims = head[3]!;
      if (head[0] !== 0 || head[1] !== 0 || ndims < 2 || head.length < 4 + 4 * ndims) return null;
      return shapeOfDims(
        Array.from({ length: ndims }, (_, i) => head.readUInt32BE(4 + 4 * i)),
        file,
      );
    }
    if (format === 'npy') {
      const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(head.toString('latin1', 0, Math.min(head.length, 4096)))?.[1];
      if (!shapeText) return null;
      return shapeOfDims(shapeText.split(',').map(Number).filter(Number.isFinite), file);
    }
    const text = head.toString('utf8');
    const first = text.split('\n').find((l) => l.trim() !== '');
    if (!first || first.length === text.length) return null; // the first line is longer than the head
    const cols = first.split(/[,;\t]|\s+/).filter((f) => f.trim() !== '').length;
    return inferShape(Math.max(1, cols - 1));
  } catch {
    return null; // unreadable here: loading the dataset reports it with its own message
  }
}
