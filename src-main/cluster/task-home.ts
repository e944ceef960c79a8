// Reading a task's own data home on the shared folder: its live progress and curves while it runs (read-only, never
// migrating or locking the task's database), and the completion marker and log the task script writes.
import { existsSync, openSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { dataHomeLayout } from '../store/data-home';
import { FINISHED_STATUSES, type RunStatus } from '@shared/model-types';

export interface TaskRunProgress {
  runId: number;
  status: RunStatus;
  step: number;
  epoch: number;
}

function openReadOnly(home: string, nativeBinding?: string): Database.Database | null {
  const file = dataHomeLayout(home).database;
  if (!existsSync(file)) return null;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
    db.pragma('busy_timeout = 2000');
    return db;
  } catch {
    return null; // not created far enough yet
  }
}

/** The run in a task's home (a task trains exactly one), or null while there is none. */
export function readTaskProgress(home: string, nativeBinding?: string): TaskRunProgress | null {
  const db = openReadOnly(home, nativeBinding);
  if (!db) return null;
  try {
    const r = db.prepare('SELECT id, status, last_step, last_epoch FROM runs ORDER BY id DESC LIMIT 1').get() as
      { id: number; status: RunStatus; last_step: number; last_epoch: number } | undefined;
    return r ? { runId: r.id, status: r.status, step: r.last_step, epoch: r.last_epoch } : null;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

export function isFinishedRun(p: TaskRunProgress | null): boolean {
  return !!p && FINISHED_STATUSES.includes(p.status);
}

/** A metric of the task's run, at most maxPoints points (evenly thinned, last point kept). */
export function readTaskSeries(
  home: string,
  metric: string,
  maxPoints: number,
  nativeBinding?: string,
): { step: number; epoch: number; value: number }[] {
  const db = openReadOnly(home, nativeBinding);
  if (!db) return [];
  try {
    const rows = db
      .prepare('SELECT step, epoch, value FROM metrics WHERE run_id = (SELECT max(id) FROM runs) AND name = ? ORDER BY step')
      .all(metric) as { step: number; epoch: number; value: number }[];
    if (rows.length <= maxPoints) return rows;
    const every = Math.ceil(rows.length / maxPoints);
    return rows.filter((_, i) => i % every === 0 || i === rows.length - 1);
  } catch {
    return [];
  } finally {
    db.close();
  }
}

/** The exit code in the completion marker, or null while it does not exist (or is not a number yet). */
export function readMarker(file: string): number | null {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : null;
  } catch {
    return null;
  }
}

/** The last `lines` lines of a log file (reading at most its last 64 KiB). */
export function tailFile(file: string, lines = 20): string {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const len = Math.min(size, 64 * 1024);
  const buf = Buffer.alloc(len);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, len, size - len);
  } finally {
    closeSync(fd);
  }
  return buf
    .toString('utf8')
    .split(/\r?\n/)
    .filter((l, i, all) => l || i < all.length - 1)
    .slice(-lines)
    .join('\n');
}
