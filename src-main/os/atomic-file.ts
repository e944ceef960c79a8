// Write a file so that a reader (or a crash) only ever sees the old file or the complete new one: the bytes go to
// a temporary sibling ".<name>.tmp-<pid>-<random>", are flushed, then renamed over the final name. Temporaries
// left by dead processes are removed on the next write to the same directory and at every service start.
// Only a regular file is ever replaced: a device (/dev/full), FIFO, socket, directory or symbolic link at the
// path is refused before any byte is written (and checked again just before the rename).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ownerAlive } from './process-identity';
import { checkWritableTarget } from './untrusted';

const TMP_RE = /\.tmp-(\d+)-[0-9a-f]+$/;

/** The pid recorded in a temporary's name, or null. */
export function temporaryOwner(name: string): number | null {
  const m = TMP_RE.exec(name);
  return m ? Number(m[1]) : null;
}

export function writeFileAtomic(file: string, data: string | Uint8Array, what = 'output file'): void {
  checkWritableTarget(file, what);
  const dir = path.dirname(file);
  removeDeadTemporaries(dir, path.basename(file));
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number | null = openSync(tmp, 'wx', 0o644);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < bytes.byteLength;) off += writeSync(fd, bytes, off, bytes.byteLength - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    checkWritableTarget(file, what);
    renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Remove ".<base>.tmp-<pid>-*" siblings whose writer is no longer alive (any base when `base` is omitted). */
export function removeDeadTemporaries(dir: string, base?: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith('.') || !TMP_RE.test(name)) continue;
    if (base !== undefined && !name.startsWith(`.${base}.tmp-`)) continue;
    const pid = temporaryOwner(name)!;
    if (pid !== process.pid && ownerAlive(pid, null)) continue;
    rmSync(path.join(dir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
