// Deleting runs with their folders: by id, or every run a filter matches (checked against the count the user
// confirmed). Batches of DELETE_BATCH runs: the folders first, out of the way by a rename (fails whole on a read-only
// runs/), then each run's row (store.detachRun: its small rows at once, its bulk rows queued for api/run-purger.ts) —
// never a row gone with its files left, nor files gone with the row kept (a failure moves the folders of the runs
// not yet detached back); the moved folders are temporaries (removed at start if the process
// dies in between). The service yields to the event loop between batches: a filter may match 10,000s of runs.
import { ApiError, type RunFilter } from '@shared/contract';
import { renameSync, rmSync } from 'node:fs';
import type { RunStore } from '../store/run-store';
import { moveRunDirAside } from './run-folder';

/** Runs deleted in one transaction, between two yields to the event loop (other requests are served in between). */
const DELETE_BATCH = 100;

export interface DeletionContext {
  store: RunStore;
  runDir(id: number): string;
  /** Stop the run if it trains, drop its pending points. */
  forget(id: number): void;
  /** The run and its folder are gone (run.deleted). */
  deleted(id: number): void;
  /** Runs were detached: delete their bulk rows in the background. */
  purge(): void;
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

export async function deleteRuns(ctx: DeletionContext, runIds: number[]): Promise<{ deleted: number }> {
  let deleted = 0;
  for (let i = 0; i < runIds.length; i += DELETE_BATCH) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const moved: { id: number; trash: string | null }[] = [];
    let detached = 0;
    try {
      for (const id of runIds.slice(i, i + DELETE_BATCH)) {
        if (!ctx.store.getRun(id)) continue;
        ctx.forget(id);
        moved.push({ id, trash: moveRunDirAside(id, ctx.runDir(id)) });
      }
      // each run's row and small rows in a short transaction of its own (its bulk rows are queued for the purger)
      for (const { id } of moved) {
        ctx.store.detachRun(id);
        detached++;
      }
    } catch (err) {
      for (const { id, trash } of moved.slice(detached)) if (trash) renameSync(trash, ctx.runDir(id));
      moved.splice(detached);
      if (moved.length) ctx.purge();
      for (const { id, trash } of moved) {
        if (trash) rmSync(trash, { recursive: true, force: true });
        ctx.deleted(id);
      }
      throw err;
    }
    for (const { id, trash } of moved) {
      if (trash) rmSync(trash, { recursive: true, force: true });
      ctx.deleted(id);
      deleted++;
    }
    if (moved.length) ctx.purge();
  }
  return { deleted };
}
