// Deleting a run without blocking its process: `detach` removes the run's row and its small rows (tags, params,
// final values, checkpoint rows, links from other tables) in one short transaction, and queues the run in
// `run_purges` in that same transaction; its bulk rows (metrics, artifacts, log: up to 1,000,000 metric points)
// are then deleted by `step`, a bounded number of rows per transaction, which the service runs between other work
// (api/run-purger.ts). So a deleted run disappears at once (no query joins to a run that is gone: every read of
// these tables is by a run id the caller got from `runs`, and an artifact by id is checked against `runs`), and a
// crash midway leaves a queue entry that the next start finishes. Foreign keys are off only for the one detach
// transaction (PRAGMA foreign_keys cannot change inside a transaction); the actions they would have taken on the
// small tables (CASCADE, SET NULL) are done by hand, read from the schema so a new table is covered too.
import type { StoreDb } from './db';

/** The tables whose rows of a deleted run are deleted in chunks afterwards (the only ones that grow large). */
const BULK_TABLES = ['metrics', 'artifacts', 'run_log'] as const;
type BulkTable = (typeof BULK_TABLES)[number];

/**
 * Per bulk table: delete at most `quota` rows of run `runId` in index order, and return how many. Each is a range
 * on the table's index up to the quota-th row's key (a row-value IN list over the clustered metrics key costs 6x).
 */
const CHUNK_DELETE: Record<BulkTable, { last: string; upTo: string }> = {
  metrics: {
    last: 'SELECT name, step FROM metrics WHERE run_id = ? ORDER BY name, step LIMIT 1 OFFSET ?',
    upTo: 'DELETE FROM metrics WHERE run_id = ? AND (name, step) <= (?, ?)',
  },
  artifacts: {
    last: 'SELECT id FROM artifacts WHERE run_id = ? ORDER BY id LIMIT 1 OFFSET ?',
    upTo: 'DELETE FROM artifacts WHERE run_id = ? AND id <= ?',
  },
  run_log: {
    last: 'SELECT id FROM run_log WHERE run_id = ? ORDER BY id LIMIT 1 OFFSET ?',
    upTo: 'DELETE FROM run_log WHERE run_id = ? AND id <= ?',
  },
};
const DELETE_REST: Record<BulkTable, string> = {
  metrics: 'DELETE FROM metrics WHERE run_id = ?',
  artifacts: 'DELETE FROM artifacts WHERE run_id = ?',
  run_log: 'DELETE FROM run_log WHERE run_id = ?',
};
/** An artifact row holds an image (kilobytes): fewer of them per chunk. */
const ROWS_PER_UNIT: Record<BulkTable, number> = { metrics: 1, artifacts: 1 / 16, run_log: 1 };

interface ForeignKey {
  table: string;
  column: string;
  onDelete: string;
}

export class RunPurge {
  private keys: ForeignKey[] | null = null;

  constructor(private readonly sql: StoreDb) {}

  /** Every column of another table that references runs(id), with its ON DELETE action. */
  private foreignKeys(): ForeignKey[] {
    this.keys ??= this.sql.db
      .prepare(
        `SELECT m.name AS "table", f."from" AS "column", f.on_delete AS onDelete
         FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND f."table" = 'runs'`,
      )
      .all() as ForeignKey[];
    return this.keys;
  }

  /**
   * Delete run `id` at once but for its bulk rows, which are queued for `step`. Returns its checkpoint paths (for the
   * caller to remove). Inside an open transaction (foreign keys cannot be switched there) it deletes everything.
   */
  detach(id: number): { deleted: boolean; removedPaths: string[] } {
    const paths = () =>
      (this.sql.stmt('SELECT path FROM checkpoints WHERE run_id = ? ORDER BY id').all(id) as { path: string }[]).map((r) => r.path);
    if (this.sql.db.inTransaction) {
      const removed = paths();
      const deleted = this.sql.stmt('DELETE FROM runs WHERE id = ?').run(id).changes > 0;
      return { deleted, removedPaths: deleted ? removed : [] };
    }
    const keys = this.foreignKeys();
    this.sql.db.pragma('foreign_keys = OFF');
    try {
      return this.sql.transaction(() => {
        if (!this.sql.stmt('SELECT 1 FROM runs WHERE id = ?').get(id)) return { deleted: false, removedPaths: [] };
        const removed = paths();
        for (const k of keys) {
          if ((BULK_TABLES as readonly string[]).includes(k.table)) continue;
          if (k.onDelete === 'CASCADE') this.sql.stmt(`DELETE FROM "${k.table}" WHERE "${k.column}" = ?`).run(id);
          else if (k.onDelete === 'SET NULL') this.sql.stmt(`UPDATE "${k.table}" SET "${k.column}" = NULL WHERE "${k.column}" = ?`).run(id);
        }
        this.sql.stmt('INSERT OR IGNORE INTO run_purges (run_id, queued_at) VALUES (?, ?)').run(id, Date.now());
        this.sql.stmt('DELETE FROM runs WHERE id = ?').run(id);
        return { deleted: true, removedPaths: removed };
      });
    } finally {
      this.sql.db.pragma('foreign_keys = ON');
    }
  }

  /** Delete at most `quota` rows of the run from `table`; how many went. */
  private deleteChunk(table: BulkTable, runId: number, quota: number): number {
    const q = CHUNK_DELETE[table];
    const last = this.sql
      .stmt(q.last)
      .raw()
      .get(runId, quota - 1) as unknown[] | undefined;
    if (!last) return this.sql.stmt(DELETE_REST[table]).run(runId).changes; // fewer than quota left
    return this.sql.stmt(q.upTo).run(runId, ...last).changes;
  }

  /** Runs whose bulk rows are still being deleted. */
  pending(): number {
    return this.sql.stmt('SELECT count(*) FROM run_purges').pluck().get() as number;
  }

  /**
   * Delete at most about `rows` bulk rows of the oldest queued run in one transaction; a run with none left leaves
   * the queue. Returns the rows deleted and whether the queue is empty now.
   */
  step(rows: number): { rows: number; done: boolean } {
    return this.sql.transaction(() => {
      const runId = this.sql.stmt('SELECT run_id FROM run_purges ORDER BY queued_at, run_id LIMIT 1').pluck().get() as number | undefined;
      if (runId === undefined) return { rows: 0, done: true };
      let deleted = 0;
      for (const table of BULK_TABLES) {
        if (rows - deleted <= 0) return { rows: deleted, done: false };
        const quota = Math.max(1, Math.floor((rows - deleted) * ROWS_PER_UNIT[table]));
        const n = this.deleteChunk(table, runId, quota);
        deleted += n / ROWS_PER_UNIT[table];
        if (n >= quota) return { rows: deleted, done: false }; // this table may have more: the next step goes on
      }
      this.sql.stmt('DELETE FROM run_purges WHERE run_id = ?').run(runId);
      return { rows: deleted, done: this.pending() === 0 };
    });
  }
}
