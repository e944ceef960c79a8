// Reading a task's own data home on the shared folder: its live progress and curves while it runs (through the
// read-only TaskHomeStore, never migrating or locking the task's database), and the completion marker and log the
// task script writes. Everything here is untrusted (any co-user of the shared file system can write it): files
// are read under the one rule of src-main/os/untrusted.ts, so a FIFO, a device or a link out is refused at once.
import { existsSync } from 'node:fs';
import { FINISHED_STATUSES } from '@shared/model-types';
import { readRegularFile, tailRegularFile } from '../os/untrusted';
import { TaskHomeStore, type TaskRunProgress } from '../store/task-home-store';

export type { TaskRunProgress };

/** The run in a task's home and, when the home breaks the rule, why it cannot be read (never throws). */
export function probeTaskHome(
  home: string,
  what: string,
  nativeBinding?: string,
  within?: string,
): { progress: TaskRunProgress | null; problem: string | null } {
  let store: TaskHomeStore | null = null;
  try {
    store = TaskHomeStore.open(home, what, nativeBinding, within);
    return { progress: store?.progress() ?? null, problem: null };
  } catch (err) {
    return { progress: null, problem: (err as Error).message };
  } finally {
    store?.close();
  }
}

/** The run in a task's home (a task trains exactly one), or null while there is none (or it cannot be read). */
export function readTaskProgress(home: string, nativeBinding?: string, within?: string): TaskRunProgress | null {
  return probeTaskHome(home, 'task home', nativeBinding, within).progress;
}

export function isFinishedRun(p: TaskRunProgress | null): boolean {
  return !!p && FINISHED_STATUSES.includes(p.status);
}

/** A metric of the task's run, at most maxPoints points (min/max downsampling, as the store's own series). */
export function readTaskSeries(
  home: string,
  metric: string,
  maxPoints: number,
  nativeBinding?: string,
  within?: string,
): { step: number; epoch: number; value: number }[] {
  let store: TaskHomeStore | null = null;
  try {
    store = TaskHomeStore.open(home, 'task home', nativeBinding, within);
    return store?.series(metric, maxPoints) ?? [];
  } catch {
    return [];
  } finally {
    store?.close();
  }
}

/** The exit code in the completion marker (a regular file inside the sweep folder), or null while there is none. */
export function readMarker(root: string, file: string): number | null {
  try {
    if (!existsSync(file)) return null;
    const text = readRegularFile(file, { what: 'completion marker', root, maxBytes: 64, limit: 'UNTRUSTED_MAX_SMALL_FILE_BYTES' })
      .toString('utf8')
      .trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** The last `lines` lines of a log file inside the sweep folder (at most its last 64 KiB); a note when it breaks the rule. */
export function tailFile(root: string, file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  try {
    return tailRegularFile(file, { what: 'task log', root }, lines);
  } catch (err) {
    return `(${(err as Error).message})`;
  }
}
