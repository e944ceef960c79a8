// Deleting runs with their folders: by id, or every run a filter matches (checked against the count the user
// confirmed). Batches of DELETE_BATCH runs: the folders first, out of the way by a rename (fails whole on a read-only
// runs/), then the batch's rows in one transaction — never a row gone with its files left, nor files gone with the row
// kept (a failed batch moves its folders back); the moved folders are temporaries (removed at start if the process
// dies in between). The service yields to the event loop between batches: a filter may match 10,000s of runs.
import { ApiError, type RunFilter } from '@shared/contract';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { RunStore } from '../store/run-store';

/** Runs deleted in one transaction, between two yields to the event loop (other requests are served in between). */
const DELETE_BATCH = 100;

export interface DeletionContext {
  store: RunStore;
  runDir(id: number): string;
  /** Stop the run if it trains, drop its pending points. */
  forget(id: number): void;
  /** The run and its folder are gone (run.deleted). */
  deleted(id: number): void;
}

/** The runs a filter matches, if they are as many as the user confirmed (else nothing is deleted). */
export function confirmedMatching(store: RunStore, filter: RunFilter, count: number): number[] {
  const ids = store.matchingRunIds(filter);
  if (ids.length !== count)
    throw new ApiError(
      'invalid_input',
      `count: the filter now matches ${ids.length} run${ids.length === 1 ? '' : 's'}, not the ${count} confirmed; nothing was deleted`,
    );
  return ids;
}

/** Rename a run's folder to a temporary sibling; null when it has none. Throws, naming the folder, when it cannot. */
function moveRunDirAside(ctx: DeletionContext, id: number): string | null {
  const dir = ctx.runDir(id);
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

export async function deleteRuns(ctx: DeletionContext, runIds: number[]): Promise<{ deleted: number }> {
  let deleted = 0;
  for (let i = 0; i < runIds.length; i += DELETE_BATCH) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const moved: { id: number; trash: string | null }[] = [];
    try {
      for (const id of runIds.slice(i, i + DELETE_BATCH)) {
        if (!ctx.store.getRun(id)) continue;
        ctx.forget(id);
        moved.push({ id, trash: moveRunDirAside(ctx, id) });
      }
      ctx.store.transaction(() => moved.forEach(({ id }) => ctx.store.deleteRun(id)));
    } catch (err) {
      for (const { id, trash } of moved) if (trash) renameSync(trash, ctx.runDir(id));
      throw err;
    }
    for (const { id, trash } of moved) {
      if (trash) rmSync(trash, { recursive: true, force: true });
      ctx.deleted(id);
      deleted++;
    }
  }
  return { deleted };
}
