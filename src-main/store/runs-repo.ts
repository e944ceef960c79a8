// The runs table and its tags: create, read, status and ownership, progress, rename, tags, notes, delete, and the
// hyperparameter diff of several runs. Listing with filters lives in runs-query.ts; both hydrate rows through run-rows.ts.
import { ApiError } from '@shared/errors';
import type { RunStatus, RunSummary } from '@shared/model-types';
import { RUN_STATUSES } from '@shared/model-types';
import { flattenConfig } from '@shared/run-config';
import { randomBytes } from 'node:crypto';
import { ownerAlive, processStartToken } from '../os/process-identity';
import type { StoreDb } from './db';
import { hydrate, type RunRow } from './run-rows';
import { parseJsonObject, RunNotFoundError, type CreateRunInput, type ParamDiffRow, type ParamValue, type StatusUpdate } from './types';

const FINISHED = new Set<RunStatus>(['completed', 'failed', 'cancelled', 'diverged', 'interrupted', 'imported']);

/** This process's identity as a run owner (see process-identity.ts). */
const OWNER_TOKEN = processStartToken();

function paramColumns(v: ParamValue): [number | null, string | null] {
  if (v === null) return [null, null];
  if (typeof v === 'boolean') return [v ? 1 : 0, v ? 'true' : 'false'];
  if (typeof v === 'number') return [Number.isFinite(v) ? v : null, String(v)];
  return [null, v];
}

function normalizeTags(tags: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const t of tags ?? []) {
    const s = t.trim();
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

export class RunsRepo {
  constructor(private readonly sql: StoreDb) {}

  requireRun(id: number): void {
    if (!this.sql.stmt('SELECT 1 FROM runs WHERE id = ?').get(id)) throw new RunNotFoundError(id);
  }

  createRun(input: CreateRunInput): RunSummary {
    const status: RunStatus = input.status ?? 'queued';
    if (status !== 'queued' && status !== 'imported') throw new Error(`a new run is 'queued' or 'imported', not '${String(status)}'`);
    const id = this.sql.db.transaction(() => {
      if (input.parentId != null && !this.sql.stmt('SELECT 1 FROM runs WHERE id = ?').get(input.parentId))
        throw new Error(`parent run ${input.parentId} does not exist`);
      const now = input.createdAt ?? Date.now();
      const info = this.sql
        .stmt(
          `INSERT INTO runs (name, status, created_at, config_text, config_json, dataset, backend, app_version, seed, notes, parent_id, imported, owner_pid, owner_start, uid)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          input.name,
          status,
          now,
          input.configText,
          JSON.stringify(input.config ?? null),
          input.dataset,
          input.backend ?? null,
          input.appVersion,
          input.seed,
          input.notes ?? '',
          input.parentId ?? null,
          status === 'imported' ? 1 : 0,
          status === 'queued' ? process.pid : null,
          status === 'queued' ? OWNER_TOKEN : null,
          input.uid ?? randomBytes(16).toString('hex'),
        );
      const runId = Number(info.lastInsertRowid);
      if (!input.name.trim()) this.sql.stmt('UPDATE runs SET name = ? WHERE id = ?').run(`run-${runId}`, runId);
      const insertParam = this.sql.stmt('INSERT INTO run_params (run_id, key, value_num, value_text) VALUES (?, ?, ?, ?)');
      for (const [key, value] of Object.entries(flattenConfig(input.config))) {
        if (!key) continue;
        insertParam.run(runId, key, ...paramColumns(value));
      }
      this.writeTags(runId, normalizeTags(input.tags));
      return runId;
    })();
    return this.getRun(id)!;
  }

  private writeTags(runId: number, tags: string[]): void {
    this.sql.stmt('DELETE FROM run_tags WHERE run_id = ?').run(runId);
    const ins = this.sql.stmt('INSERT INTO run_tags (run_id, tag) VALUES (?, ?)');
    for (const t of tags) ins.run(runId, t);
  }

  setStatus(id: number, status: RunStatus, update: StatusUpdate = {}): RunSummary {
    if (!RUN_STATUSES.includes(status)) throw new Error(`unknown run status "${status}"`);
    const row = this.sql.stmt('SELECT started_at, finished_at FROM runs WHERE id = ?').get(id) as
      { started_at: number | null; finished_at: number | null } | undefined;
    if (!row) throw new RunNotFoundError(id);
    const now = Date.now();
    const startedAt =
      update.startedAt !== undefined ? update.startedAt : status === 'running' && row.started_at === null ? now : row.started_at;
    const finishedAt =
      update.finishedAt !== undefined
        ? update.finishedAt
        : FINISHED.has(status)
          ? (row.finished_at ?? now)
          : status === 'running' || status === 'queued'
            ? null
            : row.finished_at;
    const sets = ['status = ?', 'started_at = ?', 'finished_at = ?'];
    const args: (string | number | null)[] = [status, startedAt, finishedAt];
    if (update.error !== undefined) {
      sets.push('error = ?');
      args.push(update.error);
    } else if (status === 'running' || status === 'queued' || status === 'completed') {
      sets.push('error = NULL');
    }
    if (update.backend !== undefined) {
      sets.push('backend = ?');
      args.push(update.backend);
    }
    if (status === 'running' || status === 'queued') {
      sets.push('owner_pid = ?', 'owner_start = ?');
      args.push(process.pid, OWNER_TOKEN);
    }
    this.sql.stmt(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    return this.getRun(id)!;
  }

  /** Record the last step and epoch reported (cheap; call as often as progress arrives). */
  updateProgress(id: number, step: number, epoch: number): void {
    this.sql.stmt('UPDATE runs SET last_step = ?, last_epoch = ? WHERE id = ?').run(step, epoch, id);
  }

  /**
   * After a crash or an unclean quit: every run still 'running' or 'queued' whose owner process (the one that queued
   * or started it) is gone becomes 'interrupted' with an error saying so. Runs owned by another live process (say the
   * app, while the command line opens the same database) are left alone; runs owned by this very process count as
   * orphaned (they are from an earlier life: call this once, when the service opens the store, before queueing).
   * `all: true` marks every running or queued run regardless of owner. Returns how many runs were marked.
   */
  markInterrupted(opts: { all?: boolean; now?: number } = {}): number {
    // Runs followed from a watched source (migration 7) have no owner here: their status.json decides (src-main/sources/).
    const candidates = this.sql
      .stmt(
        `SELECT id, owner_pid, owner_start FROM runs WHERE status IN ('running', 'queued')
           AND id NOT IN (SELECT run_id FROM source_runs WHERE run_id IS NOT NULL)`,
      )
      .all() as {
      id: number;
      owner_pid: number | null;
      owner_start: string | null;
    }[];
    const orphaned = candidates.filter(
      (r) => opts.all || r.owner_pid === null || r.owner_pid === process.pid || !ownerAlive(r.owner_pid, r.owner_start),
    );
    if (!orphaned.length) return 0;
    const mark = this.sql.stmt(
      `UPDATE runs SET
         error = CASE status
           WHEN 'running' THEN 'interrupted: the app stopped (crash or quit) while this run was training'
           ELSE 'interrupted: the app stopped (crash or quit) before this queued run started' END,
         status = 'interrupted',
         finished_at = coalesce(finished_at, ?)
       WHERE id = ? AND status IN ('running', 'queued')`,
    );
    const now = opts.now ?? Date.now();
    return this.sql.db.transaction(() => orphaned.reduce((n, r) => n + mark.run(now, r.id).changes, 0))();
  }

  /** The run, or null when there is no such run. */
  /** A run's stable identity (runs.uid), or null for no such run. */
  runUid(id: number): string | null {
    const row = this.sql.stmt('SELECT uid FROM runs WHERE id = ?').get(id) as { uid: string | null } | undefined;
    return row?.uid ?? null;
  }

  /** The oldest run with this identity, or null. */
  findByUid(uid: string): number | null {
    const row = this.sql.stmt('SELECT min(id) AS id FROM runs WHERE uid = ?').get(uid) as { id: number | null } | undefined;
    return row?.id ?? null;
  }

  getRun(id: number): RunSummary | null {
    if (!Number.isInteger(id)) return null;
    const row = this.sql.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) return null;
    return hydrate(this.sql, [row])[0]!;
  }

  rename(id: number, name: string): void {
    const n = name.trim();
    if (!n) throw new ApiError('invalid_input', 'name: a run name cannot be empty');
    if (this.sql.stmt('UPDATE runs SET name = ? WHERE id = ?').run(n, id).changes === 0) throw new RunNotFoundError(id);
  }

  setTags(id: number, tags: string[]): void {
    this.sql.db.transaction(() => {
      this.requireRun(id);
      this.writeTags(id, normalizeTags(tags));
    })();
  }

  setNotes(id: number, notes: string): void {
    if (this.sql.stmt('UPDATE runs SET notes = ? WHERE id = ?').run(notes, id).changes === 0) throw new RunNotFoundError(id);
  }

  /** Every tag in use with its number of runs, most used first. */
  allTags(): { tag: string; count: number }[] {
    return this.sql.stmt('SELECT tag, count(*) AS count FROM run_tags GROUP BY tag ORDER BY count DESC, tag').all() as {
      tag: string;
      count: number;
    }[];
  }

  /**
   * Delete the run and everything it owns (tags, params, metrics, finals, artifacts, checkpoint rows, log) in one
   * transaction; children of the run keep existing with parentId = null. The store does not touch files: it returns
   * the paths of the run's checkpoints and the CALLER removes them (and the run's directory, if it has one).
   */
  deleteRun(id: number): { deleted: boolean; removedPaths: string[] } {
    return this.sql.db.transaction(() => {
      const paths = (this.sql.stmt('SELECT path FROM checkpoints WHERE run_id = ? ORDER BY id').all(id) as { path: string }[]).map(
        (r) => r.path,
      );
      const changes = this.sql.stmt('DELETE FROM runs WHERE id = ?').run(id).changes;
      return { deleted: changes > 0, removedPaths: changes > 0 ? paths : [] };
    })();
  }

  paramDiff(runIds: number[]): ParamDiffRow[] {
    const perRun = runIds.map((id) => {
      const row = this.sql.stmt('SELECT config_json FROM runs WHERE id = ?').get(id) as { config_json: string } | undefined;
      return row ? flattenConfig(parseJsonObject<unknown>(row.config_json, null)) : {};
    });
    const keys = new Set<string>();
    for (const p of perRun) for (const k of Object.keys(p)) keys.add(k);
    return [...keys].sort().map((key) => {
      const values = perRun.map((p) => (key in p ? p[key]! : null));
      return { key, values, differs: values.some((v) => v !== values[0]) };
    });
  }
}
