// The run database: one SQLite file (better-sqlite3, WAL) holding every run, its hyperparameters, metrics,
// sample images, checkpoint references and log. The main process is the only writer; every method is
// synchronous and every multi-row write is one transaction. Statements are prepared once and cached.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type {
  ArtifactFields,
  ArtifactKind,
  ArtifactMeta,
  CheckpointMeta,
  LogEntry,
  MetricPoint,
  RunStatus,
  RunSummary,
  Series,
  SeriesPoint,
} from '@shared/model-types';
import { ApiError } from '@shared/errors';
import { RUN_STATUSES } from '@shared/model-types';
import { flattenConfig } from '@shared/run-config';
import { toCsv, type CsvCell } from './csv';
import { allPoints, minMaxIndices, stepBuckets, toPoint, type RawRow } from './downsample';
import { migrate, schemaVersion, SCHEMA_VERSION, SchemaVersionError } from './migrations';
import { ownerAlive, processStartToken } from '../os/process-identity';

export type ParamValue = string | number | boolean | null;

export interface CreateRunInput {
  /** Empty name: the run is named "run-<id>". */
  name: string;
  /** The config exactly as the user gave it (kept verbatim). */
  configText: string;
  /** The config with defaults filled (stored as JSON, flattened into run_params). */
  config: unknown;
  dataset: string;
  seed: number;
  appVersion: string;
  backend?: string | null;
  tags?: string[];
  parentId?: number | null;
  notes?: string;
  /** Default 'queued'. 'imported' also sets the imported flag. */
  status?: 'queued' | 'imported';
  /** Default Date.now(); imports keep their original creation time. */
  createdAt?: number;
}

export interface StatusUpdate {
  error?: string | null;
  backend?: string | null;
  /** Default: now when the status becomes 'running' and the run has no start time yet. */
  startedAt?: number | null;
  /** Default: now when the status becomes a finished one and the run has no finish time yet. */
  finishedAt?: number | null;
}

export interface ParamFilter {
  key: string;
  min?: number;
  max?: number;
  equals?: string | number | boolean;
}

export interface RunQuery {
  /** Only these runs. */
  ids?: number[];
  status?: RunStatus[];
  tag?: string;
  /** Each word matches name, notes, dataset or a tag (substring, case-insensitive) or the id ("12" or "#12"). */
  text?: string;
  params?: ParamFilter[];
  /** key: a column ('id', 'name', 'status', 'createdAt', 'startedAt', 'finishedAt', 'dataset', 'backend', 'seed',
   *  'step', 'epoch', 'appVersion'; snake_case also accepted), 'params.<key>' or 'final.<metric>'. Missing values sort last. */
  sort?: { key: string; dir: 'asc' | 'desc' };
  limit?: number;
  offset?: number;
}

export interface SeriesOptions {
  x: 'step' | 'epoch' | 'time';
  /** Inclusive range on x. */
  from?: number;
  to?: number;
  /** At most this many points per run (>= 1). */
  maxPoints: number;
}

export interface ParamDiffRow {
  key: string;
  /** One value per requested run, in the order given (null where the run lacks the key or does not exist). */
  values: ParamValue[];
  differs: boolean;
}

export interface NewArtifact extends Omit<ArtifactFields, 'meta'> {
  meta?: Record<string, unknown>;
  data: Buffer | Uint8Array;
}

export interface NewCheckpoint {
  epoch: number;
  step: number;
  /** interval | best | last */
  tag: string;
  path: string;
  bytes: number;
  metrics?: Record<string, number>;
}

export interface RunBatch {
  runId: number;
  points: MetricPoint[];
}

export interface OpenOptions {
  /** Path of the better-sqlite3 addon to load (under Electron, the build for Electron's ABI). */
  nativeBinding?: string;
}

export class RunNotFoundError extends ApiError {
  constructor(readonly runId: number) {
    super('not_found', `no run with id ${runId}`);
    this.name = 'RunNotFoundError';
  }
}

interface RunRow {
  id: number;
  name: string;
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  config_text: string;
  config_json: string;
  dataset: string;
  backend: string | null;
  app_version: string;
  seed: number;
  error: string | null;
  notes: string;
  parent_id: number | null;
  imported: number;
  last_step: number;
  last_epoch: number;
}

interface ArtifactRow {
  id: number;
  run_id: number;
  kind: string;
  epoch: number;
  step: number;
  mime: string;
  width: number;
  height: number;
  meta: string;
  created_at: number;
}

interface CheckpointRow {
  id: number;
  run_id: number;
  epoch: number;
  step: number;
  tag: string;
  path: string;
  bytes: number;
  metrics: string;
  created_at: number;
}

const SORT_COLUMNS: Record<string, string> = {
  id: 'r.id',
  name: 'r.name COLLATE NOCASE',
  status: 'r.status',
  createdAt: 'r.created_at',
  created_at: 'r.created_at',
  startedAt: 'r.started_at',
  started_at: 'r.started_at',
  finishedAt: 'r.finished_at',
  finished_at: 'r.finished_at',
  dataset: 'r.dataset',
  backend: 'r.backend',
  seed: 'r.seed',
  step: 'r.last_step',
  epoch: 'r.last_epoch',
  appVersion: 'r.app_version',
  app_version: 'r.app_version',
};

const X_COLUMNS = { step: 'step', epoch: 'epoch', time: 'time' } as const;
const FINISHED = new Set<RunStatus>(['completed', 'failed', 'cancelled', 'diverged', 'interrupted', 'imported']);
const BIG = 1.7976931348623157e308;

/** A runs.list query the store cannot answer (unknown sort key, ...): the caller's input is wrong. */
export class RunQueryError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'RunQueryError';
  }
}

/** This process's identity as a run owner (see process-identity.ts). */
const OWNER_TOKEN = processStartToken();

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function paramColumns(v: ParamValue): [number | null, string | null] {
  if (v === null) return [null, null];
  if (typeof v === 'boolean') return [v ? 1 : 0, v ? 'true' : 'false'];
  if (typeof v === 'number') return [Number.isFinite(v) ? v : null, String(v)];
  return [null, v];
}

function parseJsonObject<T>(text: string, fallback: T): T {
  try {
    const v: unknown = JSON.parse(text);
    return v && typeof v === 'object' ? (v as T) : fallback;
  } catch {
    return fallback;
  }
}

function normalizeTags(tags: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const t of tags ?? []) {
    const s = t.trim();
    if (s && !out.includes(s)) out.push(s);
  }
  return out;
}

export class RunStore {
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  /**
   * Open (creating if needed) the database at `file` and migrate it to the current schema.
   * Throws SchemaVersionError, naming both versions, for a file written by a newer release (left untouched).
   */
  static open(file: string, options: OpenOptions = {}): RunStore {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
    try {
      db.pragma('busy_timeout = 5000');
      // Refuse a newer file before touching it (even the journal mode).
      const version = schemaVersion(db);
      if (version > SCHEMA_VERSION) throw new SchemaVersionError(file, version, SCHEMA_VERSION);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, file);
    } catch (e) {
      db.close();
      if (e instanceof SchemaVersionError) throw e;
      throw new Error(`cannot open the run database ${file}: ${(e as Error).message}`, { cause: e });
    }
    return new RunStore(db, file);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    try {
      this.db.pragma('optimize');
    } catch {
      /* best effort */
    }
    this.db.close();
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** The open connection, for the repositories of other tables in the same file (store/sweep-repo.ts). */
  get connection(): Database.Database {
    return this.db;
  }

  /** Schema version of the open file (PRAGMA user_version). */
  schemaVersion(): number {
    return schemaVersion(this.db);
  }

  /** PRAGMA integrity_check: ['ok'] for a sound file. */
  integrityCheck(): string[] {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  }

  /**
   * Run several store calls as one transaction (all or nothing), e.g. importing a run with its metrics and images.
   * Nested calls become savepoints. fn must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size > 500) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private requireRun(id: number): void {
    if (!this.stmt('SELECT 1 FROM runs WHERE id = ?').get(id)) throw new RunNotFoundError(id);
  }

  // ---------------------------------------------------------------- runs

  createRun(input: CreateRunInput): RunSummary {
    const status: RunStatus = input.status ?? 'queued';
    if (status !== 'queued' && status !== 'imported') throw new Error(`a new run is 'queued' or 'imported', not '${String(status)}'`);
    const id = this.db.transaction(() => {
      if (input.parentId != null && !this.stmt('SELECT 1 FROM runs WHERE id = ?').get(input.parentId))
        throw new Error(`parent run ${input.parentId} does not exist`);
      const now = input.createdAt ?? Date.now();
      const info = this.stmt(
        `INSERT INTO runs (name, status, created_at, config_text, config_json, dataset, backend, app_version, seed, notes, parent_id, imported, owner_pid, owner_start)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
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
      );
      const runId = Number(info.lastInsertRowid);
      if (!input.name.trim()) this.stmt('UPDATE runs SET name = ? WHERE id = ?').run(`run-${runId}`, runId);
      const insertParam = this.stmt('INSERT INTO run_params (run_id, key, value_num, value_text) VALUES (?, ?, ?, ?)');
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
    this.stmt('DELETE FROM run_tags WHERE run_id = ?').run(runId);
    const ins = this.stmt('INSERT INTO run_tags (run_id, tag) VALUES (?, ?)');
    for (const t of tags) ins.run(runId, t);
  }

  setStatus(id: number, status: RunStatus, update: StatusUpdate = {}): RunSummary {
    if (!RUN_STATUSES.includes(status)) throw new Error(`unknown run status "${status}"`);
    const row = this.stmt('SELECT started_at, finished_at FROM runs WHERE id = ?').get(id) as
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
    this.stmt(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
    return this.getRun(id)!;
  }

  /** Record the last step and epoch reported (cheap; call as often as progress arrives). */
  updateProgress(id: number, step: number, epoch: number): void {
    this.stmt('UPDATE runs SET last_step = ?, last_epoch = ? WHERE id = ?').run(step, epoch, id);
  }

  /**
   * After a crash or an unclean quit: every run still 'running' or 'queued' whose owner process (the one that queued
   * or started it) is gone becomes 'interrupted' with an error saying so. Runs owned by another live process (say the
   * app, while the command line opens the same database) are left alone; runs owned by this very process count as
   * orphaned (they are from an earlier life: call this once, when the service opens the store, before queueing).
   * `all: true` marks every running or queued run regardless of owner. Returns how many runs were marked.
   */
  markInterrupted(opts: { all?: boolean; now?: number } = {}): number {
    const candidates = this.stmt("SELECT id, owner_pid, owner_start FROM runs WHERE status IN ('running', 'queued')").all() as {
      id: number;
      owner_pid: number | null;
      owner_start: string | null;
    }[];
    const orphaned = candidates.filter(
      (r) => opts.all || r.owner_pid === null || r.owner_pid === process.pid || !ownerAlive(r.owner_pid, r.owner_start),
    );
    if (!orphaned.length) return 0;
    const mark = this.stmt(
      `UPDATE runs SET
         error = CASE status
           WHEN 'running' THEN 'interrupted: the app stopped (crash or quit) while this run was training'
           ELSE 'interrupted: the app stopped (crash or quit) before this queued run started' END,
         status = 'interrupted',
         finished_at = coalesce(finished_at, ?)
       WHERE id = ? AND status IN ('running', 'queued')`,
    );
    const now = opts.now ?? Date.now();
    return this.db.transaction(() => orphaned.reduce((n, r) => n + mark.run(now, r.id).changes, 0))();
  }

  /** The run, or null when there is no such run. */
  getRun(id: number): RunSummary | null {
    if (!Number.isInteger(id)) return null;
    const row = this.stmt('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    if (!row) return null;
    return this.hydrate([row])[0]!;
  }

  private hydrate(rows: RunRow[]): RunSummary[] {
    if (!rows.length) return [];
    const ids = JSON.stringify(rows.map((r) => r.id));
    const tags = new Map<number, string[]>();
    for (const [runId, tag] of this.stmt(
      'SELECT run_id, tag FROM run_tags WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, rowid',
    )
      .raw(true)
      .iterate(ids) as IterableIterator<[number, string]>) {
      let list = tags.get(runId);
      if (!list) tags.set(runId, (list = []));
      list.push(tag);
    }
    const finals = new Map<number, Record<string, number>>();
    for (const [runId, name, value] of this.stmt(
      'SELECT run_id, name, value FROM run_final WHERE run_id IN (SELECT value FROM json_each(?))',
    )
      .raw(true)
      .iterate(ids) as IterableIterator<[number, string, number]>) {
      let rec = finals.get(runId);
      if (!rec) finals.set(runId, (rec = {}));
      rec[name] = value;
    }
    return rows.map((r) => {
      const config = parseJsonObject<unknown>(r.config_json, null);
      return {
        id: r.id,
        name: r.name,
        status: r.status as RunStatus,
        createdAt: r.created_at,
        startedAt: r.started_at,
        finishedAt: r.finished_at,
        dataset: r.dataset,
        backend: r.backend,
        appVersion: r.app_version,
        seed: r.seed,
        error: r.error,
        tags: tags.get(r.id) ?? [],
        notes: r.notes,
        parentId: r.parent_id,
        configText: r.config_text,
        config,
        params: flattenConfig(config),
        final: finals.get(r.id) ?? {},
        step: r.last_step,
        epoch: r.last_epoch,
      };
    });
  }

  listRuns(query: RunQuery = {}): { runs: RunSummary[]; total: number } {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.ids) {
      where.push('r.id IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(query.ids));
    }
    if (query.status?.length) {
      where.push('r.status IN (SELECT value FROM json_each(?))');
      args.push(JSON.stringify(query.status));
    }
    if (query.tag) {
      where.push('r.id IN (SELECT t.run_id FROM run_tags t WHERE t.tag = ?)');
      args.push(query.tag);
    }
    // every word must match the name, notes, dataset or a tag (substring), or be the id ("12" or "#12")
    for (const word of query.text?.trim().split(/\s+/).filter(Boolean) ?? []) {
      const like = `%${escapeLike(word)}%`;
      const idText = word.replace(/^#/, '');
      const id = /^\d+$/.test(idText) ? Number(idText) : -1;
      where.push(
        "(r.name LIKE ? ESCAPE '\\' OR r.notes LIKE ? ESCAPE '\\' OR r.dataset LIKE ? ESCAPE '\\' OR r.id = ? OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag LIKE ? ESCAPE '\\'))",
      );
      args.push(like, like, like, id, like);
    }
    for (const f of query.params ?? []) {
      const conds = ['p.key = ?'];
      const fargs: (string | number)[] = [f.key];
      if (f.min !== undefined) {
        conds.push('p.value_num >= ?');
        fargs.push(f.min);
      }
      if (f.max !== undefined) {
        conds.push('p.value_num <= ?');
        fargs.push(f.max);
      }
      if (f.equals !== undefined) {
        const e = f.equals;
        if (typeof e === 'number') {
          conds.push('p.value_num = ?');
          fargs.push(e);
        } else if (typeof e === 'boolean') {
          conds.push('p.value_num = ?');
          fargs.push(e ? 1 : 0);
        } else if (e.trim() !== '' && Number.isFinite(Number(e))) {
          conds.push('(p.value_text = ? OR p.value_num = ?)');
          fargs.push(e, Number(e));
        } else {
          conds.push('p.value_text = ?');
          fargs.push(e);
        }
      }
      // uncorrelated: the matching run ids are found once through run_params(key, value_*) (a correlated EXISTS let the
      // planner, before ANALYZE, scan that index once per run: seconds at 10,000 runs)
      where.push(`r.id IN (SELECT p.run_id FROM run_params p WHERE ${conds.join(' AND ')})`);
      args.push(...fargs);
    }
    const whereSql = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.stmt(`SELECT count(*) AS n FROM runs r ${whereSql}`).get(...args) as { n: number }).n;

    const dir = query.sort?.dir === 'asc' ? 'ASC' : 'DESC';
    let join = '';
    const joinArgs: string[] = [];
    let order: string;
    const key = query.sort?.key ?? 'createdAt';
    if (key.startsWith('params.')) {
      join = 'LEFT JOIN run_params sp ON sp.run_id = r.id AND sp.key = ?';
      joinArgs.push(key.slice('params.'.length));
      order = `(sp.value_num IS NULL AND sp.value_text IS NULL), sp.value_num ${dir}, sp.value_text ${dir}, r.id ${dir}`;
    } else if (key.startsWith('final.')) {
      join = 'LEFT JOIN run_final sf ON sf.run_id = r.id AND sf.name = ?';
      joinArgs.push(key.slice('final.'.length));
      order = `(sf.value IS NULL), sf.value ${dir}, r.id ${dir}`;
    } else {
      const col = Object.hasOwn(SORT_COLUMNS, key) ? SORT_COLUMNS[key] : undefined;
      if (typeof col !== 'string')
        throw new RunQueryError(
          `cannot sort runs by "${key}": use a column (${Object.keys(SORT_COLUMNS).join(', ')}), params.<key> or final.<metric>`,
        );
      order = `(${col.split(' ')[0]} IS NULL), ${col} ${dir}, r.id ${dir}`;
    }
    const limit = query.limit !== undefined && query.limit >= 0 ? Math.floor(query.limit) : -1;
    const offset = query.offset !== undefined && query.offset > 0 ? Math.floor(query.offset) : 0;
    const rows = this.stmt(`SELECT r.* FROM runs r ${join} ${whereSql} ORDER BY ${order} LIMIT ? OFFSET ?`).all(
      ...joinArgs,
      ...args,
      limit,
      offset,
    ) as RunRow[];
    return { runs: this.hydrate(rows), total };
  }

  rename(id: number, name: string): void {
    const n = name.trim();
    if (!n) throw new Error('a run name cannot be empty');
    if (this.stmt('UPDATE runs SET name = ? WHERE id = ?').run(n, id).changes === 0) throw new RunNotFoundError(id);
  }

  setTags(id: number, tags: string[]): void {
    this.db.transaction(() => {
      this.requireRun(id);
      this.writeTags(id, normalizeTags(tags));
    })();
  }

  setNotes(id: number, notes: string): void {
    if (this.stmt('UPDATE runs SET notes = ? WHERE id = ?').run(notes, id).changes === 0) throw new RunNotFoundError(id);
  }

  /** Every tag in use with its number of runs, most used first. */
  allTags(): { tag: string; count: number }[] {
    return this.stmt('SELECT tag, count(*) AS count FROM run_tags GROUP BY tag ORDER BY count DESC, tag').all() as {
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
    return this.db.transaction(() => {
      const paths = (this.stmt('SELECT path FROM checkpoints WHERE run_id = ? ORDER BY id').all(id) as { path: string }[]).map(
        (r) => r.path,
      );
      const changes = this.stmt('DELETE FROM runs WHERE id = ?').run(id).changes;
      return { deleted: changes > 0, removedPaths: changes > 0 ? paths : [] };
    })();
  }

  // ---------------------------------------------------------------- params

  paramDiff(runIds: number[]): ParamDiffRow[] {
    const perRun = runIds.map((id) => {
      const row = this.stmt('SELECT config_json FROM runs WHERE id = ?').get(id) as { config_json: string } | undefined;
      return row ? flattenConfig(parseJsonObject<unknown>(row.config_json, null)) : {};
    });
    const keys = new Set<string>();
    for (const p of perRun) for (const k of Object.keys(p)) keys.add(k);
    return [...keys].sort().map((key) => {
      const values = perRun.map((p) => (key in p ? p[key]! : null));
      return { key, values, differs: values.some((v) => v !== values[0]) };
    });
  }

  // ---------------------------------------------------------------- metrics

  /**
   * Insert a batch of points for one run in one transaction and keep run_final up to date.
   * A metric has one value per step: a point at a step already stored replaces it (a resumed run re-reporting).
   * Points with a non-finite value (NaN, +-Infinity) are skipped. Returns the number of points written.
   */
  appendMetrics(runId: number, points: readonly MetricPoint[]): number {
    return this.appendBatches([{ runId, points: points as MetricPoint[] }]);
  }

  /** Insert batches of several runs in one transaction (what MetricWriter uses). Returns points written. */
  appendBatches(batches: readonly RunBatch[]): number {
    const insert = this.stmt(
      `INSERT INTO metrics (run_id, name, step, epoch, time, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, name, step) DO UPDATE SET epoch = excluded.epoch, time = excluded.time, value = excluded.value`,
    );
    const upsertFinal = this.stmt(
      `INSERT INTO run_final (run_id, name, value, step) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, step = excluded.step
       WHERE excluded.step >= run_final.step`,
    );
    return this.db.transaction(() => {
      let written = 0;
      for (const { runId, points } of batches) {
        const last = new Map<string, MetricPoint>();
        for (const p of points) {
          if (!Number.isFinite(p.value)) continue;
          insert.run(runId, p.name, p.step, p.epoch, p.time, p.value);
          written++;
          const prev = last.get(p.name);
          if (!prev || p.step >= prev.step) last.set(p.name, p);
        }
        for (const p of last.values()) upsertFinal.run(runId, p.name, p.value, p.step);
      }
      return written;
    })();
  }

  /** Names of the metrics any of the runs has, sorted. */
  metricNames(runIds: number[]): string[] {
    return this.stmt('SELECT DISTINCT name FROM run_final WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY name')
      .pluck()
      .all(JSON.stringify(runIds)) as string[];
  }

  /** Number of stored points of one metric of one run. */
  countPoints(runId: number, metric: string): number {
    return this.stmt('SELECT count(*) FROM metrics WHERE run_id = ? AND name = ?').pluck().get(runId, metric) as number;
  }

  /**
   * One Series per requested run (empty points where the run lacks the metric), points ordered by x, restricted to
   * from <= x <= to, reduced to at most maxPoints by min/max buckets (first and last kept, every bucket's min and
   * max kept). `total` is the raw count in range, `downsampled` whether points were dropped.
   */
  series(runIds: number[], metric: string, opts: SeriesOptions): Series[] {
    const xcol = X_COLUMNS[opts.x];
    if (!xcol) throw new Error(`series: x must be step, epoch or time, got "${String(opts.x)}"`);
    const maxPoints = Math.floor(opts.maxPoints);
    if (!(maxPoints >= 1)) throw new Error(`series: maxPoints must be at least 1, got ${opts.maxPoints}`);
    const from = opts.from ?? -BIG;
    const to = opts.to ?? BIG;
    const count = this.stmt(`SELECT count(*) FROM metrics WHERE run_id = ? AND name = ? AND ${xcol} BETWEEN ? AND ?`).pluck();
    const read = this.stmt(
      `SELECT ${xcol}, step, epoch, time, value FROM metrics WHERE run_id = ? AND name = ? AND ${xcol} BETWEEN ? AND ?
       ORDER BY ${xcol === 'step' ? 'step' : `${xcol}, step`}`,
    ).raw(true);
    // One read transaction: the count and the rows come from the same snapshot.
    return this.db.transaction(() =>
      runIds.map((runId): Series => {
        const total = count.get(runId, metric, from, to) as number;
        if (total <= maxPoints) {
          const points = allPoints(read.all(runId, metric, from, to) as RawRow[]);
          return { runId, metric, points, total, downsampled: false };
        }
        const points =
          total <= this.inMemoryFactor * maxPoints
            ? this.downsampleInMemory(read.all(runId, metric, from, to) as RawRow[], maxPoints)
            : xcol === 'step'
              ? this.downsampleBySteps(runId, metric, from, to, maxPoints)
              : this.downsampleByIndex(runId, metric, xcol, from, to, maxPoints);
        return { runId, metric, points, total, downsampled: true };
      }),
    )();
  }

  /**
   * Up to this many times maxPoints raw points, reading every row and bucketing in JavaScript is cheaper than one
   * SQL query per bucket. Public for the benchmark and tests; 0 forces the SQL paths.
   */
  inMemoryFactor = 3;

  private downsampleInMemory(rows: RawRow[], maxPoints: number): SeriesPoint[] {
    const values = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = rows[i]![4];
    return minMaxIndices(values, maxPoints).map((i) => toPoint(rows[i]!));
  }

  /**
   * x = step: equal-width step buckets; SQLite finds each bucket's min and max row by a range scan of the primary
   * key (a bare column beside min()/max() comes from that row), so only the kept rows reach JavaScript.
   */
  private downsampleBySteps(runId: number, metric: string, from: number, to: number, maxPoints: number): SeriesPoint[] {
    const cols = 'step, step, epoch, time';
    const edge = (dir: 'ASC' | 'DESC') =>
      this.stmt(`SELECT ${cols}, value FROM metrics WHERE run_id = ? AND name = ? AND step BETWEEN ? AND ? ORDER BY step ${dir} LIMIT 1`)
        .raw(true)
        .get(runId, metric, from, to) as RawRow | undefined;
    const first = edge('ASC');
    const last = edge('DESC');
    if (!first || !last) return [];
    if (maxPoints === 1) return [toPoint(last)];
    const lowest = this.stmt(`SELECT ${cols}, min(value) FROM metrics WHERE run_id = ? AND name = ? AND step >= ? AND step < ?`).raw(true);
    const highest = this.stmt(`SELECT ${cols}, max(value) FROM metrics WHERE run_id = ? AND name = ? AND step >= ? AND step < ?`).raw(true);
    const out: SeriesPoint[] = [toPoint(first)];
    for (const [lo, hi] of stepBuckets(first[1], last[1], maxPoints)) {
      const a = lowest.get(runId, metric, lo, hi) as RawRow;
      if (a[4] === null) continue; // empty bucket
      const b = highest.get(runId, metric, lo, hi) as RawRow;
      if (a[1] === b[1]) out.push(toPoint(a));
      else if (a[1] < b[1]) out.push(toPoint(a), toPoint(b));
      else out.push(toPoint(b), toPoint(a));
    }
    if (last[1] !== first[1]) out.push(toPoint(last));
    return out;
  }

  /**
   * x = epoch or time: equal-count buckets over the values read as one plucked column (cheap), then the kept rows
   * fetched by primary key.
   */
  private downsampleByIndex(
    runId: number,
    metric: string,
    xcol: 'epoch' | 'time',
    from: number,
    to: number,
    maxPoints: number,
  ): SeriesPoint[] {
    const where = `WHERE run_id = ? AND name = ? AND ${xcol} BETWEEN ? AND ? ORDER BY ${xcol}, step`;
    const values = this.stmt(`SELECT value FROM metrics ${where}`).pluck().all(runId, metric, from, to) as number[];
    const steps = this.stmt(`SELECT step FROM metrics ${where}`).pluck().all(runId, metric, from, to) as number[];
    const byStep = this.stmt(`SELECT ${xcol}, step, epoch, time, value FROM metrics WHERE run_id = ? AND name = ? AND step = ?`).raw(true);
    return minMaxIndices(values, maxPoints).map((i) => toPoint(byStep.get(runId, metric, steps[i]) as RawRow));
  }

  // ---------------------------------------------------------------- artifacts

  addArtifact(runId: number, a: NewArtifact): ArtifactMeta {
    const createdAt = Date.now();
    const data = Buffer.isBuffer(a.data) ? a.data : Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    const info = this.stmt(
      `INSERT INTO artifacts (run_id, kind, epoch, step, mime, width, height, meta, data, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(runId, a.kind, a.epoch, a.step, a.mime, a.width, a.height, JSON.stringify(a.meta ?? {}), data, createdAt);
    return {
      id: Number(info.lastInsertRowid),
      runId,
      kind: a.kind,
      epoch: a.epoch,
      step: a.step,
      mime: a.mime,
      width: a.width,
      height: a.height,
      meta: a.meta ?? {},
      createdAt,
    };
  }

  private artifactMeta(r: ArtifactRow): ArtifactMeta {
    return {
      id: r.id,
      runId: r.run_id,
      kind: r.kind as ArtifactKind,
      epoch: r.epoch,
      step: r.step,
      mime: r.mime,
      width: r.width,
      height: r.height,
      meta: parseJsonObject<Record<string, unknown>>(r.meta, {}),
      createdAt: r.created_at,
    };
  }

  /** Artifacts of a run without their data, ordered by epoch then insertion. */
  listArtifacts(runId: number, filter: { kind?: ArtifactKind; epoch?: number } = {}): ArtifactMeta[] {
    const rows = this.stmt(
      `SELECT id, run_id, kind, epoch, step, mime, width, height, meta, created_at FROM artifacts
       WHERE run_id = ? AND (? IS NULL OR kind = ?) AND (? IS NULL OR epoch = ?) ORDER BY epoch, id`,
    ).all(runId, filter.kind ?? null, filter.kind ?? null, filter.epoch ?? null, filter.epoch ?? null) as ArtifactRow[];
    return rows.map((r) => this.artifactMeta(r));
  }

  getArtifact(id: number): ArtifactMeta | null {
    const r = this.stmt('SELECT id, run_id, kind, epoch, step, mime, width, height, meta, created_at FROM artifacts WHERE id = ?').get(
      id,
    ) as ArtifactRow | undefined;
    return r ? this.artifactMeta(r) : null;
  }

  getArtifactData(id: number): { mime: string; data: Buffer } | null {
    const r = this.stmt('SELECT mime, data FROM artifacts WHERE id = ?').get(id) as { mime: string; data: Buffer } | undefined;
    return r ?? null;
  }

  /** The epochs (sorted, distinct) at which any of the runs has an artifact of this kind. */
  artifactEpochs(runIds: number[], kind: ArtifactKind): number[] {
    return this.stmt('SELECT DISTINCT epoch FROM artifacts WHERE run_id IN (SELECT value FROM json_each(?)) AND kind = ? ORDER BY epoch')
      .pluck()
      .all(JSON.stringify(runIds), kind) as number[];
  }

  // ---------------------------------------------------------------- checkpoints

  addCheckpoint(runId: number, c: NewCheckpoint): CheckpointMeta {
    const createdAt = Date.now();
    const info = this.stmt(
      `INSERT INTO checkpoints (run_id, epoch, step, tag, path, bytes, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(runId, c.epoch, c.step, c.tag, c.path, c.bytes, JSON.stringify(c.metrics ?? {}), createdAt);
    return {
      id: Number(info.lastInsertRowid),
      runId,
      epoch: c.epoch,
      step: c.step,
      tag: c.tag,
      path: c.path,
      bytes: c.bytes,
      metrics: c.metrics ?? {},
      createdAt,
    };
  }

  private checkpointMeta(r: CheckpointRow): CheckpointMeta {
    return {
      id: r.id,
      runId: r.run_id,
      epoch: r.epoch,
      step: r.step,
      tag: r.tag,
      path: r.path,
      bytes: r.bytes,
      metrics: parseJsonObject<Record<string, number>>(r.metrics, {}),
      createdAt: r.created_at,
    };
  }

  /** Checkpoints of a run ordered by step, then insertion. */
  listCheckpoints(runId: number): CheckpointMeta[] {
    return (this.stmt('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id').all(runId) as CheckpointRow[]).map((r) =>
      this.checkpointMeta(r),
    );
  }

  getCheckpoint(id: number): CheckpointMeta | null {
    const r = this.stmt('SELECT * FROM checkpoints WHERE id = ?').get(id) as CheckpointRow | undefined;
    return r ? this.checkpointMeta(r) : null;
  }

  /** Remove the checkpoint's row; returns what it was (the caller removes the file at .path), or null. */
  removeCheckpoint(id: number): CheckpointMeta | null {
    return this.db.transaction(() => {
      const c = this.getCheckpoint(id);
      if (c) this.stmt('DELETE FROM checkpoints WHERE id = ?').run(id);
      return c;
    })();
  }

  // ---------------------------------------------------------------- log

  log(runId: number, level: LogEntry['level'], message: string, time: number = Date.now()): void {
    this.stmt('INSERT INTO run_log (run_id, time, level, message) VALUES (?, ?, ?, ?)').run(runId, time, level, message);
  }

  /** The newest `limit` log entries of a run, oldest first. */
  getLog(runId: number, limit = 500): LogEntry[] {
    const rows = this.stmt(
      'SELECT run_id AS runId, time, level, message FROM (SELECT * FROM run_log WHERE run_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id',
    ).all(runId, Math.max(0, Math.floor(limit))) as LogEntry[];
    return rows;
  }

  // ---------------------------------------------------------------- export

  /**
   * The runs table (all runs, or the given ones in that order) with flattened params ("params.<key>") and final
   * metrics ("final.<metric>"). CSV: one header row, one row per run; JSON: an array of objects with the same keys
   * plus "tags" as an array.
   */
  exportRuns(format: 'csv' | 'json', runIds?: number[]): string {
    const runs = runIds
      ? runIds.map((id) => this.getRun(id)).filter((r): r is RunSummary => r !== null)
      : this.listRuns({ sort: { key: 'id', dir: 'asc' } }).runs;
    const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
    const finalKeys = [...new Set(runs.flatMap((r) => Object.keys(r.final)))].sort();
    const base = [
      'id',
      'name',
      'status',
      'createdAt',
      'startedAt',
      'finishedAt',
      'dataset',
      'backend',
      'appVersion',
      'seed',
      'step',
      'epoch',
      'parentId',
      'error',
      'notes',
    ] as const;
    if (format === 'json') {
      const out = runs.map((r) => {
        const o: Record<string, unknown> = {};
        for (const k of base) o[k] = r[k];
        o.tags = r.tags;
        for (const k of paramKeys) o[`params.${k}`] = k in r.params ? r.params[k] : null;
        for (const k of finalKeys) o[`final.${k}`] = k in r.final ? r.final[k] : null;
        return o;
      });
      return JSON.stringify(out, null, 2);
    }
    const header = [...base, 'tags', ...paramKeys.map((k) => `params.${k}`), ...finalKeys.map((k) => `final.${k}`)];
    const rows: CsvCell[][] = runs.map((r) => [
      ...base.map((k) => r[k] as CsvCell),
      r.tags.join(';'),
      ...paramKeys.map((k) => (k in r.params ? r.params[k] : null)),
      ...finalKeys.map((k) => (k in r.final ? r.final[k] : null)),
    ]);
    return toCsv(header, rows);
  }

  /**
   * Raw metric points (not downsampled) of the runs: every metric, or the given ones. Rows ordered by run (as
   * given), metric name, step. CSV columns / JSON object keys: runId, runName, metric, step, epoch, time, value.
   */
  exportSeries(format: 'csv' | 'json', runIds: number[], metrics?: string[]): string {
    const header = ['runId', 'runName', 'metric', 'step', 'epoch', 'time', 'value'];
    const rows: [number, string, string, number, number, number, number][] = [];
    const read = this.stmt(
      `SELECT m.run_id, r.name, m.name, m.step, m.epoch, m.time, m.value FROM metrics m JOIN runs r ON r.id = m.run_id
       WHERE m.run_id = ? AND (? IS NULL OR m.name IN (SELECT value FROM json_each(?))) ORDER BY m.name, m.step`,
    ).raw(true);
    const filter = metrics ? JSON.stringify(metrics) : null;
    this.db.transaction(() => {
      for (const id of runIds) for (const row of read.iterate(id, filter, filter)) rows.push(row as (typeof rows)[number]);
    })();
    if (format === 'json') {
      return JSON.stringify(rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))));
    }
    return toCsv(header, rows);
  }
}
