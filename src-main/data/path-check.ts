// Checks on a dataset path before anything reads it: it must exist (a broken symlink or a symlink loop is said
// so), a file must be a regular file (not a FIFO, a device such as /dev/zero, or a socket) within
// LIMITS.DATASET_MAX_FILE_BYTES. Errors are DatasetErrors naming data.path and never quote the file's contents.
import fs from 'node:fs';
import { LIMITS } from '@shared/limits';
import { DatasetError } from './types';

function describeMissing(file: string, err: NodeJS.ErrnoException): string {
  if (err.code === 'ELOOP') return `${file} is a symbolic link loop (too many levels of symbolic links)`;
  if (err.code === 'ENOENT') {
    try {
      if (fs.lstatSync(file).isSymbolicLink()) return `${file} is a symbolic link to a file that does not exist`;
    } catch {
      /* not even the link exists */
    }
    return `${file} does not exist`;
  }
  if (err.code === 'EACCES') return `${file} cannot be read (permission denied)`;
  return `${file} cannot be read (${err.code ?? err.message})`;
}

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Stat a dataset file: a regular file within the size limit. Returns its size. */
export function checkDatasetFile(file: string, what = 'data.path'): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new DatasetError(`${what}: ${describeMissing(file, err as NodeJS.ErrnoException)}`);
  }
  if (st.isDirectory()) throw new DatasetError(`${what}: ${file} is a directory, expected a file`);
  if (!st.isFile()) throw new DatasetError(`${what}: ${file} is ${kindOf(st)}, not a regular file`);
  if (st.size > LIMITS.DATASET_MAX_FILE_BYTES)
    throw new DatasetError(
      `${what}: ${file} is ${st.size} bytes, more than the limit of ${LIMITS.DATASET_MAX_FILE_BYTES} bytes (DATASET_MAX_FILE_BYTES)`,
    );
  return st.size;
}

/** A run's data.path (a file, or a directory of dataset files): it must exist and not be a special file. */
export function checkDataPath(file: string | undefined): void {
  if (file === undefined) return;
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new DatasetError(`data.path: ${describeMissing(file, err as NodeJS.ErrnoException)}`);
  }
  if (st.isDirectory()) return;
  checkDatasetFile(file);
}
