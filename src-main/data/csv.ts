// Numeric CSV: one example per row. Delimiter: ',' if the first row has one, else ';', else tab, else runs of
// whitespace. A first row holding any non-number is a header. Blank lines are skipped. Every row must have the
// same number of values; the error names the line (1-based, as in an editor) and column.
//
// Label column (labelColumn 'auto'):
//   1. with a header, a column named label, labels, class, target, y or digit (any case) holds the labels;
//   2. otherwise the LAST column holds the labels when all its values are integers in 0..999 with at least two
//      distinct values, each value repeating on average (distinct values <= rows / 2), and either (a) the other
//      columns make an image (see inferShape) while the full row does not, or (b) some other column holds a
//      non-integer value.
//   Anything else: no labels. labelColumn 'last' forces the last column, 'none' disables labels.
import { LIMITS } from '@shared/limits';
import { DatasetError } from './types';
import { inferShape } from './split-utils';

export interface CsvTable {
  n: number;
  /** Number of feature columns (label column excluded). */
  d: number;
  /** n x d feature values as written (not normalised). */
  x: Float32Array;
  y: Int32Array | null;
  header: string[] | null;
  /** Index of the label column in the file, or -1. */
  labelColumn: number;
}

const LABEL_NAMES = new Set(['label', 'labels', 'class', 'target', 'y', 'digit']);

function looksLikeImage(d: number): boolean {
  return inferShape(d).kind === 'image';
}

function splitter(line: string): (line: string) => string[] {
  if (line.includes(',')) return (l) => l.split(',');
  if (line.includes(';')) return (l) => l.split(';');
  if (line.includes('\t')) return (l) => l.split('\t');
  return (l) => l.trim().split(/\s+/);
}

function toNumber(field: string): number {
  const t = field.trim();
  if (t === '') return NaN;
  return Number(t);
}

function columnOf(values: Float32Array, n: number, cols: number, c: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = values[i * cols + c]!;
  return out;
}

function integerLabels(col: Float64Array): Set<number> | null {
  const distinct = new Set<number>();
  for (const v of col) {
    if (!Number.isInteger(v) || v < 0 || v > 999) return null;
    distinct.add(v);
  }
  return distinct;
}

/** The label column by the rules at the top of this file, or -1. */
function chooseLabelColumn(
  mode: 'auto' | 'last' | 'none',
  name: string,
  header: string[] | null,
  values: Float32Array,
  n: number,
  cols: number,
): number {
  let labelColumn = -1;
  if (mode === 'last') {
    if (cols < 2) throw new DatasetError(`${name}: needs at least two columns (features, then the label)`);
    labelColumn = cols - 1;
  } else if (mode === 'auto') {
    const named = header ? header.findIndex((h) => LABEL_NAMES.has(h.toLowerCase())) : -1;
    if (named >= 0) labelColumn = named;
    else if (cols >= 2) {
      const distinct = integerLabels(columnOf(values, n, cols, cols - 1));
      if (distinct && distinct.size >= 2 && distinct.size <= 1000 && distinct.size <= n / 2) {
        const imageShaped = looksLikeImage(cols - 1) && !looksLikeImage(cols);
        let otherNonInteger = false;
        for (let i = 0; i < n * cols && !otherNonInteger; i++)
          if (i % cols !== cols - 1 && !Number.isInteger(values[i]!)) otherNonInteger = true;
        if (imageShaped || otherNonInteger) labelColumn = cols - 1;
      }
    }
  }
  return labelColumn;
}

/**
 * Bound a CSV file on its bytes, before it becomes a string: at most CSV_MAX_ROWS lines and CSV_MAX_VALUES values
 * (lines x the first line's fields). A file of 500 MiB of "0\n" lines is refused here in a linear scan, instead
 * of becoming 262 M strings.
 */
export function checkCsvBytes(buf: Uint8Array, name: string): void {
  let lines = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
  if (buf.length && buf[buf.length - 1] !== 10) lines++;
  if (lines > LIMITS.CSV_MAX_ROWS)
    throw new DatasetError(
      `${name}: ${lines.toLocaleString('en-US')} lines, more than the limit of ${LIMITS.CSV_MAX_ROWS.toLocaleString('en-US')} (CSV_MAX_ROWS)`,
    );
  const end = buf.indexOf(10);
  const first = Buffer.from(buf.buffer, buf.byteOffset, end < 0 ? buf.length : end).toString('utf8');
  const cols = first.trim() === '' ? 1 : splitter(first)(first).length;
  if (lines * cols > LIMITS.CSV_MAX_VALUES)
    throw new DatasetError(
      `${name}: ${lines.toLocaleString('en-US')} lines of ${cols.toLocaleString('en-US')} values, more than the limit of ${LIMITS.CSV_MAX_VALUES.toLocaleString('en-US')} values (CSV_MAX_VALUES)`,
    );
}

export function parseCsv(text: string, name: string, opts: { labelColumn?: 'auto' | 'last' | 'none' } = {}): CsvTable {
  const mode = opts.labelColumn ?? 'auto';
  const lines = text.split('\n');
  let first = lines.findIndex((l) => l.trim() !== '');
  if (first < 0) throw new DatasetError(`${name}: the CSV file is empty`);
  const split = splitter(lines[first]!.replace(/\r$/, ''));
  let header: string[] | null = null;
  const firstFields = split(lines[first]!.replace(/\r$/, ''));
  if (firstFields.some((f) => Number.isNaN(toNumber(f)))) {
    header = firstFields.map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
    first++;
  }
  const cols = header ? header.length : firstFields.length;
  if (cols > LIMITS.CSV_MAX_COLUMNS)
    throw new DatasetError(`${name}: rows of ${cols} values, more than the limit of ${LIMITS.CSV_MAX_COLUMNS} (CSV_MAX_COLUMNS)`);
  if ((lines.length - first) * cols > LIMITS.CSV_MAX_VALUES)
    throw new DatasetError(`${name}: more than ${LIMITS.CSV_MAX_VALUES.toLocaleString('en-US')} values (CSV_MAX_VALUES)`);
  const values = new Float32Array(Math.max(0, lines.length - first) * cols); // float32: x is float32 anyway
  let n = 0;
  for (let li = first; li < lines.length; li++) {
    const line = lines[li]!.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const fields = split(line);
    if (fields.length !== cols)
      throw new DatasetError(
        `${name}: line ${li + 1} has ${fields.length} values, expected ${cols} (like ${header ? 'the header' : 'the first row'})`,
      );
    const base = n * cols;
    for (let c = 0; c < cols; c++) {
      const v = toNumber(fields[c]!);
      if (!Number.isFinite(v) || Math.abs(v) > 3.4028234663852886e38)
        // The value is not quoted: data.path may name any file, and its contents must not leak into messages.
        throw new DatasetError(`${name}: line ${li + 1}, column ${c + 1} is not a finite number`);
      values[base + c] = v;
    }
    n++;
  }
  if (n === 0) throw new DatasetError(`${name}: the CSV file has a header but no data rows`);

  const column = (c: number) => columnOf(values, n, cols, c);
  const labelColumn = chooseLabelColumn(mode, name, header, values, n, cols);
  let y: Int32Array | null = null;
  if (labelColumn >= 0) {
    const col = column(labelColumn);
    y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = col[i]!;
      if (!Number.isInteger(v) || v < 0)
        throw new DatasetError(
          `${name}: the label column (column ${labelColumn + 1}) holds ${v} in data row ${i + 1}, not a non-negative integer`,
        );
      y[i] = v;
    }
  }
  const d = labelColumn >= 0 ? cols - 1 : cols;
  if (d < 1) throw new DatasetError(`${name}: no feature columns`);
  const x = new Float32Array(n * d);
  for (let i = 0, k = 0; i < n; i++) for (let c = 0; c < cols; c++) if (c !== labelColumn) x[k++] = values[i * cols + c]!;
  return { n, d, x, y, header, labelColumn };
}
