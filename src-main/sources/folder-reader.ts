// Reading a watched source's untrusted folders: the small interface the source importer uses. Every file is opened
// without following a final symbolic link and without blocking (O_NOFOLLOW | O_NONBLOCK), then fstat'ed: only a
// regular file within its size limit is read, so a FIFO never blocks the host and a device is never read; every
// name must be a plain file name (no separators, no dot-dot) and resolve inside the folder; directories are listed
// with lstat only (a symbolic link is never entered). Every refusal is a SourceFolderError naming the file and the
// limit. (Meant to be served by the project's one reader of untrusted folders, src-main/os/untrusted.ts, once
// merged: readRegularFile / openRegularFile / pathInside do the same.)
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '@shared/errors';
import { SOURCE_LIMITS, type SourceLimitName } from './source-limits';

export class SourceFolderError extends ApiError {
  constructor(
    message: string,
    readonly limit?: SourceLimitName,
  ) {
    super('invalid_input', message);
    this.name = 'SourceFolderError';
  }
}

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** A plain file or folder name we accept from a source (letters, digits, . _ -; no leading dot; at most 200). */
export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..');
}

function joinSafe(dir: string, name: string): string {
  if (!isSafeName(name)) throw new SourceFolderError(`${path.join(dir, name)}: not a plain file name`);
  return path.join(dir, name);
}

/** The sub-folders of `dir` with safe names (lstat: symbolic links are not folders here), at most SOURCE_MAX_ENTRIES. */
export function listFolders(dir: string): string[] {
  const out: string[] = [];
  const d = fs.opendirSync(dir);
  try {
    let n = 0;
    for (let e = d.readSync(); e; e = d.readSync()) {
      if (++n > SOURCE_LIMITS.SOURCE_MAX_ENTRIES)
        throw new SourceFolderError(
          `${dir} holds more than ${SOURCE_LIMITS.SOURCE_MAX_ENTRIES} entries (SOURCE_MAX_ENTRIES)`,
          'SOURCE_MAX_ENTRIES',
        );
      if (e.isDirectory() && isSafeName(e.name)) out.push(e.name);
    }
  } finally {
    d.closeSync();
  }
  return out.sort();
}

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOFOLLOW ?? 0);

function openRegular(file: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw Object.assign(new SourceFolderError(`${file} does not exist`), { missing: true });
    if (code === 'ELOOP') throw new SourceFolderError(`${file} is a symbolic link (not followed)`);
    throw new SourceFolderError(`${file} cannot be opened (${code ?? (err as Error).message})`);
  }
  const st = fs.fstatSync(fd);
  if (!st.isFile()) {
    fs.closeSync(fd);
    throw new SourceFolderError(`${file} is not a regular file (a FIFO, device, socket or folder is refused)`);
  }
  return { fd, size: st.size };
}

/** Whether an error means only "not there (yet)". */
export function isMissing(err: unknown): boolean {
  return !!(err as { missing?: boolean } | null)?.missing;
}

/** The size of a regular file `name` in `dir`, or null when it does not exist yet. */
export function fileSize(dir: string, name: string): number | null {
  try {
    const { fd, size } = openRegular(joinSafe(dir, name));
    fs.closeSync(fd);
    return size;
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

/** A whole regular file, refused above `maxBytes` (named by `limit`). */
export function readWhole(dir: string, name: string, limit: SourceLimitName): Buffer {
  const file = joinSafe(dir, name);
  const { fd, size } = openRegular(file);
  try {
    const max = SOURCE_LIMITS[limit];
    if (size > max) throw new SourceFolderError(`${file} is ${size} bytes, more than the limit of ${max} (${limit})`, limit);
    return readAt(fd, 0, size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Bytes [from, from + at most maxBytes) of a regular file (its current end bounds them), or null when it is missing. */
export function readChunk(dir: string, name: string, from: number, maxBytes: number): { bytes: Buffer; size: number } | null {
  let opened: { fd: number; size: number };
  try {
    opened = openRegular(joinSafe(dir, name));
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
  try {
    if (opened.size > SOURCE_LIMITS.SOURCE_MAX_LOG_FILE_BYTES)
      throw new SourceFolderError(
        `${path.join(dir, name)} is ${opened.size} bytes, more than the limit of ${SOURCE_LIMITS.SOURCE_MAX_LOG_FILE_BYTES} (SOURCE_MAX_LOG_FILE_BYTES)`,
        'SOURCE_MAX_LOG_FILE_BYTES',
      );
    if (opened.size <= from) return { bytes: Buffer.alloc(0), size: opened.size };
    return { bytes: readAt(opened.fd, from, Math.min(maxBytes, opened.size - from)), size: opened.size };
  } finally {
    fs.closeSync(opened.fd);
  }
}

function readAt(fd: number, from: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const n = fs.readSync(fd, buf, off, length - off, from + off);
    if (n === 0) break;
    off += n;
  }
  return off === length ? buf : buf.subarray(0, off);
}

/** `dir/name` when it is a real folder (lstat: a symbolic link to a folder is refused), or null when missing. */
export function subFolder(dir: string, name: string): string | null {
  const p = joinSafe(dir, name);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return null;
  }
  if (!st.isDirectory()) throw new SourceFolderError(`${p} is not a folder (a symbolic link is not followed)`);
  return p;
}
