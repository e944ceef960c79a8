// The bundle's zip container: writing entries into a zip whose archive comment carries a checksum of the file,
// and reading one back with exact checks and limits before anything is inflated (end record, directory, each
// entry's sizes and compression, the archive checksum). Knows nothing of the manifest; see bundle-reader.ts.
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { BundleError } from './bundle-error';
import { BUNDLE_FORMAT } from './bundle-manifest';

const COMMENT_PREFIX = `${BUNDLE_FORMAT} sha256:`;
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;
const DOS_MIN = new Date(1980, 0, 2).getTime();
const DOS_MAX = new Date(2099, 11, 30).getTime();
const EOCD_SIG = 0x06054b50;
/** The size of the end-of-central-directory record without its comment: no zip is shorter. */
export const EOCD_SIZE = 22;

type Fail = (why: string) => never;

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

// ------------------------------------------------------------------ write

export interface BundleEntry {
  path: string;
  data: Uint8Array;
  /** Deflate (text) or store (already dense binary: float32 tensors, PNG). */
  compress: boolean;
}

/**
 * Write entries, in order, into a zip whose archive comment carries the checksum parseBundle verifies. The
 * low-level half of buildBundle (which also writes the manifest); exported for tools and tests that repackage.
 */
export function packBundle(entries: BundleEntry[], mtimeMs: number = Date.now()): Uint8Array {
  // Zip timestamps (DOS dates) only cover 1980..2099; clamp rather than fail on odd clocks.
  const mtime = new Date(Math.min(Math.max(Number.isFinite(mtimeMs) ? mtimeMs : Date.now(), DOS_MIN), DOS_MAX));
  const zippable: Zippable = {};
  for (const e of entries) zippable[e.path] = [e.data, { level: e.compress ? 6 : 0, mtime }];
  return withArchiveChecksum(zipSync(zippable));
}

function findEocd(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let e = bytes.byteLength - EOCD_SIZE; e >= 0 && bytes.byteLength - e <= EOCD_SIZE + 0xffff; e--) {
    if (view.getUint32(e, true) === EOCD_SIG && e + EOCD_SIZE + view.getUint16(e + 20, true) === bytes.byteLength) return e;
  }
  return -1;
}

/** Set the zip's archive comment to the sha256 of everything before the end-of-central-directory record. */
function withArchiveChecksum(zip: Uint8Array): Uint8Array {
  const e = findEocd(zip);
  if (e < 0 || e + EOCD_SIZE !== zip.byteLength) throw new BundleError('internal error: unexpected zip layout from the zip writer');
  const comment = utf8(COMMENT_PREFIX + sha256(zip.subarray(0, e)));
  const out = new Uint8Array(zip.byteLength + comment.byteLength);
  out.set(zip);
  out.set(comment, zip.byteLength);
  new DataView(out.buffer).setUint16(e + 20, comment.byteLength, true);
  return out;
}

// ------------------------------------------------------------------ read

export interface ZipLayout {
  eocd: number;
  entries: number;
  comment: string;
}

/** A zip starts with a local file header (or, empty, with its end record); anything else is not a zip. */
export function checkZipSignature(bytes: Uint8Array): void {
  const notZip = (why?: string): never => {
    throw new BundleError(why ? `not a zip file (${why})` : 'not a zip file');
  };
  if (bytes.byteLength < EOCD_SIZE) notZip(`${bytes.byteLength} bytes`);
  const isLocalHeader = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const isEmptyZip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x05 && bytes[3] === 0x06;
  if (!isLocalHeader && !isEmptyZip) notZip();
}

/** Check the end-of-central-directory record exactly (single disk, counts agree, directory ends where it starts). */
export function readZipLayout(bytes: Uint8Array, fail: Fail): ZipLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const e = findEocd(bytes);
  if (e < 0) fail('the zip file is truncated or damaged (no end-of-central-directory record)');
  const disk = view.getUint16(e + 4, true);
  const cdDisk = view.getUint16(e + 6, true);
  const onDisk = view.getUint16(e + 8, true);
  const total = view.getUint16(e + 10, true);
  const cdSize = view.getUint32(e + 12, true);
  const cdOffset = view.getUint32(e + 16, true);
  if (disk !== 0 || cdDisk !== 0 || onDisk !== total) fail('the zip file is damaged (multi-disk fields in its end record)');
  if (cdOffset + cdSize !== e) fail('the zip file is truncated or damaged (central directory does not end where its end record starts)');
  const comment = Buffer.from(bytes.subarray(e + EOCD_SIZE)).toString('utf8');
  return { eocd: e, entries: total, comment };
}

/** Whether the archive comment is the one packBundle writes (the file claims to be a bundle). */
export function hasBundleComment(layout: ZipLayout): boolean {
  return layout.comment.startsWith(COMMENT_PREFIX);
}

/** Whether the checksum in the archive comment matches every byte before the end record. */
export function archiveChecksumMatches(bytes: Uint8Array, layout: ZipLayout): boolean {
  return layout.comment === COMMENT_PREFIX + sha256(bytes.subarray(0, layout.eocd));
}

export interface ZipEntryInfo {
  size: number;
  originalSize: number;
  compression: number;
}

export interface ZipDirectory {
  /** Entry names in directory order. */
  names: string[];
  infos: Map<string, ZipEntryInfo>;
}

/**
 * Entry names and sizes from the central directory (nothing decompressed yet), so that each entry can then be
 * read on its own and an error can name it. The directory must agree with the end record and name no entry twice.
 */
export function readZipDirectory(bytes: Uint8Array, layout: ZipLayout, damaged: Fail): ZipDirectory {
  const infos = new Map<string, ZipEntryInfo>();
  const names: string[] = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        names.push(f.name);
        infos.set(f.name, { size: f.size, originalSize: f.originalSize, compression: f.compression });
        return false;
      },
    });
  } catch (err) {
    damaged(`cannot read the zip directory (${(err as Error).message})`);
  }
  if (names.length !== layout.entries) damaged(`the zip directory lists ${names.length} entries, its end record ${layout.entries}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) damaged(`entry "${dup}" appears twice`);
  return { names, infos };
}

/**
 * The directory record of one entry must be plausible before we inflate it. Sizes are checked before
 * decompressing, so a damaged size field cannot make us allocate gigabytes.
 */
export function checkEntryInfo(bytes: Uint8Array, dir: ZipDirectory, name: string, fail: Fail): void {
  const info = dir.infos.get(name)!;
  if (info.compression !== 0 && info.compression !== 8) fail(`entry "${name}" uses unknown compression method ${info.compression}`);
  if (info.compression === 0 && info.size !== info.originalSize) fail(`entry "${name}" is stored but its two sizes differ`);
  if (info.size > bytes.byteLength) fail(`entry "${name}" claims ${info.size} compressed bytes, more than the whole file`);
  // Deflate expands at most ~1032:1; anything claiming more (or over 1 GiB of text) is damaged or a zip bomb.
  if (info.compression === 8 && (info.originalSize > MAX_INFLATED_BYTES || info.originalSize > info.size * 1100 + 1024))
    fail(`entry "${name}" claims ${info.originalSize} bytes from ${info.size} compressed bytes`);
}

/** Inflate one entry, which must have exactly `expectedBytes` bytes (by its directory record and in fact). */
export function readEntry(bytes: Uint8Array, dir: ZipDirectory, name: string, expectedBytes: number, damaged: Fail): Uint8Array {
  const info = dir.infos.get(name)!;
  if (info.originalSize !== expectedBytes) damaged(`entry "${name}" has ${info.originalSize} bytes, the manifest says ${expectedBytes}`);
  let out: Uint8Array | undefined;
  try {
    out = unzipSync(bytes, { filter: (f) => f.name === name })[name];
  } catch (err) {
    return damaged(`entry "${name}" cannot be decompressed (${(err as Error).message})`);
  }
  if (!out) return damaged(`entry "${name}" cannot be read`);
  if (out.byteLength !== expectedBytes) damaged(`entry "${name}" has ${out.byteLength} bytes, the manifest says ${expectedBytes}`);
  return out;
}
