// The one rule for every untrusted source (bundles, Slurm task homes, Python run folders, dataset files): every
// file read from outside goes through here. A file is opened without blocking and without following a final
// symbolic link (O_RDONLY | O_NONBLOCK | O_NOFOLLOW), then fstat'ed: only a regular file within its size limit is
// read, so a FIFO never blocks the opener and a device such as /dev/zero is never read. A file named inside an
// untrusted folder must resolve (realpath) inside that folder. JSON text is checked for nesting depth and value
// count on its text before JSON.parse, and parsed values for name lengths, with the limits of src-shared/limits.ts.
// Every refusal is an UntrustedError (API code invalid_input) whose message names the source, the file and the
// limit, and never quotes the file's contents.
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '@shared/errors';
import { LIMITS, type LimitName } from '@shared/limits';

/** An untrusted file, folder or document broke the rule; maps to the API code `invalid_input`. */
export class UntrustedError extends ApiError {
  constructor(
    message: string,
    readonly limit?: LimitName,
  ) {
    super('invalid_input', message);
    this.name = 'UntrustedError';
  }
}

const MiB = 1024 * 1024;
function bytes(n: number): string {
  return n >= MiB ? `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MiB` : `${n} bytes`;
}

/** What a non-regular file is, for messages ("a FIFO (named pipe)", "a character device", ...). */
export function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

export interface UntrustedFileOptions {
  /** Names the source in messages: "sweep 3 task 2", "bundle x.zip", "data.path". */
  what: string;
  /** The untrusted folder the file must resolve inside (omitted: a file the user named themselves). */
  root?: string;
  /** Largest size accepted, and the limit named when it is exceeded. */
  maxBytes: number;
  limit: LimitName;
  /** Follow a final symbolic link (true only for a path the user typed, such as data.path). Default false. */
  follow?: boolean;
}

function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * `name` (relative to `root`, or absolute) as a real path inside the real `root`: no NUL, no `..` out, no symbolic
 * link leading out. Throws UntrustedError; returns the resolved path (which may not exist when `mustExist` is false).
 */
export function pathInside(root: string, name: string, what: string, mustExist = true): string {
  if (name.includes('\0')) throw new UntrustedError(`${what}: a path holds a NUL character`);
  if (name.length > 4096) throw new UntrustedError(`${what}: a path of ${name.length} characters, more than 4096`);
  let realRoot: string;
  try {
    realRoot = fs.realpathSync(root);
  } catch {
    throw new UntrustedError(`${what}: the folder ${root} does not exist`);
  }
  const joined = path.resolve(realRoot, name);
  if (!isInside(realRoot, joined)) throw new UntrustedError(`${what}: ${name} is outside ${root}`);
  let real: string;
  try {
    real = fs.realpathSync(joined);
  } catch (err) {
    if (!mustExist && (err as NodeJS.ErrnoException).code === 'ENOENT') return joined;
    throw new UntrustedError(`${what}: ${name} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!isInside(realRoot, real)) throw new UntrustedError(`${what}: ${name} leads outside ${root} (a symbolic link)`);
  return real;
}

const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/**
 * Open a regular file under the rule: never blocks (a FIFO is refused after a non-blocking open), never follows a
 * final symbolic link unless `follow`, and refuses devices, sockets, directories and files over `maxBytes`.
 * The caller closes the returned fd.
 */
export function openRegularFile(file: string, o: UntrustedFileOptions): { fd: number; size: number; path: string } {
  const target = o.root !== undefined ? pathInside(o.root, file, o.what) : file;
  if (target.includes('\0')) throw new UntrustedError(`${o.what}: a path holds a NUL character`);
  const flags = OPEN_FLAGS | (o.follow ? 0 : (fs.constants.O_NOFOLLOW ?? 0));
  let fd: number;
  try {
    fd = fs.openSync(target, flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UntrustedError(`${o.what}: ${file} is a symbolic link (not followed) or a link loop`);
    if (code === 'ENOENT') throw new UntrustedError(`${o.what}: ${file} does not exist`);
    if (code === 'EACCES') throw new UntrustedError(`${o.what}: ${file} cannot be read (permission denied)`);
    throw new UntrustedError(`${o.what}: ${file} cannot be opened (${code ?? (err as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new UntrustedError(`${o.what}: ${file} is ${kindOf(st)}, not a regular file`);
    if (st.size > o.maxBytes)
      throw new UntrustedError(
        `${o.what}: ${file} is ${bytes(st.size)}, more than the limit of ${bytes(o.maxBytes)} (${o.limit})`,
        o.limit,
      );
    return { fd, size: st.size, path: target };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function readAll(fd: number, size: number, from = 0): Buffer {
  const buf = Buffer.alloc(size);
  let off = 0;
  while (off < size) {
    const n = fs.readSync(fd, buf, off, size - off, from + off);
    if (n === 0) break; // the file shrank while read: keep what is there
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/** A whole regular file under the rule (at most `maxBytes`, read even if it grows meanwhile). */
export function readRegularFile(file: string, o: UntrustedFileOptions): Buffer {
  const { fd, size } = openRegularFile(file, o);
  try {
    return readAll(fd, size);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Bytes [from, from + at most `maxBytes`) of a regular file under the rule (the whole file at most `o.maxBytes`),
 * bounded by its size when opened, and that size: a reader of an append-only file resumes from an offset.
 */
export function readRegularChunk(file: string, o: UntrustedFileOptions, from: number, maxBytes: number): { bytes: Buffer; size: number } {
  const { fd, size } = openRegularFile(file, o);
  try {
    return { bytes: size <= from ? Buffer.alloc(0) : readAll(fd, Math.min(maxBytes, size - from), from), size };
  } finally {
    fs.closeSync(fd);
  }
}

/** The last `lines` lines of a regular file of any size, reading at most its last `tailBytes` bytes. */
export function tailRegularFile(
  file: string,
  o: Omit<UntrustedFileOptions, 'maxBytes' | 'limit'>,
  lines = 20,
  tailBytes = 64 * 1024,
): string {
  const { fd, size } = openRegularFile(file, { ...o, maxBytes: Number.MAX_SAFE_INTEGER, limit: 'UNTRUSTED_MAX_SMALL_FILE_BYTES' });
  try {
    const len = Math.min(size, tailBytes);
    return readAll(fd, len, size - len)
      .toString('utf8')
      .split(/\r?\n/)
      .filter((l, i, all) => l || i < all.length - 1)
      .slice(-lines)
      .join('\n');
  } finally {
    fs.closeSync(fd);
  }
}

export interface JsonBounds {
  maxDepth: number;
  maxValues: number;
  maxKeyChars: number;
}
export const JSON_BOUNDS: JsonBounds = {
  maxDepth: LIMITS.UNTRUSTED_MAX_DEPTH,
  maxValues: LIMITS.UNTRUSTED_MAX_JSON_VALUES,
  maxKeyChars: LIMITS.NAME_MAX_CHARS,
};

function depthError(what: string, max: number): UntrustedError {
  return new UntrustedError(
    `${what}: nested more than ${max} levels deep, more than the limit (UNTRUSTED_MAX_DEPTH)`,
    'UNTRUSTED_MAX_DEPTH',
  );
}
function countError(what: string, max: number): UntrustedError {
  return new UntrustedError(
    `${what}: holds more than ${max.toLocaleString('en-US')} values, more than the limit (UNTRUSTED_MAX_JSON_VALUES)`,
    'UNTRUSTED_MAX_JSON_VALUES',
  );
}

/** Check JSON text's nesting depth and value count in one linear scan, before JSON.parse builds anything. */
export function checkJsonText(text: string, what: string, b: JsonBounds = JSON_BOUNDS): void {
  let depth = 0;
  let values = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > b.maxDepth) throw depthError(what, b.maxDepth);
      if (++values > b.maxValues) throw countError(what, b.maxValues);
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && ++values > b.maxValues) throw countError(what, b.maxValues);
  }
}

/** JSON.parse under the rule: depth and count checked on the text first, then key lengths on the value. */
export function parseUntrustedJson(text: string, what: string, b: JsonBounds = JSON_BOUNDS): unknown {
  checkJsonText(text, what, b);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UntrustedError(`${what}: not valid JSON (${(err as Error).message.slice(0, 120)})`);
  }
  checkJsonValue(value, what, b);
  return value;
}

/** Check an already-built value (from JSON, structured clone, SQLite text) for depth, count and key lengths. */
export function checkJsonValue(value: unknown, what: string, b: JsonBounds = JSON_BOUNDS): void {
  let values = 0;
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (++values > b.maxValues) throw countError(what, b.maxValues);
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > b.maxDepth) throw depthError(what, b.maxDepth);
    if (Array.isArray(v)) {
      for (const x of v) stack.push({ v: x, depth: depth + 1 });
      continue;
    }
    if (ArrayBuffer.isView(v)) continue;
    for (const [k, x] of Object.entries(v)) {
      if (k.length > b.maxKeyChars)
        throw new UntrustedError(
          `${what}: a key of ${k.length.toLocaleString('en-US')} characters, more than the limit of ${b.maxKeyChars} (NAME_MAX_CHARS)`,
          'NAME_MAX_CHARS',
        );
      stack.push({ v: x, depth: depth + 1 });
    }
  }
}

/** A name from outside (metric name, run name, tag, kind): a string of at most `max` characters. */
export function checkName(what: string, value: unknown, max: number = LIMITS.NAME_MAX_CHARS, limit: LimitName = 'NAME_MAX_CHARS'): string {
  if (typeof value !== 'string') throw new UntrustedError(`${what} is not a string`);
  if (value.length > max)
    throw new UntrustedError(
      `${what} is ${value.length.toLocaleString('en-US')} characters, more than the limit of ${max.toLocaleString('en-US')} (${limit})`,
      limit,
    );
  return value;
}

export interface CopyBounds {
  what: string;
  /** The untrusted folder `src` must be inside. */
  root: string;
  maxFiles?: number;
  maxBytes?: number;
  maxDepth?: number;
}

/**
 * Copy a file or a folder of regular files from inside `root` to `dst`: nothing outside `root`, no symbolic link,
 * FIFO, device or socket (refused, not skipped), at most maxFiles files / maxBytes bytes / maxDepth levels,
 * checked before anything is copied. `dst` must not exist.
 */
export function copyRegularTree(src: string, dst: string, b: CopyBounds): { files: number; bytes: number } {
  const maxFiles = b.maxFiles ?? LIMITS.UNTRUSTED_MAX_COPY_FILES;
  const maxBytes = b.maxBytes ?? LIMITS.UNTRUSTED_MAX_COPY_BYTES;
  const maxDepth = b.maxDepth ?? 4;
  const real = pathInside(b.root, src, b.what);
  const plan: { from: string; rel: string; dir: boolean }[] = [];
  let total = 0;
  const walk = (p: string, rel: string, depth: number): void => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) {
      if (depth > maxDepth) throw new UntrustedError(`${b.what}: ${src} is nested more than ${maxDepth} levels deep`);
      plan.push({ from: p, rel, dir: true });
      for (const name of fs.readdirSync(p)) walk(path.join(p, name), path.join(rel, name), depth + 1);
      return;
    }
    if (!st.isFile()) throw new UntrustedError(`${b.what}: ${path.join(src, rel)} is ${kindOf(st)}, not a regular file`);
    total += st.size;
    if (plan.filter((x) => !x.dir).length + 1 > maxFiles)
      throw new UntrustedError(
        `${b.what}: ${src} holds more than ${maxFiles} files (UNTRUSTED_MAX_COPY_FILES)`,
        'UNTRUSTED_MAX_COPY_FILES',
      );
    if (total > maxBytes)
      throw new UntrustedError(
        `${b.what}: ${src} holds more than ${bytes(maxBytes)}, more than the limit (UNTRUSTED_MAX_COPY_BYTES)`,
        'UNTRUSTED_MAX_COPY_BYTES',
      );
    plan.push({ from: p, rel, dir: false });
  };
  walk(real, '', 0);
  let files = 0;
  for (const item of plan) {
    const to = item.rel ? path.join(dst, item.rel) : dst;
    if (item.dir) {
      fs.mkdirSync(to, { recursive: true });
      continue;
    }
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const { fd, size } = openRegularFile(item.from, { what: b.what, maxBytes, limit: 'UNTRUSTED_MAX_COPY_BYTES' });
    try {
      const out = fs.openSync(to, 'wx', 0o644);
      try {
        const chunk = Buffer.alloc(Math.min(size, 4 * MiB) || 1);
        for (let off = 0; off < size;) {
          const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - off), off);
          if (n === 0) break;
          fs.writeSync(out, chunk, 0, n);
          off += n;
        }
      } finally {
        fs.closeSync(out);
      }
    } finally {
      fs.closeSync(fd);
    }
    files++;
  }
  return { files, bytes: total };
}

/**
 * Where a file we are about to write may go: nothing, or a regular file (replaced). Anything else at the path
 * (a device, FIFO, socket, directory, symbolic link) is refused before any byte is written.
 */
export function checkWritableTarget(file: string, what: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UntrustedError(`${what}: ${file} cannot be checked (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (!st.isFile()) throw new UntrustedError(`${what}: ${file} is ${kindOf(st)}; only a regular file is replaced`);
}

/** Metric rows from outside: names bounded in length and in number (also used for bundles). */
export function checkMetricRows(rows: readonly { name: string }[], what: string): void {
  if (rows.length > LIMITS.RUN_MAX_METRIC_POINTS)
    throw new UntrustedError(
      `${what}: ${rows.length.toLocaleString('en-US')} metric points, more than the limit of ${LIMITS.RUN_MAX_METRIC_POINTS.toLocaleString('en-US')} (RUN_MAX_METRIC_POINTS)`,
      'RUN_MAX_METRIC_POINTS',
    );
  const names = new Set<string>();
  for (const r of rows) {
    if (names.has(r.name)) continue;
    checkName(`${what}: a metric name`, r.name);
    names.add(r.name);
    if (names.size > LIMITS.RUN_MAX_METRIC_NAMES)
      throw new UntrustedError(
        `${what}: more than ${LIMITS.RUN_MAX_METRIC_NAMES.toLocaleString('en-US')} metric names, more than the limit (RUN_MAX_METRIC_NAMES)`,
        'RUN_MAX_METRIC_NAMES',
      );
  }
}
