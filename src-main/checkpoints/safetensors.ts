// The .safetensors format (https://github.com/huggingface/safetensors), written and read exactly:
//   8 bytes   N, the header length, unsigned 64-bit little-endian
//   N bytes   UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [..], "data_offsets": [begin, end] }, ...,
//                           "__metadata__": { "<key>": "<string value>" } }  padded with spaces to a multiple of 8
//   the rest  the tensors' raw little-endian bytes; data_offsets are relative to the start of this buffer.
// We write float32 only ("F32"), in the order given, contiguously. Reading is strict: the header must be valid
// JSON of that shape, every dtype known, every tensor's byte range must match its shape, and the ranges must
// tile the data buffer exactly (no gaps, no overlaps, nothing trailing). F64/F16/BF16 tensors are converted to
// float32 on read; integer and bool tensors are refused (a VAE's weights are floats).
import type { NamedTensor } from './checkpoint-dir';
import { ApiError } from '@shared/errors';

export class SafetensorsError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'SafetensorsError';
  }
}

export interface SafetensorsContents {
  /** In the order of their data offsets (for files we write: the order they were given). */
  tensors: NamedTensor[];
  metadata: Record<string, string>;
}

/** Bytes per element of every dtype the format defines. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** Headers beyond this size are refused (the reference implementation uses the same 100 MB limit). */
const MAX_HEADER_BYTES = 100_000_000;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function elementCount(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Serialize tensors (float32) and string metadata to .safetensors bytes. */
export function writeSafetensors(tensors: NamedTensor[], metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    if (!t.name || t.name === '__metadata__') throw new SafetensorsError(`invalid tensor name "${t.name}"`);
    if (seen.has(t.name)) throw new SafetensorsError(`duplicate tensor name "${t.name}"`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new SafetensorsError(`tensor ${t.name}: invalid shape [${t.shape.join(', ')}]`);
    if (t.data.length !== elementCount(t.shape))
      throw new SafetensorsError(`tensor ${t.name}: ${t.data.length} values do not fill shape [${t.shape.join(', ')}]`);
    const bytes = t.data.length * 4;
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new SafetensorsError(`metadata "${k}" must be a string`);
  // __metadata__ first, as the reference writer does; omitted when empty.
  const ordered = Object.keys(metadata).length ? { __metadata__: { ...metadata }, ...header } : header;
  let json = Buffer.from(JSON.stringify(ordered), 'utf8');
  const pad = (8 - (json.byteLength % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  let pos = 8 + json.byteLength;
  for (const t of tensors) {
    if (LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + i * 4, t.data[i]!, true);
    }
    pos += t.data.length * 4;
  }
  return out;
}

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse and validate .safetensors bytes; throws SafetensorsError saying what is wrong. */
export function readSafetensors(bytes: Uint8Array): SafetensorsContents {
  if (bytes.byteLength < 8) throw new SafetensorsError(`file too short (${bytes.byteLength} bytes) to hold a header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(`header length ${n64} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > bytes.byteLength)
    throw new SafetensorsError(`header length ${n} runs past the end of the file (${bytes.byteLength} bytes): truncated?`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new SafetensorsError('header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw new SafetensorsError('header does not start with "{"');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsError(`header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw new SafetensorsError('header is not a JSON object');

  let metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isPlainObject(value)) throw new SafetensorsError('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value))
        if (typeof v !== 'string') throw new SafetensorsError(`__metadata__.${k} is not a string`);
      metadata = value as Record<string, string>;
      continue;
    }
    if (!isPlainObject(value)) throw new SafetensorsError(`tensor ${name}: header entry is not an object`);
    const extra = Object.keys(value).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length) throw new SafetensorsError(`tensor ${name}: unknown header field(s) ${extra.join(', ')}`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES))
      throw new SafetensorsError(`tensor ${name}: unknown dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
      throw new SafetensorsError(`tensor ${name}: shape must be an array of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0))
      throw new SafetensorsError(`tensor ${name}: data_offsets must be two non-negative integers`);
    const [begin, end] = offsets as [number, number];
    if (end < begin) throw new SafetensorsError(`tensor ${name}: data_offsets [${begin}, ${end}] are reversed`);
    const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype]!;
    if (end - begin !== expected)
      throw new SafetensorsError(
        `tensor ${name}: ${end - begin} bytes do not match ${dtype} shape [${(shape as number[]).join(', ')}] (${expected} bytes)`,
      );
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }

  const dataStart = 8 + n;
  const dataBytes = bytes.byteLength - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.begin !== cursor)
      throw new SafetensorsError(
        e.begin > cursor
          ? `tensor ${e.name}: gap in the data buffer before offset ${e.begin} (previous tensor ends at ${cursor})`
          : `tensor ${e.name}: data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${cursor})`,
      );
    cursor = e.end;
  }
  if (cursor !== dataBytes)
    throw new SafetensorsError(
      cursor > dataBytes
        ? `tensor data runs past the end of the file (needs ${cursor} bytes, has ${dataBytes}): truncated?`
        : `${dataBytes - cursor} unexpected trailing bytes after the tensor data`,
    );

  const tensors: NamedTensor[] = entries.map((e) => ({ name: e.name, shape: e.shape, data: decode(e, bytes, view, dataStart) }));
  return { tensors, metadata };
}

function decode(e: HeaderEntry, bytes: Uint8Array, view: DataView, dataStart: number): Float32Array {
  const count = elementCount(e.shape);
  const at = dataStart + e.begin;
  const out = new Float32Array(count);
  switch (e.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(at, at + count * 4));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + i * 4, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + i * 8, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(at + i * 2, true));
      return out;
    case 'BF16': {
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, view.getUint16(at + i * 2, true) << 16);
        out[i] = tmp.getFloat32(0);
      }
      return out;
    }
    default:
      throw new SafetensorsError(`tensor ${e.name}: dtype ${e.dtype} is not a float type; cannot load it as weights`);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
