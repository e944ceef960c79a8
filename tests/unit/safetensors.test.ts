import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NamedTensor } from '../../src-main/checkpoints/checkpoint-dir';
import { readSafetensors, SafetensorsError, writeSafetensors } from '../../src-main/checkpoints/safetensors';
import { seededValues } from './synthetic-data';

const tensors: NamedTensor[] = [
  { name: 'encoder/dense_0/kernel', shape: [7, 5], data: seededValues(35, 1) },
  { name: 'encoder/dense_0/bias', shape: [5], data: seededValues(5, 2) },
  { name: 'scalar', shape: [], data: new Float32Array([3.25]) },
  { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
  { name: 'decoder/out/kernel', shape: [2, 3, 1], data: new Float32Array([1, -2, Infinity, -0, 1e-30, 3.4e38]) },
];
const metadata = { format: 'pt', note: 'ünïcode ✓' };

/** Build a file by hand from a header object and a data buffer (for malformed inputs). */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = Buffer.from(headerText ?? JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('safetensors', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'st-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('round-trips tensors and metadata bit for bit', () => {
    const bytes = writeSafetensors(tensors, metadata);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual(metadata);
    expect(back.tensors.map((t) => t.name)).toEqual(tensors.map((t) => t.name));
    for (const [i, t] of tensors.entries()) {
      expect(back.tensors[i]!.shape).toEqual(t.shape);
      expect(Buffer.from(back.tensors[i]!.data.buffer).equals(Buffer.from(t.data.buffer))).toBe(true);
    }
  });

  it('lays out bytes as the spec says (header parsed by hand)', () => {
    const bytes = writeSafetensors(tensors, metadata);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = Number(view.getBigUint64(0, true));
    expect(n % 8).toBe(0);
    expect((8 + n) % 8).toBe(0);
    const headerText = Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8');
    expect(headerText[0]).toBe('{');
    expect(/^\{.*\} *$/s.test(headerText)).toBe(true); // padding is spaces only
    const header = JSON.parse(headerText) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
    expect(header.__metadata__).toEqual(metadata);
    let expectedBegin = 0;
    for (const t of tensors) {
      const h = header[t.name]!;
      expect(h.dtype).toBe('F32');
      expect(h.shape).toEqual(t.shape);
      expect(h.data_offsets).toEqual([expectedBegin, expectedBegin + t.data.length * 4]);
      for (let i = 0; i < t.data.length; i++) {
        const v = view.getFloat32(8 + n + expectedBegin + i * 4, true);
        expect(Object.is(v, t.data[i])).toBe(true);
      }
      expectedBegin += t.data.length * 4;
    }
    expect(bytes.byteLength).toBe(8 + n + expectedBegin);
  });

  it('omits __metadata__ when there is none and still pads to 8 bytes', () => {
    const bytes = writeSafetensors([{ name: 'a', shape: [1], data: new Float32Array([1]) }]);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString()) as Record<string, unknown>;
    expect(Object.keys(header)).toEqual(['a']);
    expect(n % 8).toBe(0);
  });

  it('reads files written by an independent python/numpy implementation, and python reads ours', () => {
    const py = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
    if (py.status !== 0) return; // numpy not present on this machine: the hand-parsed check above still holds
    const ours = path.join(tmp, 'ours.safetensors');
    writeFileSync(ours, writeSafetensors(tensors, metadata));
    const theirs = path.join(tmp, 'theirs.safetensors');
    const script = `
import json, struct, sys, numpy as np
# read ours
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n].decode('utf-8'))
meta = h.pop('__metadata__')
data = b[8+n:]
sums = {k: float(np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], dtype='<f4').astype(np.float64)[np.isfinite(np.frombuffer(data[v['data_offsets'][0]:v['data_offsets'][1]], dtype='<f4'))].sum()) for k, v in h.items()}
# write theirs: float64 and float16 tensors, header padded with spaces
a = np.arange(6, dtype='<f8').reshape(2, 3) / 7
c = np.array([0.5, -2, 65504], dtype='<f2')
hdr = {'__metadata__': {'by': 'numpy'}, 'a': {'dtype': 'F64', 'shape': [2, 3], 'data_offsets': [0, 48]}, 'c': {'dtype': 'F16', 'shape': [3], 'data_offsets': [48, 54]}}
hb = json.dumps(hdr).encode('utf-8'); hb += b' ' * ((8 - len(hb) % 8) % 8)
open(sys.argv[2], 'wb').write(struct.pack('<Q', len(hb)) + hb + a.tobytes() + c.tobytes())
print(json.dumps({'meta': meta, 'sums': sums, 'n': n}))
`;
    const out = JSON.parse(execFileSync('python3', ['-c', script, ours, theirs], { encoding: 'utf8' })) as {
      meta: Record<string, string>;
      sums: Record<string, number>;
    };
    expect(out.meta).toEqual(metadata);
    for (const t of tensors) {
      let s = 0;
      for (const v of t.data) if (Number.isFinite(v)) s += v;
      expect(out.sums[t.name]).toBeCloseTo(s, 3);
    }
    const back = readSafetensors(new Uint8Array(readFileSync(theirs)));
    expect(back.metadata).toEqual({ by: 'numpy' });
    const a = back.tensors.find((t) => t.name === 'a')!;
    expect(a.shape).toEqual([2, 3]);
    for (let i = 0; i < 6; i++) expect(a.data[i]).toBeCloseTo(i / 7, 6);
    expect(Array.from(back.tensors.find((t) => t.name === 'c')!.data)).toEqual([0.5, -2, 65504]);
  });

  it('refuses malformed files with a message that says what is wrong', () => {
    const good = writeSafetensors(tensors, metadata);
    const f32 = (n: number) => new Uint8Array(n * 4);
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 5), /too short/],
      [good.subarray(0, 40), /past the end of the file/],
      [good.subarray(0, good.byteLength - 4), /runs past the end of the file|truncated/],
      [Buffer.concat([good, Buffer.from([0, 0, 0, 0])]), /trailing bytes/],
      [rawFile(null, f32(1), '[1,2]   '), /does not start with "\{"/],
      [rawFile(null, f32(1), '{"a": {'), /not valid JSON/],
      [rawFile({ a: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, f32(1)), /unknown dtype/],
      [rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, f32(1)), /do not match F32 shape \[2\]/],
      [rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), /gap in the data buffer/],
      [
        rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)),
        /overlap/,
      ],
      [rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [8, 4] } }, f32(2)), /reversed/],
      [rawFile({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), /non-negative integers/],
      [rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, f32(1)), /unknown header field/],
      [
        rawFile({ __metadata__: { k: 1 }, a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(1)),
        /__metadata__\.k is not a string/,
      ],
      [rawFile({ a: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, f32(1)), /not a float type/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => readSafetensors(bytes), String(message)).toThrow(SafetensorsError);
      expect(() => readSafetensors(bytes)).toThrow(message);
    }
    // a header length of 2^63 must not be taken at face value
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(() => readSafetensors(huge)).toThrow(/exceeds/);
  });

  it('refuses to write what it could not read back', () => {
    expect(() => writeSafetensors([{ name: 'a', shape: [2], data: new Float32Array(3) }])).toThrow(/do not fill/);
    expect(() =>
      writeSafetensors([
        { name: 'a', shape: [1], data: new Float32Array(1) },
        { name: 'a', shape: [1], data: new Float32Array(1) },
      ]),
    ).toThrow(/duplicate/);
    expect(() => writeSafetensors([{ name: '__metadata__', shape: [1], data: new Float32Array(1) }])).toThrow(/invalid tensor name/);
  });
});
