// A run's folder on its way out: renamed to a temporary sibling (".<id>.tmp-<pid>-<hex>", removed at the next start if
// the process dies before removing it), so a deletion never leaves a row without its files or files without the row.
import { existsSync, renameSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ApiError } from '@shared/errors';

/** Rename run `id`'s folder `dir` to a temporary sibling; null when it has none. Throws, naming the folder, when it cannot. */
export function moveRunDirAside(id: number, dir: string): string | null {
  if (!existsSync(dir)) return null;
  const trash = path.join(path.dirname(dir), `.${id}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    renameSync(dir, trash);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ApiError('internal', `run ${id} was not deleted: its folder ${dir} cannot be removed (${e.code ?? e.message})`);
  }
  return trash;
}
