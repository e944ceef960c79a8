// IDX files (the MNIST format): magic 0x00 0x00 <type> <ndims>, ndims big-endian uint32 sizes, then the data
// big-endian in C order. Gzipped files (detected by their 1f 8b header, whatever the name) are inflated first.
import { LIMITS } from '@shared/limits';
import { checkDatasetFile } from './path-check';
import { readRegularFile } from '../os/untrusted';
import zlib from 'node:zlib';
import { DatasetError } from './types';

export interface IdxArray {
  dims: number[];
  /** Element type name, e.g. 'ubyte', 'float'. */
  type: string;
  /** The values in C order (uint8 data stays a Uint8Array, everything else is converted to Float64/Float32). */
  data: Uint8Array | Int8Array | Float32Array | Float64Array | Int16Array | Int32Array;
}

const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'ubyte', size: 1 },
  0x09: { name: 'byte', size: 1 },
  0x0b: { name: 'short', size: 2 },
  0x0c: { name: 'int', size: 4 },
  0x0d: { name: 'float', size: 4 },
  0x0e: { name: 'double', size: 8 },
};

/** Read a file, inflating it when it is gzip (by content). Errors name the file. */
export function readMaybeGzip(file: string, maxInflatedBytes: number = LIMITS.DATASET_MAX_INFLATED_BYTES): Buffer {
  let raw: Buffer;
  checkDatasetFile(file, 'dataset file');
  try {
    // The one rule (os/untrusted.ts): a non-blocking open then fstat, so a file swapped for a FIFO never blocks.
    raw = readRegularFile(file, {
      what: 'dataset file',
      maxBytes: LIMITS.DATASET_MAX_FILE_BYTES,
      limit: 'DATASET_MAX_FILE_BYTES',
      follow: true,
    });
  } catch (e) {
    throw new DatasetError((e as Error).message);
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return zlib.gunzipSync(raw, { maxOutputLength: maxInflatedBytes });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError)
        throw new DatasetError(
          `${file}: the gzip data inflates to more than the limit of ${maxInflatedBytes} bytes (DATASET_MAX_INFLATED_BYTES)`,
        );
      throw new DatasetError(`${file}: corrupt or truncated gzip data (${(e as Error).message})`);
    }
  }
  return raw;
}

/** Parse IDX bytes; `name` is used in error messages. */
export function parseIdx(buf: Buffer, name: string): IdxArray {
  if (buf.length < 4) throw new DatasetError(`${name}: not an IDX file (only ${buf.length} bytes)`);
  if (buf[0] !== 0 || buf[1] !== 0)
    throw new DatasetError(
      `${name}: bad IDX magic number 0x${buf.readUInt32BE(0).toString(16).padStart(8, '0')} (expected 0x0000TTNN: two zero bytes, type, dimensions)`,
    );
  const type = TYPES[buf[2]!];
  if (!type) throw new DatasetError(`${name}: unsupported IDX element type 0x${buf[2]!.toString(16)}`);
  const ndims = buf[3]!;
  if (ndims < 1 || ndims > 8) throw new DatasetError(`${name}: unsupported number of IDX dimensions ${ndims}`);
  const headerLen = 4 + 4 * ndims;
  if (buf.length < headerLen) throw new DatasetError(`${name}: truncated IDX header`);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const dim = buf.readUInt32BE(4 + 4 * i);
    dims.push(dim);
    count *= dim;
  }
  const expected = headerLen + count * type.size;
  if (buf.length < expected)
    throw new DatasetError(
      `${name}: truncated IDX file: dimensions ${dims.join('x')} of ${type.name} need ${expected} bytes, the file has ${buf.length}`,
    );
  if (buf.length > expected)
    throw new DatasetError(`${name}: ${buf.length - expected} unexpected bytes after the IDX data (dimensions ${dims.join('x')})`);
  const body = buf.subarray(headerLen, expected);
  let data: IdxArray['data'];
  switch (type.name) {
    case 'ubyte':
      data = new Uint8Array(body.buffer, body.byteOffset, body.length);
      break;
    case 'byte':
      data = new Int8Array(body.buffer, body.byteOffset, body.length);
      break;
    case 'short': {
      const a = new Int16Array(count);
      for (let i = 0; i < count; i++) a[i] = body.readInt16BE(2 * i);
      data = a;
      break;
    }
    case 'int': {
      const a = new Int32Array(count);
      for (let i = 0; i < count; i++) a[i] = body.readInt32BE(4 * i);
      data = a;
      break;
    }
    case 'float': {
      const a = new Float32Array(count);
      for (let i = 0; i < count; i++) a[i] = body.readFloatBE(4 * i);
      data = a;
      break;
    }
    default: {
      const a = new Float64Array(count);
      for (let i = 0; i < count; i++) a[i] = body.readDoubleBE(8 * i);
      data = a;
    }
  }
  return { dims, type: type.name, data };
}

export function readIdx(file: string): IdxArray {
  return parseIdx(readMaybeGzip(file), file);
}

/** Images from an IDX array: [n, h, w] or [n, h, w, c] (or [n, d]); values as float32, not yet normalised. */
export function idxImages(arr: IdxArray, name: string): { n: number; shape: [number, number, number]; x: Float32Array } {
  const [n, ...rest] = arr.dims;
  let shape: [number, number, number];
  if (rest.length === 2) shape = [rest[0]!, rest[1]!, 1];
  else if (rest.length === 3) shape = [rest[0]!, rest[1]!, rest[2]!];
  else if (rest.length === 1) shape = [1, rest[0]!, 1];
  else throw new DatasetError(`${name}: expected images of dimensions n x h x w (or n x h x w x c), got ${arr.dims.join('x')}`);
  const x = new Float32Array(arr.data.length);
  if (arr.data instanceof Uint8Array) {
    for (let i = 0; i < x.length; i++) x[i] = arr.data[i]! / 255;
  } else x.set(arr.data);
  return { n: n!, shape, x };
}

/** Labels from a one-dimensional IDX array. */
export function idxLabels(arr: IdxArray, name: string): Int32Array {
  if (arr.dims.length !== 1) throw new DatasetError(`${name}: expected a one-dimensional label file, got dimensions ${arr.dims.join('x')}`);
  const y = new Int32Array(arr.data.length);
  for (let i = 0; i < y.length; i++) {
    const v = arr.data[i]!;
    if (!Number.isInteger(v) || v < 0) throw new DatasetError(`${name}: label ${i} is ${v}, not a non-negative integer`);
    y[i] = v;
  }
  return y;
}

/** Encode an array as IDX (tests and export); uint8 or float32 data. */
export function encodeIdx(dims: number[], data: Uint8Array | Float32Array): Buffer {
  const isByte = data instanceof Uint8Array;
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = isByte ? 0x08 : 0x0d;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  if (isByte) return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) body.writeFloatBE(data[i]!, 4 * i);
  return Buffer.concat([header, body]);
}
