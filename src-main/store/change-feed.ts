// What other processes changed in the run database since the last look, turned into the contract's events: a CLI
// run, another host, an import or a Slurm sync writing the same data home. poll() first reads PRAGMA data_version
// (it moves only when ANOTHER connection committed: free when nothing happened); when it moved it asks bounded
// questions: runs with an id above the highest seen (run.created), runs deleted since (the run_deletions table a
// trigger fills: run.deleted), runs renamed, tagged or annotated since (the run_edits table triggers fill: run.updated
// with the whole summary), and for each run that another process is training (status queued/running, found
// through the runs_active partial index) its status, progress, new metric points (per metric, the points above the
// last step seen, through the (run_id, name, step) key), log lines, images and checkpoints (by row id).
// Runs this process owns are left out: this process already emitted their events as they happened.
import type { EventPayload, WorkbenchEvent } from '@shared/contract';
import type { LogEntry, RunStatus } from '@shared/model-types';
import { processStartToken } from '../os/process-identity';
import type { ArtifactsRepo } from './artifacts-repo';
import type { CheckpointsRepo } from './checkpoints-repo';
import type { StoreDb } from './db';
import { hydrate, type RunRow } from './run-rows';

/** At most this many new runs, points per metric, log lines, images or checkpoints are read per run and poll. */
const MAX_ROWS = 5000;
const OWNER_TOKEN = processStartToken();

interface RunMark {
  status: string;
  error: string | null;
  step: number;
  epoch: number;
  /** Per metric, the last step already emitted. */
  steps: Map<string, number>;
  logId: number;
  artifactId: number;
  checkpointId: number;
}

interface ActiveRow {
  id: number;
  status: string;
  error: string | null;
  last_step: number;
  last_epoch: number;
  owner_pid: number | null;
  owner_start: string | null;
  config_json: string;
}

const ACTIVE_COLUMNS = 'id, status, error, last_step, last_epoch, owner_pid, owner_start, config_json';

export class ChangeFeed {
  private version = -1;
  private maxRunId = 0;
  private deletionSeq = 0;
  private editSeq = 0;
  private readonly watched = new Map<number, RunMark>();
  /** Runs whose run.created this process emitted itself (imports, runs it queued). */
  private readonly local = new Set<number>();

  constructor(
    private readonly sql: StoreDb,
    private readonly artifacts: ArtifactsRepo,
    private readonly checkpoints: CheckpointsRepo,
  ) {
    this.version = this.dataVersion();
    this.maxRunId = this.scalar('SELECT coalesce(max(id), 0) AS v FROM runs');
    this.deletionSeq = this.scalar('SELECT coalesce(max(seq), 0) AS v FROM run_deletions');
    this.editSeq = this.scalar('SELECT coalesce(max(seq), 0) AS v FROM run_edits');
    // Runs another process is training now: followed from what is already there (the views load that themselves).
    for (const row of this.activeRows()) if (!this.ownedHere(row)) this.watched.set(row.id, this.markNow(row));
  }

  /** This process emitted run.created for this run itself: the feed does not repeat it. */
  noteLocalRun(runId: number): void {
    this.local.add(runId);
  }

  /** The events for what other processes changed since the last call ([] at once when nothing did). */
  poll(): WorkbenchEvent[] {
    const version = this.dataVersion();
    if (version === this.version) return [];
    this.version = version;
    const events: WorkbenchEvent[] = [];
    const knownMax = this.maxRunId;
    this.newRuns(events);
    this.deletedRuns(events);
    this.editedRuns(knownMax, events);
    for (const row of this.activeRows())
      if (!this.watched.has(row.id) && !this.ownedHere(row)) this.watched.set(row.id, this.markFromStart(row));
    for (const [runId, mark] of this.watched) this.followRun(runId, mark, events);
    return events;
  }

  private dataVersion(): number {
    return this.sql.db.pragma('data_version', { simple: true }) as number;
  }

  private scalar(sqlText: string): number {
    return (this.sql.stmt(sqlText).get() as { v: number }).v;
  }

  private activeRows(): ActiveRow[] {
    return this.sql.stmt(`SELECT ${ACTIVE_COLUMNS} FROM runs WHERE status IN ('queued', 'running')`).all() as ActiveRow[];
  }

  private ownedHere(row: { owner_pid: number | null; owner_start: string | null }): boolean {
    return row.owner_pid === process.pid && row.owner_start === OWNER_TOKEN;
  }

  private markNow(row: ActiveRow): RunMark {
    const steps = new Map<string, number>();
    for (const r of this.sql.stmt('SELECT name, step FROM run_final WHERE run_id = ?').all(row.id) as { name: string; step: number }[])
      steps.set(r.name, r.step);
    const maxId = (table: string) =>
      (this.sql.stmt(`SELECT coalesce(max(id), 0) AS v FROM ${table} WHERE run_id = ?`).get(row.id) as { v: number }).v;
    return {
      status: row.status,
      error: row.error,
      step: row.last_step,
      epoch: row.last_epoch,
      steps,
      logId: maxId('run_log'),
      artifactId: maxId('artifacts'),
      checkpointId: maxId('checkpoints'),
    };
  }

  /** A run that became active since the last look: everything it wrote is new. */
  private markFromStart(row: ActiveRow): RunMark {
    return { status: row.status, error: row.error, step: -1, epoch: -1, steps: new Map(), logId: 0, artifactId: 0, checkpointId: 0 };
  }

  private newRuns(events: WorkbenchEvent[]): void {
    const rows = this.sql.stmt('SELECT * FROM runs WHERE id > ? ORDER BY id LIMIT ?').all(this.maxRunId, MAX_ROWS) as RunRow[];
    if (!rows.length) return;
    this.maxRunId = rows[rows.length - 1]!.id;
    for (const run of hydrate(this.sql, rows)) {
      if (this.local.delete(run.id)) continue;
      events.push({ event: 'run.created', payload: run });
    }
  }

  private deletedRuns(events: WorkbenchEvent[]): void {
    const rows = this.sql
      .stmt('SELECT seq, run_id FROM run_deletions WHERE seq > ? ORDER BY seq LIMIT ?')
      .all(this.deletionSeq, MAX_ROWS) as { seq: number; run_id: number }[];
    for (const r of rows) {
      this.deletionSeq = r.seq;
      this.watched.delete(r.run_id);
      events.push({ event: 'run.deleted', payload: { runId: r.run_id } });
    }
  }

  /** Runs (already known, still there) whose name, notes or tags changed: their whole summary, once per run and poll. */
  private editedRuns(knownMax: number, events: WorkbenchEvent[]): void {
    const rows = this.sql.stmt('SELECT seq, run_id FROM run_edits WHERE seq > ? ORDER BY seq LIMIT ?').all(this.editSeq, MAX_ROWS) as {
      seq: number;
      run_id: number;
    }[];
    if (!rows.length) return;
    this.editSeq = rows[rows.length - 1]!.seq;
    const ids = [...new Set(rows.map((r) => r.run_id))].filter((id) => id <= knownMax);
    if (!ids.length) return;
    const runs = this.sql.stmt(`SELECT * FROM runs WHERE id IN (${ids.map(() => '?').join(',')})`).all(...ids) as RunRow[];
    for (const run of hydrate(this.sql, runs)) events.push({ event: 'run.updated', payload: run });
  }

  private followRun(runId: number, mark: RunMark, events: WorkbenchEvent[]): void {
    const row = this.sql.stmt(`SELECT ${ACTIVE_COLUMNS} FROM runs WHERE id = ?`).get(runId) as ActiveRow | undefined;
    if (!row || this.ownedHere(row)) {
      this.watched.delete(runId);
      return;
    }
    this.newMetrics(runId, mark, events);
    this.newLogs(runId, mark, events);
    this.newArtifacts(runId, mark, events);
    if (row.last_step !== mark.step || row.last_epoch !== mark.epoch) {
      mark.step = row.last_step;
      mark.epoch = row.last_epoch;
      events.push({ event: 'run.progress', payload: progressOf(row) });
    }
    if (row.status !== mark.status || row.error !== mark.error) {
      mark.status = row.status;
      mark.error = row.error;
      events.push({ event: 'run.status', payload: { runId, status: row.status as RunStatus, error: row.error } });
    }
    if (row.status !== 'queued' && row.status !== 'running') this.watched.delete(runId);
  }

  private newMetrics(runId: number, mark: RunMark, events: WorkbenchEvent[]): void {
    const finals = this.sql.stmt('SELECT name, step FROM run_final WHERE run_id = ?').all(runId) as { name: string; step: number }[];
    const points: { name: string; step: number; epoch: number; time: number; value: number }[] = [];
    for (const f of finals) {
      const last = mark.steps.get(f.name) ?? -1;
      if (f.step <= last) continue;
      const rows = this.sql
        .stmt('SELECT step, epoch, time, value FROM metrics WHERE run_id = ? AND name = ? AND step > ? ORDER BY step LIMIT ?')
        .all(runId, f.name, last, MAX_ROWS) as { step: number; epoch: number; time: number; value: number }[];
      for (const p of rows) points.push({ name: f.name, ...p });
      mark.steps.set(f.name, rows.length ? rows[rows.length - 1]!.step : f.step);
    }
    if (points.length) events.push({ event: 'run.metrics', payload: { runId, points } });
  }

  private newLogs(runId: number, mark: RunMark, events: WorkbenchEvent[]): void {
    const rows = this.sql
      .stmt('SELECT id, time, level, message FROM run_log WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?')
      .all(runId, mark.logId, MAX_ROWS) as { id: number; time: number; level: LogEntry['level']; message: string }[];
    for (const r of rows) {
      mark.logId = r.id;
      events.push({ event: 'run.log', payload: { runId, time: r.time, level: r.level, message: r.message } });
    }
  }

  private newArtifacts(runId: number, mark: RunMark, events: WorkbenchEvent[]): void {
    const ids = (table: string, after: number) =>
      (
        this.sql.stmt(`SELECT id FROM ${table} WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?`).all(runId, after, MAX_ROWS) as {
          id: number;
        }[]
      ).map((r) => r.id);
    for (const id of ids('artifacts', mark.artifactId)) {
      mark.artifactId = id;
      const meta = this.artifacts.getArtifact(id);
      if (meta) events.push({ event: 'run.artifact', payload: meta });
    }
    for (const id of ids('checkpoints', mark.checkpointId)) {
      mark.checkpointId = id;
      const meta = this.checkpoints.getCheckpoint(id);
      if (meta) events.push({ event: 'run.checkpoint', payload: meta });
    }
  }
}

/** Progress as far as the runs table knows it (step and epoch; the total from the config and the fraction done). */
function progressOf(row: ActiveRow): EventPayload<'run.progress'> {
  let totalEpochs = 0;
  try {
    const config = JSON.parse(row.config_json) as { training?: { epochs?: unknown } } | null;
    if (typeof config?.training?.epochs === 'number') totalEpochs = config.training.epochs;
  } catch {
    // a config that is not JSON: no total
  }
  const totalSteps = row.last_epoch > 0 && totalEpochs > 0 ? Math.round((row.last_step / row.last_epoch) * totalEpochs) : 0;
  return {
    runId: row.id,
    step: row.last_step,
    totalSteps,
    epoch: row.last_epoch,
    totalEpochs,
    samplesPerSec: 0,
    etaSeconds: null,
    phase: 'training (another process)',
  };
}
