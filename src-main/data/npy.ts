// NumPy .npy files: magic "\x93NUMPY", version, a little header dict {'descr', 'fortran_order', 'shape'}, then the
// raw array. Supported: C order, dtypes float32 (<f4), float64 (<f8), uint8 (|u1) and int32 (<i4) / int64 (<i8)
// (the integer ones for label files).
import os from 'node:os';
import { DatasetError } from './types';

export interface NpyArray {
  shape: number[];
  dtype: string;
  data: Float32Array | Float64Array | Uint8Array | Int32Array;
}

const DTYPES: Record<string, { size: number; name: string }> = {
  '<f4': { size: 4, name: 'float32' },
  '<f8': { size: 8, name: 'float64' },
  '|u1': { size: 1, name: 'uint8' },
  '<u1': { size: 1, name: 'uint8' },
  u1: { size: 1, name: 'uint8' },
  '<i4': { size: 4, name: 'int32' },
  '<i8': { size: 8, name: 'int64' },
};

export function parseNpy(buf: Buffer, name: string): NpyArray {
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY')
    throw new DatasetError(`${name}: not a .npy file (bad magic; expected \\x93NUMPY)`);
  const major = buf[6]!;
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new DatasetError(`${name}: truncated .npy header`);
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else throw new DatasetError(`${name}: unsupported .npy format version ${major}.${buf[7]}`);
  if (buf.length < start + headerLen) throw new DatasetError(`${name}: truncated .npy header`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new DatasetError(`${name}: unreadable .npy header ${JSON.stringify(header.trim())}`);
  const dtype = DTYPES[descr];
  if (!dtype)
    throw new DatasetError(
      `${name}: unsupported dtype '${descr}' (supported: <f4 float32, <f8 float64, |u1 uint8, <i4/<i8 integer labels; little-endian)`,
    );
  if (fortran === 'True')
    throw new DatasetError(`${name}: Fortran-ordered arrays are not supported (save with C order, e.g. np.ascontiguousarray)`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => Number(s));
  if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw new DatasetError(`${name}: bad shape (${shapeText}) in the .npy header`);
  const count = shape.reduce((a, b) => a * b, 1);
  const bodyStart = start + headerLen;
  const need = count * dtype.size;
  if (buf.length - bodyStart < need)
    throw new DatasetError(
      `${name}: truncated .npy data: shape (${shape.join(', ')}) of ${dtype.name} needs ${need} bytes, the file has ${buf.length - bodyStart}`,
    );
  if (os.endianness() !== 'LE') throw new DatasetError(`${name}: reading .npy needs a little-endian machine`);
  // copy into a fresh, aligned buffer
  const body = new Uint8Array(need);
  body.set(buf.subarray(bodyStart, bodyStart + need));
  let data: NpyArray['data'];
  switch (dtype.name) {
    case 'float32':
      data = new Float32Array(body.buffer);
      break;
    case 'float64':
      data = new Float64Array(body.buffer);
      break;
    case 'uint8':
      data = body;
      break;
    case 'int32':
      data = new Int32Array(body.buffer);
      break;
    default: {
      const wide = new BigInt64Array(body.buffer);
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const v = wide[i]!;
        if (v > 2147483647n || v < -2147483648n) throw new DatasetError(`${name}: int64 value ${v} at ${i} does not fit in int32`);
        out[i] = Number(v);
      }
      data = out;
    }
  }
  return { shape, dtype: dtype.name, data };
}

/** Encode a C-order .npy (version 1.0) of float32, float64 or uint8 data. */
export function encodeNpy(shape: number[], data: Float32Array | Float64Array | Uint8Array): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Float64Array ? '<f8' : '|u1';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix[0] = 0x93;
  prefix.write('NUMPY', 1, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}
