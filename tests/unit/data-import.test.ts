import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { dataSchema } from '@shared/run-config';
import { loadDataset } from '../../src-main/data/registry';
import { encodeIdx, parseIdx } from '../../src-main/data/idx';
import { encodeNpy, parseNpy } from '../../src-main/data/npy';
import { parseCsv } from '../../src-main/data/csv';
import { DatasetError } from '../../src-main/data/types';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaew-data-import-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const dataHome = path.join(dir, 'home');
const cfg = (over: Record<string, unknown> = {}) => dataSchema.parse({ dataset: 'import', ...over });
const load = (over: Record<string, unknown>) => loadDataset(cfg(over), { dataHome, seed: 1 });
const write = (name: string, content: string | Buffer) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
};

describe('import: IDX', () => {
  const n = 20;
  const bytes = Uint8Array.from({ length: n * 8 * 8 }, (_, i) => (i * 31) % 256);
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 3);

  it('round-trips plain and gzipped ubyte images with a sibling labels file; last 10% is the test split', async () => {
    write('toy-images-idx3-ubyte', encodeIdx([n, 8, 8], bytes));
    write('toy-labels-idx1-ubyte', encodeIdx([n], labels));
    write('gz-images-idx3-ubyte.gz', zlib.gzipSync(encodeIdx([n, 8, 8], bytes)));
    for (const name of ['toy-images-idx3-ubyte', 'gz-images-idx3-ubyte.gz']) {
      const ds = await load({ path: path.join(dir, name) });
      expect(ds.descriptor.shape).toEqual([8, 8, 1]);
      expect(ds.d).toBe(64);
      expect(ds.train.n).toBe(18);
      expect(ds.test.n).toBe(2);
      expect(ds.test.x[0]).toBeCloseTo(bytes[18 * 64]! / 255, 6);
      expect(ds.train.x[5]).toBeCloseTo(bytes[5]! / 255, 6);
      if (name.startsWith('toy')) {
        expect(Array.from(ds.test.y!)).toEqual([0, 1]);
        expect(ds.descriptor.labels).toEqual(['0', '1', '2']);
      } else expect(ds.train.y).toBeNull();
    }
  });

  it('reads float IDX data and refuses a bad magic number and a truncated file', async () => {
    const floats = Float32Array.from({ length: 10 * 3 }, (_, i) => i / 29);
    const arr = parseIdx(encodeIdx([10, 3], floats), 'mem');
    expect(arr.type).toBe('float');
    expect(arr.data[29]).toBeCloseTo(1, 6);
    const good = encodeIdx([n, 8, 8], bytes);
    const bad = Buffer.from(good);
    bad[0] = 0x1f;
    bad[1] = 0x00;
    const badFile = write('bad.idx', bad);
    await expect(load({ path: badFile })).rejects.toThrow(/bad\.idx: bad IDX magic number 0x1f00/);
    const shortFile = write('short.idx', good.subarray(0, good.length - 10));
    await expect(load({ path: shortFile })).rejects.toThrow(/short\.idx: truncated IDX file.*20x8x8/);
    const gzShort = write('short2-images-idx3-ubyte.gz', zlib.gzipSync(good).subarray(0, 100));
    await expect(load({ path: gzShort })).rejects.toThrow(/short2-images-idx3-ubyte\.gz: corrupt or truncated gzip/);
  });
});

describe('import: CSV', () => {
  it('reads a CSV with a header and a named label column; values in [0,1] are kept', async () => {
    const rows = ['a,b,c,d,label'];
    for (let i = 0; i < 30; i++) rows.push([0.1, 0.2, 0.3, (i % 10) / 10, i % 4].join(','));
    const ds = await load({ path: write('with-header.csv', rows.join('\r\n')) });
    expect(ds.d).toBe(4);
    expect(ds.descriptor.shape).toEqual([2, 2, 1]);
    expect(ds.train.n).toBe(27);
    expect(ds.test.n).toBe(3);
    expect(Array.from(ds.test.y!)).toEqual([3, 0, 1]);
    expect(ds.train.x[3]).toBeCloseTo(0, 6);
    expect(ds.train.x[7]).toBeCloseTo(0.1, 6);
  });

  it('detects 0..255 values and an unnamed integer label column after an image-sized row', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 10; i++) rows.push([...Array.from({ length: 9 }, (_, j) => (i * 9 + j) * 2), i % 2].join(','));
    const ds = await load({ path: write('bytes.csv', rows.join('\n')) });
    expect(ds.d).toBe(9);
    expect(ds.descriptor.shape).toEqual([3, 3, 1]);
    expect(ds.test.y).not.toBeNull();
    expect(ds.train.x[1]).toBeCloseTo(2 / 255, 6);
    expect(ds.descriptor.description).toContain('divide-255');
  });

  it('keeps an unlabelled series and rescales values outside [0,255] by min-max', async () => {
    const rows: string[] = [];
    for (let i = 0; i < 20; i++) rows.push([Math.sin(i) * 1000, i - 10, 3 * i].join(';'));
    const ds = await load({ path: write('series.txt', rows.join('\n')), format: 'csv' });
    expect(ds.descriptor.kind).toBe('series');
    expect(ds.descriptor.shape).toEqual([1, 3, 1]);
    expect(ds.train.y).toBeNull();
    const all = [...ds.train.x, ...ds.test.x];
    expect(Math.min(...all)).toBeCloseTo(0, 6);
    expect(Math.max(...all)).toBeCloseTo(1, 6);
  });

  it('names the line of a ragged row and of a non-number', async () => {
    const ragged = write('ragged.csv', '1,2,3\n4,5,6\n\n7,8\n');
    await expect(load({ path: ragged })).rejects.toThrow(/ragged\.csv: line 4 has 2 values, expected 3/);
    const text = write('text.csv', 'x,y\n1,2\n3,oops\n');
    // The value itself is not quoted (data.path may name any file; its contents must not reach messages).
    await expect(load({ path: text })).rejects.toThrow(/text\.csv: line 3, column 2 is not a finite number$/);
    expect(() => parseCsv('', 'empty.csv')).toThrow(DatasetError);
    const t = parseCsv('1 2 3\n4 5 6\n', 'spaces.csv', { labelColumn: 'last' });
    expect(t.d).toBe(2);
    expect(Array.from(t.y!)).toEqual([3, 6]);
  });
});

describe('import: NPY', () => {
  it('round-trips float32 [n, h, w] and uint8 [n, d] arrays, with sibling labels', async () => {
    const n = 10;
    const f32 = Float32Array.from({ length: n * 4 * 4 }, (_, i) => (i % 17) / 16);
    const f32File = write('faces.npy', encodeNpy([n, 4, 4], f32));
    write(
      'faces_labels.npy',
      encodeNpy(
        [n],
        Float64Array.from({ length: n }, (_, i) => i % 2),
      ),
    );
    const a = await load({ path: f32File });
    expect(a.descriptor.shape).toEqual([4, 4, 1]);
    expect(a.train.n).toBe(9);
    expect(a.test.n).toBe(1);
    expect(
      Buffer.compare(Buffer.from(a.train.x.buffer, a.train.x.byteOffset, a.train.x.byteLength), Buffer.from(f32.buffer, 0, 9 * 16 * 4)),
    ).toBe(0);
    expect(Array.from(a.test.y!)).toEqual([1]);

    const u8 = Uint8Array.from({ length: n * 12 }, (_, i) => (i * 7) % 256);
    const b = await load({ path: write('bytes.npy', encodeNpy([n, 12], u8)) });
    expect(b.descriptor.kind).toBe('series');
    expect(b.d).toBe(12);
    expect(b.test.x[0]).toBeCloseTo(u8[9 * 12]! / 255, 6);
    expect(b.train.y).toBeNull();

    const f64 = parseNpy(encodeNpy([2, 3], Float64Array.from([1, 2, 3, 4, 5, 6])), 'mem');
    expect(f64.dtype).toBe('float64');
    expect(Array.from(f64.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses an unsupported dtype, Fortran order, a truncated body and a bad magic', async () => {
    const good = encodeNpy([4, 4], new Float32Array(16));
    const bigEndian = Buffer.from(good.toString('latin1').replace("'<f4'", "'>f4'"), 'latin1');
    await expect(load({ path: write('be.npy', bigEndian) })).rejects.toThrow(/be\.npy: unsupported dtype '>f4'/);
    const fortran = Buffer.from(good.toString('latin1').replace('False', 'True '), 'latin1');
    await expect(load({ path: write('fortran.npy', fortran) })).rejects.toThrow(/Fortran/);
    await expect(load({ path: write('trunc.npy', good.subarray(0, good.length - 4)) })).rejects.toThrow(/trunc\.npy: truncated \.npy data/);
    await expect(load({ path: write('fake.npy', 'hello world, not numpy') })).rejects.toThrow(/fake\.npy: not a \.npy file/);
  });

  it('asks for data.format when the extension says nothing, and names a missing file', async () => {
    await expect(load({ path: write('mystery.bin', 'xx') })).rejects.toThrow(/set data\.format/);
    await expect(load({ path: path.join(dir, 'absent.csv') })).rejects.toThrow(/data.path: .*absent\.csv does not exist/);
  });
});
