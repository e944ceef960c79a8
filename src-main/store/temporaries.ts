// Temporaries left by processes that died mid-write, removed at every service start (and only those: a temporary
// whose writer is still alive is a write in progress). Three kinds, each carrying its writer's pid:
//   runs/<id>/checkpoints/.tmp-<tag>-p<pid>[.<start>]-<hex>   checkpoint directories (trainers, bundle import);
//                                                     with the start time a reused pid does not keep it alive
//   cache/**/<file>.<pid>.<ms>.tmp                     dataset caches (binary-cache.ts)
//   .<name>.tmp-<pid>-<hex>                            atomic file writes (atomic-file.ts)
// A checkpoint temporary without a pid (written by an older version) is removed when its run is not active.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { ownerAlive } from '../os/process-identity';
import { temporaryOwner } from '../os/atomic-file';

const CHECKPOINT_TMP = /^\.tmp-.*-p(\d+)(?:\.(\d+))?-[0-9a-f]+$/;
const CACHE_TMP = /\.(\d+)\.\d+\.tmp$/;

function pidOf(name: string): number | null {
  const m = CHECKPOINT_TMP.exec(name) ?? CACHE_TMP.exec(name);
  if (m) return Number(m[1]);
  return temporaryOwner(name);
}

function writerGone(pid: number | null): boolean {
  return pid !== null && pid !== process.pid && !ownerAlive(pid, null);
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Remove dead writers' temporaries under the data home. `activeRuns` are run ids that may be writing right now
 * (running or queued with a live owner): their pid-less temporaries are kept. Returns the paths removed.
 */
export function removeDeadTemporaries(
  layout: { runsDir: string; cacheDir: string; root: string },
  activeRuns: ReadonlySet<number>,
): string[] {
  const removed: string[] = [];
  const remove = (p: string) => {
    rmSync(p, { recursive: true, force: true });
    removed.push(p);
  };
  for (const run of list(layout.runsDir)) {
    const dir = path.join(layout.runsDir, run, 'checkpoints');
    for (const entry of list(dir)) {
      if (!entry.startsWith('.tmp-')) continue;
      const m = CHECKPOINT_TMP.exec(entry);
      const gone = m ? Number(m[1]) !== process.pid && !ownerAlive(Number(m[1]), m[2] ?? null) : !activeRuns.has(Number(run));
      if (gone) remove(path.join(dir, entry));
    }
  }
  const walk = (dir: string, depth: number) => {
    for (const entry of list(dir)) {
      const p = path.join(dir, entry);
      if ((CACHE_TMP.test(entry) || (entry.startsWith('.') && temporaryOwner(entry) !== null)) && writerGone(pidOf(entry))) remove(p);
      else if (depth > 0 && existsSync(p) && statSync(p).isDirectory()) walk(p, depth - 1);
    }
  };
  walk(layout.cacheDir, 3);
  // A deleted run's folder moved aside (".<id>.tmp-<pid>-<hex>") by a process that died before removing it.
  for (const entry of list(layout.runsDir))
    if (entry.startsWith('.') && temporaryOwner(entry) !== null && writerGone(temporaryOwner(entry)))
      remove(path.join(layout.runsDir, entry));
  for (const entry of list(layout.root))
    if (entry.startsWith('.') && writerGone(temporaryOwner(entry))) remove(path.join(layout.root, entry));
  return removed;
}
