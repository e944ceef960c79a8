// Metrics renamed since earlier releases (src-shared/metric-labels.ts RENAMED_METRICS, e.g. test/fid, a Fréchet
// distance on a small classifier's features, is now test/fdClassifier): rows written under an old name are renamed
// when the database opens, in one transaction, and new points under an old name (an old bundle imported) are
// written under the new one. Not a schema migration (no table changes): it is cheap when there is nothing to rename
// (one indexed look-up per renamed metric) and safe to run again.
import type Database from 'better-sqlite3';
import { RENAMED_METRICS } from '@shared/metric-labels';

/** Rename the rows of every old metric name; returns how many runs had one. */
export function renameLegacyMetrics(db: Database.Database): number {
  let runs = 0;
  for (const [old, now] of Object.entries(RENAMED_METRICS)) {
    const any = db.prepare('SELECT 1 FROM run_final WHERE name = ? LIMIT 1').get(old);
    if (!any) continue;
    db.transaction(() => {
      const ids = db.prepare('SELECT run_id FROM run_final WHERE name = ?').pluck().all(old) as number[];
      runs += ids.length;
      const metrics = db.prepare('UPDATE OR REPLACE metrics SET name = ? WHERE run_id = ? AND name = ?');
      const final = db.prepare('UPDATE OR IGNORE run_final SET name = ? WHERE run_id = ? AND name = ?');
      const drop = db.prepare('DELETE FROM run_final WHERE run_id = ? AND name = ?');
      for (const id of ids) {
        metrics.run(now, id, old);
        final.run(now, id, old);
        drop.run(id, old); // left only where the run had both names: the current one wins
      }
    })();
  }
  return runs;
}
