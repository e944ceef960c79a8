// Reading a watched source's untrusted folders: the small interface the source importer uses, a thin adapter over
// the project's one rule for untrusted files (src-main/os/untrusted.ts). Every file is opened there (inside its
// folder, O_NONBLOCK | O_NOFOLLOW, fstat, only a regular file within its limit of src-shared/limits.ts), so a FIFO
// never blocks the host, a device is never read and a symbolic link never leads out. What is added here: names
// must be plain file names (no separators, no dot-dot, no leading dot), a file not there yet is "nothing new", and
// no file that is a symbolic link is read, even one that stays inside, and folders are listed and entered with
// lstat only (a symbolic link is never a folder). Every refusal is an UntrustedError naming the file and the limit.
import fs from 'node:fs';
import path from 'node:path';
import { LIMITS, type LimitName } from '@shared/limits';
import { readRegularChunk, readRegularFile, UntrustedError } from '../os/untrusted';

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

/** A plain file or folder name we accept from a source (letters, digits, . _ -; no leading dot; at most 200). */
function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..');
}

function checkSafe(dir: string, name: string): string {
  if (!isSafeName(name)) throw new UntrustedError(`${dir}: ${name} is not a plain file name`);
  return name;
}

/**
 * Whether the plain name `name` is present in `dir`, as a file that is not a symbolic link (lstat). A symbolic link
 * is refused even when it stays inside the folder (the run folder format promises none is followed); the rest of
 * the rule (regular file, inside the folder, size) is checked when os/untrusted.ts opens it.
 */
function present(dir: string, name: string): boolean {
  const file = path.join(dir, checkSafe(dir, name));
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UntrustedError(`${dir}: ${name} cannot be checked (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  if (st.isSymbolicLink()) throw new UntrustedError(`${dir}: ${name} is a symbolic link (not followed)`);
  return true;
}

/** The sub-folders of `dir` with safe names (lstat: symbolic links are not folders here), at most SOURCE_MAX_ENTRIES. */
export function listFolders(dir: string): string[] {
  const out: string[] = [];
  const d = fs.opendirSync(dir);
  try {
    let n = 0;
    for (let e = d.readSync(); e; e = d.readSync()) {
      if (++n > LIMITS.SOURCE_MAX_ENTRIES)
        throw new UntrustedError(
          `${dir}: holds more than ${LIMITS.SOURCE_MAX_ENTRIES.toLocaleString('en-US')} entries, more than the limit (SOURCE_MAX_ENTRIES)`,
          'SOURCE_MAX_ENTRIES',
        );
      if (e.isDirectory() && isSafeName(e.name)) out.push(e.name);
    }
  } finally {
    d.closeSync();
  }
  return out.sort();
}

/** A whole regular file `name` of the folder `dir`, refused above the limit `limit` (a SOURCE_* byte limit). */
export function readWhole(dir: string, name: string, limit: LimitName): Buffer {
  if (!present(dir, name)) throw new UntrustedError(`${dir}: ${name} does not exist`);
  return readRegularFile(name, { what: dir, root: dir, maxBytes: LIMITS[limit], limit });
}

/** Bytes [from, from + at most maxBytes) of a regular file (its current end bounds them), or null when it is missing. */
export function readChunk(dir: string, name: string, from: number, maxBytes: number): { bytes: Buffer; size: number } | null {
  if (!present(dir, name)) return null;
  const limit = 'SOURCE_MAX_LOG_FILE_BYTES';
  return readRegularChunk(name, { what: dir, root: dir, maxBytes: LIMITS[limit], limit }, from, maxBytes);
}

/** `dir/name` when it is a real folder (lstat: a symbolic link to a folder is refused), or null when missing. */
export function subFolder(dir: string, name: string): string | null {
  const p = path.join(dir, checkSafe(dir, name));
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return null;
  }
  if (!st.isDirectory()) throw new UntrustedError(`${dir}: ${name} is not a folder (a symbolic link is not followed)`);
  return p;
}
