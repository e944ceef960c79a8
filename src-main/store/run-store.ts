// The run database: one SQLite file (better-sqlite3, WAL) holding every run, its hyperparameters, metrics,
// sample images, checkpoint references and log. The main process is the only writer; every method is
// synchronous and every multi-row write is one transaction. Statements are prepared once and cached.
// RunStore is the facade every caller uses; the work is done by the database module (db.ts) and one repository
// per concern (runs-repo.ts, runs-query.ts, metrics-repo.ts, artifacts-repo.ts, checkpoints-repo.ts, logs-repo.ts,
// export.ts). See README.md.
import type Database from 'better-sqlite3';
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
  Workspace,
} from '@shared/model-types';
import { ArtifactsRepo } from './artifacts-repo';
import { CheckpointsRepo } from './checkpoints-repo';
import { StoreDb, type OpenOptions } from './db';
import { RunExporter } from './export';
import { LogsRepo } from './logs-repo';
import { MetricsRepo } from './metrics-repo';
import { RunPurge } from './run-purge';
import { RunsRepo } from './runs-repo';
import { ChangeFeed } from './change-feed';
import { WorkspacesRepo } from './workspaces-repo';
import { listRuns, matchingRunIds } from './runs-query';
import type { CreateRunInput, NewArtifact, NewCheckpoint, ParamDiffRow, RunBatch, RunQuery, SeriesOptions, StatusUpdate } from './types';

export type { OpenOptions } from './db';
export type {
  CreateRunInput,
  NewArtifact,
  NewCheckpoint,
  ParamDiffRow,
  ParamFilter,
  ParamValue,
  RunBatch,
  RunQuery,
  SeriesOptions,
  StatusUpdate,
} from './types';
export { RunNotFoundError, RunQueryError } from './types';

export class RunStore {
  /** The raw connection (kept as a field: the hardening tests run PRAGMA integrity_check through it). */
  private readonly db: Database.Database;
  private readonly runs: RunsRepo;
  private readonly metrics: MetricsRepo;
  private readonly artifacts: ArtifactsRepo;
  private readonly checkpoints: CheckpointsRepo;
  private readonly logs: LogsRepo;
  private readonly exporter: RunExporter;
  private readonly workspaces: WorkspacesRepo;
  private readonly purge: RunPurge;

  private constructor(
    private readonly sql: StoreDb,
    readonly file: string,
  ) {
    this.db = sql.db;
    this.runs = new RunsRepo(sql);
    this.metrics = new MetricsRepo(sql);
    this.artifacts = new ArtifactsRepo(sql);
    this.checkpoints = new CheckpointsRepo(sql);
    this.logs = new LogsRepo(sql);
    this.exporter = new RunExporter(sql, this.runs);
    this.workspaces = new WorkspacesRepo(sql);
    this.purge = new RunPurge(sql);
  }

  /**
   * Open (creating if needed) the database at `file` and migrate it to the current schema.
   * Throws SchemaVersionError, naming both versions, for a file written by a newer release (left untouched).
   */
  static open(file: string, options: OpenOptions = {}): RunStore {
    return new RunStore(StoreDb.open(file, options), file);
  }

  close(): void {
    this.sql.close();
  }

  get isOpen(): boolean {
    return this.sql.isOpen;
  }

  /** The open connection, for the repositories of other tables in the same file (store/sweep-repo.ts). */
  get connection(): Database.Database {
    return this.db;
  }

  /** Schema version of the open file (PRAGMA user_version). */
  schemaVersion(): number {
    return this.sql.schemaVersion();
  }

  /** PRAGMA integrity_check: ['ok'] for a sound file. */
  integrityCheck(): string[] {
    return this.sql.integrityCheck();
  }

  /**
   * Run several store calls as one transaction (all or nothing), e.g. importing a run with its metrics and images.
   * Nested calls become savepoints. fn must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.sql.transaction(fn);
  }

  // ---------------------------------------------------------------- runs (runs-repo.ts, runs-query.ts)

  createRun(input: CreateRunInput): RunSummary {
    return this.runs.createRun(input);
  }

  setStatus(id: number, status: RunStatus, update: StatusUpdate = {}): RunSummary {
    return this.runs.setStatus(id, status, update);
  }

  /** Record the last step and epoch reported (cheap; call as often as progress arrives). */
  updateProgress(id: number, step: number, epoch: number): void {
    this.runs.updateProgress(id, step, epoch);
  }

  /** Mark orphaned running/queued runs 'interrupted' (see RunsRepo.markInterrupted). Returns how many. */
  markInterrupted(opts: { all?: boolean; now?: number } = {}): number {
    return this.sql.timed('markInterrupted', () => this.runs.markInterrupted(opts));
  }

  /** The run, or null when there is no such run. */
  /** A run's stable identity (a bundle carries it), or null for no such run. */
  runUid(id: number): string | null {
    return this.runs.runUid(id);
  }

  /** The (oldest) run with this identity, or null: how an import knows the run is already here. */
  findRunByUid(uid: string): number | null {
    return this.runs.findByUid(uid);
  }

  /** Forget deletions and edits older than `before` (ms): watchers look every 250 ms, so a day's worth is plenty. */
  pruneDeletions(before: number): number {
    const edits = this.sql.stmt('DELETE FROM run_edits WHERE edited_at < ?').run(before).changes;
    return this.sql.stmt('DELETE FROM run_deletions WHERE deleted_at < ?').run(before).changes + edits;
  }

  /** What changed in the file since the last look, as events (see change-feed.ts); for a process watching other writers. */
  changeFeed(): ChangeFeed {
    return new ChangeFeed(this.sql, this.artifacts, this.checkpoints);
  }

  getRun(id: number): RunSummary | null {
    return this.runs.getRun(id);
  }

  listRuns(query: RunQuery = {}): { runs: RunSummary[]; total: number } {
    return this.sql.timed('listRuns', () => listRuns(this.sql, query));
  }

  /** Every run id the query's filters match (paging and sort ignored): what "select every matching run" acts on. */
  matchingRunIds(query: RunQuery): number[] {
    return this.sql.timed('matchingRunIds', () => matchingRunIds(this.sql, query));
  }

  rename(id: number, name: string): void {
    this.runs.rename(id, name);
  }

  setTags(id: number, tags: string[]): void {
    this.runs.setTags(id, tags);
  }

  setNotes(id: number, notes: string): void {
    this.runs.setNotes(id, notes);
  }

  /** Every tag in use with its number of runs, most used first. */
  allTags(): { tag: string; count: number }[] {
    return this.runs.allTags();
  }

  /** Delete the run and its rows; returns the checkpoint paths for the CALLER to remove (see RunsRepo.deleteRun). */
  deleteRun(id: number): { deleted: boolean; removedPaths: string[] } {
    return this.sql.timed('deleteRun', () => this.runs.deleteRun(id));
  }

  /**
   * Delete the run at once but for its metrics, artifacts and log rows, which `purgeStep` deletes in chunks afterwards
   * (run-purge.ts); returns the checkpoint paths for the CALLER to remove. What the service uses: it never blocks.
   */
  detachRun(id: number): { deleted: boolean; removedPaths: string[] } {
    return this.sql.timed('detachRun', () => this.purge.detach(id));
  }

  /** Delete at most about `rows` rows of runs detached earlier (in this process or before a crash), in one transaction. */
  purgeStep(rows: number): { rows: number; done: boolean } {
    return this.purge.step(rows);
  }

  /** Detached runs whose rows are still being deleted. */
  pendingPurges(): number {
    return this.purge.pending();
  }

  paramDiff(runIds: number[]): ParamDiffRow[] {
    return this.sql.timed('paramDiff', () => this.runs.paramDiff(runIds));
  }

  // ---------------------------------------------------------------- metrics (metrics-repo.ts)

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
    return this.sql.timed('appendBatches', () => this.metrics.appendBatches(batches));
  }

  /** Names of the metrics any of the runs has, sorted. */
  metricNames(runIds: number[]): string[] {
    return this.metrics.metricNames(runIds);
  }

  /** Number of stored points of one metric of one run. */
  countPoints(runId: number, metric: string): number {
    return this.metrics.countPoints(runId, metric);
  }

  /** One Series per requested run, ranged and downsampled to at most maxPoints (see MetricsRepo.series). */
  series(runIds: number[], metric: string, opts: SeriesOptions): Series[] {
    return this.sql.timed('series', () => this.metrics.series(runIds, metric, opts));
  }

  /**
   * Up to this many times maxPoints raw points, reading every row and bucketing in JavaScript is cheaper than one
   * SQL query per bucket. Public for the benchmark and tests; 0 forces the SQL paths.
   */
  get inMemoryFactor(): number {
    return this.metrics.inMemoryFactor;
  }

  set inMemoryFactor(factor: number) {
    this.metrics.inMemoryFactor = factor;
  }

  // ---------------------------------------------------------------- artifacts (artifacts-repo.ts)

  addArtifact(runId: number, a: NewArtifact): ArtifactMeta {
    return this.artifacts.addArtifact(runId, a);
  }

  /** Artifacts of a run without their data, ordered by epoch then insertion. */
  listArtifacts(runId: number, filter: { kind?: ArtifactKind; epoch?: number } = {}): ArtifactMeta[] {
    return this.artifacts.listArtifacts(runId, filter);
  }

  getArtifact(id: number): ArtifactMeta | null {
    return this.artifacts.getArtifact(id);
  }

  getArtifactData(id: number): { mime: string; data: Buffer } | null {
    return this.artifacts.getArtifactData(id);
  }

  /** The run's artifacts that still have their bytes, one at a time with them (by epoch, then insertion): what an
   *  export or an import copies. */
  *artifactsWithData(runId: number): Generator<ArtifactFields & { data: Buffer }> {
    for (const a of this.listArtifacts(runId)) {
      const blob = this.getArtifactData(a.id);
      if (blob)
        yield { kind: a.kind, epoch: a.epoch, step: a.step, mime: a.mime, width: a.width, height: a.height, meta: a.meta, data: blob.data };
    }
  }

  /** The epochs (sorted, distinct) at which any of the runs has an artifact of this kind. */
  artifactEpochs(runIds: number[], kind: ArtifactKind): number[] {
    return this.artifacts.artifactEpochs(runIds, kind);
  }

  // ---------------------------------------------------------------- checkpoints (checkpoints-repo.ts)

  addCheckpoint(runId: number, c: NewCheckpoint): CheckpointMeta {
    return this.checkpoints.addCheckpoint(runId, c);
  }

  /** Checkpoints of a run ordered by step, then insertion. */
  listCheckpoints(runId: number): CheckpointMeta[] {
    return this.checkpoints.listCheckpoints(runId);
  }

  getCheckpoint(id: number): CheckpointMeta | null {
    return this.checkpoints.getCheckpoint(id);
  }

  /** Remove the checkpoint's row; returns what it was (the caller removes the file at .path), or null. */
  removeCheckpoint(id: number): CheckpointMeta | null {
    return this.checkpoints.removeCheckpoint(id);
  }

  // ---------------------------------------------------------------- log (logs-repo.ts)

  log(runId: number, level: LogEntry['level'], message: string, time: number = Date.now()): void {
    this.logs.log(runId, level, message, time);
  }

  /** The newest `limit` log entries of a run, oldest first. */
  getLog(runId: number, limit = 500): LogEntry[] {
    return this.logs.getLog(runId, limit);
  }

  // ---------------------------------------------------------------- export (export.ts)

  /** The runs table as CSV or JSON, with params.<key> and final.<metric> columns (see RunExporter.exportRuns). */
  exportRuns(format: 'csv' | 'json', runIds?: number[]): string {
    return this.sql.timed('exportRuns', () => this.exporter.exportRuns(format, runIds));
  }

  /** Raw metric points of the runs as CSV or JSON (see RunExporter.exportSeries). */
  exportSeries(format: 'csv' | 'json', runIds: number[], metrics?: string[]): string {
    return this.sql.timed('exportSeries', () => this.exporter.exportSeries(format, runIds, metrics));
  }

  // ---------------------------------------------------------------- workspaces (workspaces-repo.ts)

  /** Saved Compare views, most recently saved first. */
  listWorkspaces(): Workspace[] {
    return this.workspaces.list();
  }

  /** Save a Compare view under `name` (the same name again replaces it). */
  saveWorkspace(name: string, state: string): Workspace {
    return this.workspaces.save(name, state);
  }

  deleteWorkspace(id: number): boolean {
    return this.workspaces.delete(id);
  }
}
