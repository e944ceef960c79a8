// A binary cache of parsed datasets under `${dataHome}/cache/`: a header naming what was cached, then the raw
// little-endian typed arrays, so a second process loads in milliseconds instead of re-parsing the source.
//
// Layout: 8 bytes magic "VAEWDS01", uint32 LE header length H, H bytes of JSON header, zero padding to a
// multiple of 8, then train.x (f32), train.y (i32, when labelled), test.x, test.y. The header records the
// `key` (what the source was: version, sizes, mtimes) and the counts; a mismatch or a short file means the
// cache is stale or corrupt and is silently rebuilt.
import fs from 'node:fs';
import path from 'node:path';
import type { Split } from './types';

const MAGIC = 'VAEWDS01';

interface CacheHeader {
  key: string;
  d: number;
  trainN: number;
  testN: number;
  labelled: boolean;
}

export interface CachedSplits {
  d: number;
  train: Split;
  test: Split;
}

function byteLength(h: CacheHeader): number {
  const perSplit = (n: number) => n * h.d * 4 + (h.labelled ? n * 4 : 0);
  return perSplit(h.trainN) + perSplit(h.testN);
}

function readInto(fd: number, view: ArrayBufferView, position: number): number {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let done = 0;
  while (done < bytes.length) {
    const got = fs.readSync(fd, bytes, done, bytes.length - done, position + done);
    if (got <= 0) throw new Error('short read');
    done += got;
  }
  return position + bytes.length;
}

/** Read a cache file written for `key`; null when absent, stale or damaged. */
export function readCache(file: string, key: string): CachedSplits | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(12);
    if (fs.readSync(fd, head, 0, 12, 0) !== 12) return null;
    if (head.toString('latin1', 0, 8) !== MAGIC) return null;
    const hlen = head.readUInt32LE(8);
    if (hlen > 1 << 20 || 12 + hlen > size) return null;
    const hbuf = Buffer.alloc(hlen);
    fs.readSync(fd, hbuf, 0, hlen, 12);
    const header = JSON.parse(hbuf.toString('utf8')) as CacheHeader;
    if (header.key !== key) return null;
    let pos = Math.ceil((12 + hlen) / 8) * 8;
    if (size !== pos + byteLength(header)) return null;
    const readSplit = (n: number): Split => {
      const x = new Float32Array(n * header.d);
      pos = readInto(fd, x, pos);
      let y: Int32Array | null = null;
      if (header.labelled) {
        y = new Int32Array(n);
        pos = readInto(fd, y, pos);
      }
      return { x, y, n };
    };
    const train = readSplit(header.trainN);
    const test = readSplit(header.testN);
    return { d: header.d, train, test };
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/** Write a cache file atomically (temporary name, then rename). Failures are returned, never thrown. */
export function writeCache(file: string, key: string, data: CachedSplits): string | null {
  const labelled = data.train.y !== null && data.test.y !== null;
  const header: CacheHeader = { key, d: data.d, trainN: data.train.n, testN: data.test.n, labelled };
  const hbuf = Buffer.from(JSON.stringify(header), 'utf8');
  const prefixLen = Math.ceil((12 + hbuf.length) / 8) * 8;
  const prefix = Buffer.alloc(prefixLen);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(hbuf.length, 8);
  hbuf.copy(prefix, 12);
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      const parts: ArrayBufferView[] = [prefix];
      for (const s of [data.train, data.test]) {
        parts.push(s.x.subarray(0, s.n * data.d));
        if (labelled) parts.push(s.y!.subarray(0, s.n));
      }
      for (const p of parts) {
        const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
        let done = 0;
        while (done < bytes.length) done += fs.writeSync(fd, bytes, done, bytes.length - done);
      }
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return null;
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* nothing to clean */
    }
    return e instanceof Error ? e.message : String(e);
  }
}
