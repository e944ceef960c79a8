// Checkpoint references of a run (the files live on disk; the store keeps their path, size and metrics): add, list,
// read, remove (the caller deletes the directory).
import type { CheckpointMeta } from '@shared/model-types';
import type { StoreDb } from './db';
import { parseJsonObject, type NewCheckpoint } from './types';

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

export class CheckpointsRepo {
  constructor(private readonly sql: StoreDb) {}

  addCheckpoint(runId: number, c: NewCheckpoint): CheckpointMeta {
    const createdAt = Date.now();
    const info = this.sql
      .stmt(`INSERT INTO checkpoints (run_id, epoch, step, tag, path, bytes, metrics, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(runId, c.epoch, c.step, c.tag, c.path, c.bytes, JSON.stringify(c.metrics ?? {}), createdAt);
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
    return (this.sql.stmt('SELECT * FROM checkpoints WHERE run_id = ? ORDER BY step, id').all(runId) as CheckpointRow[]).map((r) =>
      this.checkpointMeta(r),
    );
  }

  getCheckpoint(id: number): CheckpointMeta | null {
    const r = this.sql.stmt('SELECT * FROM checkpoints WHERE id = ?').get(id) as CheckpointRow | undefined;
    return r ? this.checkpointMeta(r) : null;
  }

  /** Remove the checkpoint's row; returns what it was (the caller removes the file at .path), or null. */
  removeCheckpoint(id: number): CheckpointMeta | null {
    return this.sql.db.transaction(() => {
      const c = this.getCheckpoint(id);
      if (c) this.sql.stmt('DELETE FROM checkpoints WHERE id = ?').run(id);
      return c;
    })();
  }
}
