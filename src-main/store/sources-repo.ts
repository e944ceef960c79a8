// Watched sources (tables of migration 7): folders the workbench follows for run folders written by other
// programs (the vaewb Python client), and, per run folder, the run it became and how far each of its append-only
// files has been read (byte offsets). A folder's new lines, its run's rows and its new offsets are written in one
// transaction (SourcesRepo.advance), so every line is imported exactly once, across restarts too.
import type Database from 'better-sqlite3';

export interface SourceRow {
  id: number;
  path: string;
  kind: 'python';
  addedAt: number;
  lastError: string | null;
}

/** Byte offsets already imported, per append-only file of a run folder (metrics.jsonl, images.jsonl, ...). */
export type SourceOffsets = Record<string, number>;

export interface SourceRunRow {
  sourceId: number;
  folder: string;
  runId: number | null;
  offsets: SourceOffsets;
  state: string;
  /** Why this folder is no longer followed (a hostile or broken file), or null. */
  refused: string | null;
}

interface RawSourceRun {
  source_id: number;
  folder: string;
  run_id: number | null;
  offsets_json: string;
  state: string;
  refused: string | null;
}

function toSourceRun(r: RawSourceRun): SourceRunRow {
  let offsets: SourceOffsets = {};
  try {
    offsets = JSON.parse(r.offsets_json) as SourceOffsets;
  } catch {
    // a damaged row restarts from nothing it has not imported: keep {} (the run exists; the folder is refused below)
  }
  return { sourceId: r.source_id, folder: r.folder, runId: r.run_id, offsets, state: r.state, refused: r.refused };
}

export class SourcesRepo {
  constructor(private readonly db: Database.Database) {}

  add(path: string): SourceRow {
    const existing = this.db.prepare('SELECT id FROM sources WHERE path = ?').get(path) as { id: number } | undefined;
    if (existing) return this.get(existing.id)!;
    const info = this.db.prepare("INSERT INTO sources (path, kind, added_at) VALUES (?, 'python', ?)").run(path, Date.now());
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): SourceRow | null {
    const r = this.db.prepare('SELECT id, path, kind, added_at, last_error FROM sources WHERE id = ?').get(id) as
      { id: number; path: string; kind: string; added_at: number; last_error: string | null } | undefined;
    return r ? { id: r.id, path: r.path, kind: 'python', addedAt: r.added_at, lastError: r.last_error } : null;
  }

  list(): SourceRow[] {
    const ids = this.db.prepare('SELECT id FROM sources ORDER BY id').all() as { id: number }[];
    return ids.map((r) => this.get(r.id)!);
  }

  /** Stop following a source; the runs imported from it stay. */
  remove(id: number): boolean {
    return this.db.prepare('DELETE FROM sources WHERE id = ?').run(id).changes > 0;
  }

  setError(id: number, error: string | null): void {
    this.db.prepare('UPDATE sources SET last_error = ? WHERE id = ?').run(error, id);
  }

  runs(sourceId: number): SourceRunRow[] {
    return (this.db.prepare('SELECT * FROM source_runs WHERE source_id = ? ORDER BY folder').all(sourceId) as RawSourceRun[]).map(
      toSourceRun,
    );
  }

  runCount(sourceId: number): number {
    return (this.db.prepare('SELECT count(*) AS n FROM source_runs WHERE source_id = ?').get(sourceId) as { n: number }).n;
  }

  /** Images already imported into a run (SOURCE_MAX_IMAGES bounds them). */
  imageCount(runId: number): number {
    return (this.db.prepare("SELECT count(*) AS n FROM artifacts WHERE run_id = ? AND mime LIKE 'image/%'").get(runId) as { n: number }).n;
  }

  /** The source a run came from (its folder and source path), or null for runs the workbench trained itself. */
  sourceOfRun(runId: number): { sourceId: number; folder: string } | null {
    const r = this.db.prepare('SELECT source_id, folder FROM source_runs WHERE run_id = ?').get(runId) as
      { source_id: number; folder: string } | undefined;
    return r ? { sourceId: r.source_id, folder: r.folder } : null;
  }

  /** Every run that came from a watched source (for the "logged from Python" badge). */
  runIdsFromSources(): number[] {
    return (this.db.prepare('SELECT run_id FROM source_runs WHERE run_id IS NOT NULL').all() as { run_id: number }[]).map((r) => r.run_id);
  }

  /**
   * Record a new run folder as the run `write()` creates, in one immediate transaction; null when the folder was
   * recorded already (imported before, by this process or another).
   */
  claim(sourceId: number, folder: string, write: () => number): number | null {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT 1 FROM source_runs WHERE source_id = ? AND folder = ?').get(sourceId, folder);
        if (row) return null;
        const runId = write();
        this.db
          .prepare(
            "INSERT INTO source_runs (source_id, folder, run_id, offsets_json, state, updated_at) VALUES (?, ?, ?, '{}', 'running', ?)",
          )
          .run(sourceId, folder, runId, Date.now());
        return runId;
      })
      .immediate();
  }

  /**
   * Apply `write` (the rows of newly read lines) and move the folder's offsets from `from` to `to`, in one
   * transaction; nothing is written when another writer moved them meanwhile (returns false).
   */
  advance(sourceId: number, folder: string, from: SourceOffsets, to: SourceOffsets, state: string, write: () => void): boolean {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT offsets_json FROM source_runs WHERE source_id = ? AND folder = ?').get(sourceId, folder) as
          { offsets_json: string } | undefined;
        if (!row || row.offsets_json !== JSON.stringify(from)) return false;
        write();
        this.db
          .prepare('UPDATE source_runs SET offsets_json = ?, state = ?, updated_at = ? WHERE source_id = ? AND folder = ?')
          .run(JSON.stringify(to), state, Date.now(), sourceId, folder);
        return true;
      })
      .immediate();
  }

  refuse(sourceId: number, folder: string, reason: string): void {
    this.db
      .prepare('UPDATE source_runs SET refused = ?, updated_at = ? WHERE source_id = ? AND folder = ?')
      .run(reason.slice(0, 2000), Date.now(), sourceId, folder);
  }
}
