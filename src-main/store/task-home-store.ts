// A task's own database on the shared folder, read as the untrusted file it is (any co-user of a cluster file
// system can write it): opened read-only with trusted_schema=OFF, only when it and its -wal/-shm siblings are
// regular files inside the task home within LIMITS.TASK_DB_MAX_BYTES; every table read must be a real table (a
// VIEW named `runs` over generated rows is refused), every query has a LIMIT, and the queries that select by metric
// must use an index (checked with EXPLAIN QUERY PLAN), so no query scans a whole hostile table. What comes out is
// bounded like a bundle: names, counts, JSON depth (src-main/os/untrusted.ts). Never migrates, never writes.
import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LIMITS } from '@shared/limits';
import { ARTIFACT_KINDS, RUN_STATUSES, type ArtifactKind, type LogEntry, type RunStatus } from '@shared/model-types';
import { checkMetricRows, checkName, kindOf, parseUntrustedJson, pathInside, UntrustedError } from '../os/untrusted';
import { dataHomeLayout } from './data-home';
import { minMaxIndices } from './downsample';

export interface TaskRunProgress {
  runId: number;
  status: RunStatus;
  step: number;
  epoch: number;
}

/** One task run as it comes home: every field bounded and checked. */
export interface TaskRunRecord {
  id: number;
  name: string;
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  configText: string;
  config: unknown;
  dataset: string;
  backend: string | null;
  appVersion: string;
  seed: number;
  error: string | null;
  notes: string;
  tags: string[];
  step: number;
  epoch: number;
}

export interface TaskMetricRow {
  name: string;
  step: number;
  epoch: number;
  time: number;
  value: number;
}

export interface TaskArtifactRow {
  kind: ArtifactKind;
  epoch: number;
  step: number;
  mime: string;
  width: number;
  height: number;
  meta: Record<string, unknown>;
  data: Buffer;
}

export interface TaskCheckpointRow {
  epoch: number;
  step: number;
  tag: string;
  /** Resolved inside the task home (a path anywhere else is refused). */
  path: string;
  bytes: number;
  metrics: Record<string, number>;
}

const TABLES = ['runs', 'metrics', 'artifacts', 'checkpoints', 'run_log', 'run_tags'] as const;
const MAX_ARTIFACTS = LIMITS.RUN_MAX_ARTIFACTS;
const MAX_ARTIFACT_BYTES = LIMITS.UNTRUSTED_MAX_SMALL_FILE_BYTES;
const MAX_CHECKPOINTS = 100;
const MAX_LOG_LINES = 100_000;
const MAX_TEXT_CHARS = 20_000;
const MAX_CONFIG_CHARS = LIMITS.WEB_MAX_SMALL_BODY_BYTES;

/** The task database and its WAL siblings: regular files inside the home (no FIFO, device or link out), bounded. */
function checkDatabaseFiles(home: string, file: string, what: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (f !== file && !existsSync(f)) continue;
    const real = pathInside(home, f, what);
    const st = lstatSync(real);
    if (!st.isFile()) throw new UntrustedError(`${what}: ${f} is ${kindOf(st)}, not a regular file`);
    if (st.size > LIMITS.TASK_DB_MAX_BYTES)
      throw new UntrustedError(
        `${what}: ${path.basename(f)} is ${st.size} bytes, more than the limit of ${LIMITS.TASK_DB_MAX_BYTES} bytes (TASK_DB_MAX_BYTES)`,
        'TASK_DB_MAX_BYTES',
      );
  }
}

export class TaskHomeStore {
  private constructor(
    private readonly db: Database.Database,
    readonly home: string,
    readonly what: string,
  ) {}

  /**
   * The task's database, or null while it does not exist yet. Throws UntrustedError when it breaks the rule.
   * `within` (the sweep folder): the home must resolve inside it (no symbolic link to a data home elsewhere).
   */
  static open(home: string, what: string, nativeBinding?: string, within?: string): TaskHomeStore | null {
    const file = dataHomeLayout(home).database;
    if (!existsSync(file)) return null;
    if (within !== undefined) pathInside(within, home, what);
    checkDatabaseFiles(home, file, what);
    let db: Database.Database;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
    } catch {
      return null; // not created far enough yet
    }
    try {
      db.pragma('trusted_schema = OFF');
      db.pragma('query_only = ON');
      db.pragma('busy_timeout = 2000');
      const store = new TaskHomeStore(db, home, what);
      store.checkTables();
      return store;
    } catch (err) {
      db.close();
      if (err instanceof UntrustedError) throw err;
      return null; // a database still being created (no schema yet) or unreadable: nothing to read yet
    }
  }

  close(): void {
    this.db.close();
  }

  /** Any SQLite error a hostile database causes (a missing column, a corrupt page) is an UntrustedError naming it. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof UntrustedError) throw err;
      throw new UntrustedError(`${this.what}: the task's database cannot be read (${(err as Error).message.slice(0, 200)})`);
    }
  }

  private checkTables(): void {
    const rows = this.db
      .prepare(`SELECT name, type FROM sqlite_master WHERE name IN (${TABLES.map(() => '?').join(',')}) LIMIT 64`)
      .all(...TABLES) as { name: string; type: string }[];
    for (const r of rows)
      if (r.type !== 'table') throw new UntrustedError(`${this.what}: "${r.name}" in the task's database is a ${r.type}, not a table`);
    for (const t of ['runs', 'metrics'])
      if (!rows.some((r) => r.name === t)) throw new UntrustedError(`${this.what}: the task's database has no ${t} table`);
  }

  /** Refuse a query that would scan a whole table instead of searching an index. */
  private requireIndexed(sql: string, ...params: unknown[]): void {
    const plan = this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    const scan = plan.find((p) => /^SCAN (?!CONSTANT)/.test(p.detail)); // SCAN = every row, even through an index
    if (scan) throw new UntrustedError(`${this.what}: the task's database has no index for its metrics (${scan.detail})`);
  }

  /** The task's run (a task trains exactly one): the row with the largest rowid, found without a scan. */
  private latestRow(): Record<string, unknown> | null {
    return (
      (this.db.prepare('SELECT * FROM runs WHERE rowid = (SELECT max(rowid) FROM runs) LIMIT 1').get() as
        Record<string, unknown> | undefined) ?? null
    );
  }

  progress(): TaskRunProgress | null {
    return this.guard(() => this.progressUnguarded());
  }

  private progressUnguarded(): TaskRunProgress | null {
    const r = this.latestRow();
    if (!r) return null;
    return { runId: Number(r.id), status: String(r.status) as RunStatus, step: Number(r.last_step), epoch: Number(r.last_epoch) };
  }

  /** One metric of the task's run, at most maxPoints points, downsampled like the store's own series (min/max buckets). */
  series(metric: string, maxPoints: number): { step: number; epoch: number; value: number }[] {
    return this.guard(() => this.seriesUnguarded(metric, maxPoints));
  }

  private seriesUnguarded(metric: string, maxPoints: number): { step: number; epoch: number; value: number }[] {
    const p = this.progress();
    if (!p) return [];
    const sql = 'SELECT step, epoch, value FROM metrics WHERE run_id = ? AND name = ? ORDER BY step LIMIT ?';
    this.requireIndexed(sql, p.runId, metric, 1);
    const rows = this.db.prepare(sql).all(p.runId, metric, LIMITS.RUN_MAX_METRIC_POINTS) as {
      step: number;
      epoch: number;
      value: number;
    }[];
    if (rows.length <= maxPoints) return rows;
    const values = Float64Array.from(rows, (r) => r.value);
    return minMaxIndices(values, maxPoints).map((i) => rows[i]!);
  }

  /** The whole run for import, every part bounded (names, counts, sizes, JSON depth); throws UntrustedError. */
  run(): TaskRunRecord | null {
    return this.guard(() => this.runUnguarded());
  }

  private runUnguarded(): TaskRunRecord | null {
    const r = this.latestRow();
    if (!r) return null;
    const w = this.what;
    const text = (v: unknown, field: string, max: number, limit: Parameters<typeof checkName>[3] = 'NAME_MAX_CHARS') =>
      checkName(`${w}: the run's ${field}`, v ?? '', max, limit);
    const configText = text(r.config_text, 'config', MAX_CONFIG_CHARS, 'WEB_MAX_SMALL_BODY_BYTES');
    const id = Number(r.id);
    const tags = this.has('run_tags')
      ? (this.db
          .prepare('SELECT tag FROM run_tags WHERE run_id = ? LIMIT ?')
          .pluck()
          .all(id, LIMITS.TAGS_MAX_COUNT + 1) as unknown[])
      : [];
    if (tags.length > LIMITS.TAGS_MAX_COUNT)
      throw new UntrustedError(`${w}: the run has more than ${LIMITS.TAGS_MAX_COUNT} tags (TAGS_MAX_COUNT)`);
    return {
      id,
      name: text(r.name, 'name', LIMITS.RUN_NAME_MAX_CHARS, 'RUN_NAME_MAX_CHARS'),
      status: oneOf(RUN_STATUSES, r.status, `${w}: the run's status`),
      createdAt: num(r.created_at, `${w}: the run's created_at`),
      startedAt: r.started_at == null ? null : num(r.started_at, `${w}: the run's started_at`),
      finishedAt: r.finished_at == null ? null : num(r.finished_at, `${w}: the run's finished_at`),
      configText,
      config: parseUntrustedJson(text(r.config_json, 'config', MAX_CONFIG_CHARS, 'WEB_MAX_SMALL_BODY_BYTES'), `${w}: the run's config`),
      dataset: text(r.dataset, 'dataset', LIMITS.NAME_MAX_CHARS),
      backend: r.backend == null ? null : text(r.backend, 'backend', LIMITS.NAME_MAX_CHARS),
      appVersion: text(r.app_version, 'app version', LIMITS.NAME_MAX_CHARS),
      seed: num(r.seed, `${w}: the run's seed`),
      error: r.error == null ? null : text(r.error, 'error', MAX_TEXT_CHARS).slice(0, MAX_TEXT_CHARS),
      notes: text(r.notes, 'notes', LIMITS.RUN_NOTES_MAX_CHARS, 'RUN_NOTES_MAX_CHARS'),
      tags: tags.map((t) => checkName(`${w}: a tag`, t, LIMITS.TAG_MAX_CHARS, 'TAG_MAX_CHARS')),
      step: num(r.last_step, `${w}: the run's step`),
      epoch: num(r.last_epoch, `${w}: the run's epoch`),
    };
  }

  private has(table: string): boolean {
    return !!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ? LIMIT 1").get(table);
  }

  /** Every metric point of the run: at most RUN_MAX_METRIC_NAMES names of NAME_MAX_CHARS, RUN_MAX_METRIC_POINTS points. */
  metrics(runId: number): TaskMetricRow[] {
    return this.guard(() => this.metricsUnguarded(runId));
  }

  private metricsUnguarded(runId: number): TaskMetricRow[] {
    const sql = 'SELECT name, step, epoch, time, value FROM metrics WHERE run_id = ? ORDER BY name, step LIMIT ?';
    this.requireIndexed(sql, runId, 1);
    const rows = this.db.prepare(sql).all(runId, LIMITS.RUN_MAX_METRIC_POINTS + 1) as TaskMetricRow[];
    if (rows.length > LIMITS.RUN_MAX_METRIC_POINTS)
      throw new UntrustedError(
        `${this.what}: the run holds more than ${LIMITS.RUN_MAX_METRIC_POINTS.toLocaleString('en-US')} metric points (RUN_MAX_METRIC_POINTS)`,
        'RUN_MAX_METRIC_POINTS',
      );
    checkMetricRows(rows, this.what);
    for (const m of rows) {
      if (typeof m.name !== 'string') throw new UntrustedError(`${this.what}: a metric name is not text`);
      m.step = num(m.step, `${this.what}: a metric step`);
      m.epoch = num(m.epoch, `${this.what}: a metric epoch`);
      m.time = num(m.time, `${this.what}: a metric time`);
      m.value = num(m.value, `${this.what}: a metric value`);
    }
    return rows;
  }

  artifacts(runId: number): TaskArtifactRow[] {
    return this.guard(() => this.artifactsUnguarded(runId));
  }

  private artifactsUnguarded(runId: number): TaskArtifactRow[] {
    if (!this.has('artifacts')) return [];
    const rows = this.db
      .prepare(
        `SELECT kind, epoch, step, mime, width, height, meta, CASE WHEN length(data) <= ? THEN data END AS data, length(data) AS size
         FROM artifacts WHERE run_id = ? ORDER BY rowid LIMIT ?`,
      )
      .all(MAX_ARTIFACT_BYTES, runId, MAX_ARTIFACTS + 1) as (Omit<TaskArtifactRow, 'meta'> & { meta: unknown; size: number })[];
    if (rows.length > MAX_ARTIFACTS)
      throw new UntrustedError(`${this.what}: the run holds more than ${MAX_ARTIFACTS} images and artifacts (RUN_MAX_ARTIFACTS)`);
    return rows.map((a) => {
      if (!Buffer.isBuffer(a.data))
        throw new UntrustedError(
          `${this.what}: an artifact of ${a.size} bytes, more than ${MAX_ARTIFACT_BYTES} (UNTRUSTED_MAX_SMALL_FILE_BYTES)`,
        );
      const meta = parseUntrustedJson(checkName(`${this.what}: an artifact's meta`, a.meta, 1_000_000), `${this.what}: an artifact's meta`);
      return {
        kind: oneOf(ARTIFACT_KINDS, a.kind, `${this.what}: an artifact kind`),
        epoch: Number(a.epoch),
        step: Number(a.step),
        mime: checkName(`${this.what}: an artifact's type`, a.mime),
        width: Number(a.width),
        height: Number(a.height),
        meta: (meta && typeof meta === 'object' && !Array.isArray(meta) ? meta : {}) as Record<string, unknown>,
        data: a.data,
      };
    });
  }

  log(runId: number): Omit<LogEntry, 'runId'>[] {
    return this.guard(() => this.logUnguarded(runId));
  }

  private logUnguarded(runId: number): Omit<LogEntry, 'runId'>[] {
    if (!this.has('run_log')) return [];
    return this.db
      .prepare(`SELECT time, level, substr(message, 1, ${MAX_TEXT_CHARS}) AS message FROM run_log WHERE run_id = ? ORDER BY rowid LIMIT ?`)
      .all(runId, MAX_LOG_LINES)
      .map((l) => {
        const e = l as { time: number; level: unknown; message: unknown };
        const level = ['info', 'warn', 'error'].includes(String(e.level)) ? (String(e.level) as LogEntry['level']) : 'info';
        return { time: Number(e.time), level, message: String(e.message) };
      });
  }

  /** The run's checkpoints whose folder exists inside the task home; a path anywhere else is refused. */
  checkpoints(runId: number): TaskCheckpointRow[] {
    return this.guard(() => this.checkpointsUnguarded(runId));
  }

  private checkpointsUnguarded(runId: number): TaskCheckpointRow[] {
    if (!this.has('checkpoints')) return [];
    const rows = this.db
      .prepare('SELECT epoch, step, tag, path, bytes, metrics FROM checkpoints WHERE run_id = ? ORDER BY rowid LIMIT ?')
      .all(runId, MAX_CHECKPOINTS + 1) as { epoch: number; step: number; tag: unknown; path: unknown; bytes: number; metrics: unknown }[];
    if (rows.length > MAX_CHECKPOINTS) throw new UntrustedError(`${this.what}: the run has more than ${MAX_CHECKPOINTS} checkpoints`);
    const out: TaskCheckpointRow[] = [];
    for (const c of rows) {
      const p = checkName(`${this.what}: a checkpoint path`, c.path, 4096);
      if (!existsSync(p)) continue;
      const metrics = parseUntrustedJson(
        checkName(`${this.what}: checkpoint metrics`, c.metrics ?? '{}', 1_000_000),
        `${this.what}: checkpoint metrics`,
      );
      out.push({
        epoch: Number(c.epoch),
        step: Number(c.step),
        tag: checkName(`${this.what}: a checkpoint tag`, c.tag),
        path: pathInside(this.home, p, `${this.what}: checkpoint`),
        bytes: Number(c.bytes),
        metrics: (metrics && typeof metrics === 'object' ? metrics : {}) as Record<string, number>,
      });
    }
    return out;
  }
}

function num(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UntrustedError(`${what} is not a finite number`);
  return v;
}

function oneOf<T extends string>(allowed: readonly T[], v: unknown, what: string): T {
  if (!allowed.includes(v as T)) throw new UntrustedError(`${what} is not one of ${allowed.join(', ')}`);
  return v as T;
}
