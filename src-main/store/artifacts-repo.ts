// Sample images and other artifacts of a run (PNG blobs with their meta JSON): add, list, read, and the epochs at
// which runs have an artifact of a kind.
import type { ArtifactKind, ArtifactMeta } from '@shared/model-types';
import type { StoreDb } from './db';
import { parseJsonObject, type NewArtifact } from './types';

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

export class ArtifactsRepo {
  constructor(private readonly sql: StoreDb) {}

  addArtifact(runId: number, a: NewArtifact): ArtifactMeta {
    const createdAt = Date.now();
    const data = Buffer.isBuffer(a.data) ? a.data : Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    const info = this.sql
      .stmt(
        `INSERT INTO artifacts (run_id, kind, epoch, step, mime, width, height, meta, data, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(runId, a.kind, a.epoch, a.step, a.mime, a.width, a.height, JSON.stringify(a.meta ?? {}), data, createdAt);
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
    const rows = this.sql
      .stmt(
        `SELECT id, run_id, kind, epoch, step, mime, width, height, meta, created_at FROM artifacts
       WHERE run_id = ? AND (? IS NULL OR kind = ?) AND (? IS NULL OR epoch = ?) ORDER BY epoch, id`,
      )
      .all(runId, filter.kind ?? null, filter.kind ?? null, filter.epoch ?? null, filter.epoch ?? null) as ArtifactRow[];
    return rows.map((r) => this.artifactMeta(r));
  }

  /** An artifact by id; none for a run deleted while its rows are still being purged (store/run-purge.ts). */
  getArtifact(id: number): ArtifactMeta | null {
    const r = this.sql
      .stmt(
        `SELECT id, run_id, kind, epoch, step, mime, width, height, meta, created_at FROM artifacts
         WHERE id = ? AND run_id IN (SELECT id FROM runs)`,
      )
      .get(id) as ArtifactRow | undefined;
    return r ? this.artifactMeta(r) : null;
  }

  getArtifactData(id: number): { mime: string; data: Buffer } | null {
    const r = this.sql.stmt('SELECT mime, data FROM artifacts WHERE id = ? AND run_id IN (SELECT id FROM runs)').get(id) as
      { mime: string; data: Buffer } | undefined;
    return r ?? null;
  }

  /** The epochs (sorted, distinct) at which any of the runs has an artifact of this kind. */
  artifactEpochs(runIds: number[], kind: ArtifactKind): number[] {
    return this.sql
      .stmt('SELECT DISTINCT epoch FROM artifacts WHERE run_id IN (SELECT value FROM json_each(?)) AND kind = ? ORDER BY epoch')
      .pluck()
      .all(JSON.stringify(runIds), kind) as number[];
  }
}
