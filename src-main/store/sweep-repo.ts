// Sweeps sent to a cluster and their tasks (tables of migration 5), in the same database file as the runs.
// A task's import into the local store and the record that it was imported are one transaction (importOnce),
// so a watcher killed at any point, or two watchers at once, bring every result home exactly once.
import type Database from 'better-sqlite3';
import type { TaskState } from '@shared/cluster-types';

export interface SweepRow {
  id: number;
  name: string;
  target: 'slurm';
  dir: string;
  jobId: string | null;
  options: Record<string, unknown>;
  spec: unknown;
  createdAt: number;
  cancelRequestedAt: number | null;
}

export interface SweepTaskRow {
  sweepId: number;
  index: number;
  name: string;
  configText: string;
  state: TaskState;
  exitCode: number | null;
  reason: string | null;
  logTail: string;
  runId: number | null;
  importedAt: number | null;
  cancelRequestedAt: number | null;
}

interface RawSweep {
  id: number;
  name: string;
  target: string;
  dir: string;
  job_id: string | null;
  options_json: string;
  spec_json: string;
  created_at: number;
  cancel_requested_at: number | null;
}

interface RawTask {
  sweep_id: number;
  idx: number;
  name: string;
  config_text: string;
  state: string;
  exit_code: number | null;
  reason: string | null;
  log_tail: string;
  run_id: number | null;
  imported_at: number | null;
  cancel_requested_at: number | null;
}

export class AlreadyImportedError extends Error {
  constructor(sweepId: number, index: number) {
    super(`task ${index} of sweep ${sweepId} is already imported`);
    this.name = 'AlreadyImportedError';
  }
}

function toSweep(r: RawSweep): SweepRow {
  return {
    id: r.id,
    name: r.name,
    target: r.target as 'slurm',
    dir: r.dir,
    jobId: r.job_id,
    options: JSON.parse(r.options_json) as Record<string, unknown>,
    spec: JSON.parse(r.spec_json) as unknown,
    createdAt: r.created_at,
    cancelRequestedAt: r.cancel_requested_at,
  };
}

function toTask(r: RawTask): SweepTaskRow {
  return {
    sweepId: r.sweep_id,
    index: r.idx,
    name: r.name,
    configText: r.config_text,
    state: r.state as TaskState,
    exitCode: r.exit_code,
    reason: r.reason,
    logTail: r.log_tail,
    runId: r.run_id,
    importedAt: r.imported_at,
    cancelRequestedAt: r.cancel_requested_at,
  };
}

export class SweepRepo {
  constructor(private readonly db: Database.Database) {}

  /** A new sweep with one pending task per configuration; the folder and job id are set once known. */
  create(input: {
    name: string;
    target: 'slurm';
    options: Record<string, unknown>;
    spec: unknown;
    configs: Record<string, unknown>[];
  }): number {
    return this.db.transaction(() => {
      const now = Date.now();
      const info = this.db
        .prepare(`INSERT INTO sweeps (name, target, dir, options_json, spec_json, created_at) VALUES (?, ?, '', ?, ?, ?)`)
        .run(input.name, input.target, JSON.stringify(input.options), JSON.stringify(input.spec), now);
      const id = Number(info.lastInsertRowid);
      const ins = this.db.prepare(`INSERT INTO sweep_tasks (sweep_id, idx, name, config_text, updated_at) VALUES (?, ?, ?, ?, ?)`);
      input.configs.forEach((c, i) => ins.run(id, i, typeof c.name === 'string' ? c.name : `task ${i}`, JSON.stringify(c, null, 2), now));
      return id;
    })();
  }

  setFolder(id: number, dir: string): void {
    this.db.prepare('UPDATE sweeps SET dir = ? WHERE id = ?').run(dir, id);
  }

  setJobId(id: number, jobId: string): void {
    this.db.prepare('UPDATE sweeps SET job_id = ? WHERE id = ?').run(jobId, id);
  }

  /** Remember that these tasks (default: all, and the sweep) were sent scancel: a pending task then leaves no trace. */
  markCancelRequested(id: number, tasks?: number[]): void {
    const now = Date.now();
    this.db.transaction(() => {
      if (!tasks?.length)
        this.db.prepare('UPDATE sweeps SET cancel_requested_at = coalesce(cancel_requested_at, ?) WHERE id = ?').run(now, id);
      const upd = this.db.prepare(
        'UPDATE sweep_tasks SET cancel_requested_at = coalesce(cancel_requested_at, ?) WHERE sweep_id = ? AND (? IS NULL OR idx = ?)',
      );
      if (tasks?.length) for (const i of tasks) upd.run(now, id, i, i);
      else upd.run(now, id, null, null);
    })();
  }

  remove(id: number): void {
    this.db.prepare('DELETE FROM sweeps WHERE id = ?').run(id);
  }

  get(id: number): SweepRow | null {
    const r = this.db.prepare('SELECT * FROM sweeps WHERE id = ?').get(id) as RawSweep | undefined;
    return r ? toSweep(r) : null;
  }

  list(): SweepRow[] {
    return (this.db.prepare('SELECT * FROM sweeps ORDER BY id DESC').all() as RawSweep[]).map(toSweep);
  }

  tasks(sweepId: number): SweepTaskRow[] {
    return (this.db.prepare('SELECT * FROM sweep_tasks WHERE sweep_id = ? ORDER BY idx').all(sweepId) as RawTask[]).map(toTask);
  }

  updateTask(
    sweepId: number,
    index: number,
    u: { state: TaskState; exitCode: number | null; reason: string | null; logTail: string },
  ): void {
    this.db
      .prepare('UPDATE sweep_tasks SET state = ?, exit_code = ?, reason = ?, log_tail = ?, updated_at = ? WHERE sweep_id = ? AND idx = ?')
      .run(u.state, u.exitCode, u.reason, u.logTail, Date.now(), sweepId, index);
  }

  /**
   * Run `write` (which inserts the run and returns its id) and record the task as imported as that run, in one
   * immediate transaction: either both happen or neither. Returns null when the task was already imported.
   */
  importOnce(sweepId: number, index: number, write: () => number): number | null {
    try {
      return this.db
        .transaction(() => {
          const row = this.db.prepare('SELECT imported_at FROM sweep_tasks WHERE sweep_id = ? AND idx = ?').get(sweepId, index) as
            { imported_at: number | null } | undefined;
          if (!row || row.imported_at !== null) throw new AlreadyImportedError(sweepId, index);
          const runId = write();
          this.db
            .prepare(
              'UPDATE sweep_tasks SET run_id = ?, imported_at = ?, updated_at = ? WHERE sweep_id = ? AND idx = ? AND imported_at IS NULL',
            )
            .run(runId, Date.now(), Date.now(), sweepId, index);
          return runId;
        })
        .immediate();
    } catch (err) {
      if (err instanceof AlreadyImportedError) return null;
      throw err;
    }
  }
}
