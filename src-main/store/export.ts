// Export of runs (the runs table with flattened params and final metrics) and of raw metric points, as CSV
// (RFC 4180, csv.ts) or JSON.
import { limitError, LIMITS } from '@shared/limits';
import type { RunSummary } from '@shared/model-types';
import { toCsv, type CsvCell } from './csv';
import type { StoreDb } from './db';
import type { RunsRepo } from './runs-repo';
import { listRuns } from './runs-query';

const BASE = [
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

function runsJson(runs: RunSummary[], paramKeys: string[], finalKeys: string[]): string {
  const out = runs.map((r) => {
    const o: Record<string, unknown> = {};
    for (const k of BASE) o[k] = r[k];
    o.tags = r.tags;
    for (const k of paramKeys) o[`params.${k}`] = k in r.params ? r.params[k] : null;
    for (const k of finalKeys) o[`final.${k}`] = k in r.final ? r.final[k] : null;
    return o;
  });
  return JSON.stringify(out, null, 2);
}

function runsCsv(runs: RunSummary[], paramKeys: string[], finalKeys: string[]): string {
  const header = [...BASE, 'tags', ...paramKeys.map((k) => `params.${k}`), ...finalKeys.map((k) => `final.${k}`)];
  const rows: CsvCell[][] = runs.map((r) => [
    ...BASE.map((k) => r[k] as CsvCell),
    r.tags.join(';'),
    ...paramKeys.map((k) => (k in r.params ? r.params[k] : null)),
    ...finalKeys.map((k) => (k in r.final ? r.final[k] : null)),
  ]);
  return toCsv(header, rows);
}

export class RunExporter {
  constructor(
    private readonly sql: StoreDb,
    private readonly runs: RunsRepo,
  ) {}

  /**
   * The runs table (all runs, or the given ones in that order) with flattened params ("params.<key>") and final
   * metrics ("final.<metric>"). CSV: one header row, one row per run; JSON: an array of objects with the same keys
   * plus "tags" as an array.
   */
  exportRuns(format: 'csv' | 'json', runIds?: number[]): string {
    const runs = runIds
      ? runIds.map((id) => this.runs.getRun(id)).filter((r): r is RunSummary => r !== null)
      : listRuns(this.sql, { sort: { key: 'id', dir: 'asc' } }).runs;
    const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
    const finalKeys = [...new Set(runs.flatMap((r) => Object.keys(r.final)))].sort();
    // Bounded before it is built: every run has a cell per key of every run (~16 bytes each, more for names and notes).
    let estimate = runs.length * (BASE.length + 1 + paramKeys.length + finalKeys.length) * 16;
    for (const r of runs) estimate += r.name.length + r.notes.length + (r.error?.length ?? 0);
    if (estimate > LIMITS.EXPORT_MAX_BYTES) throw limitError('the runs export', estimate, 'EXPORT_MAX_BYTES', { unit: 'bytes' });
    return format === 'json' ? runsJson(runs, paramKeys, finalKeys) : runsCsv(runs, paramKeys, finalKeys);
  }

  /**
   * Raw metric points (not downsampled) of the runs: every metric, or the given ones. Rows ordered by run (as
   * given), metric name, step. CSV columns / JSON object keys: runId, runName, metric, step, epoch, time, value.
   */
  exportSeries(format: 'csv' | 'json', runIds: number[], metrics?: string[]): string {
    const header = ['runId', 'runName', 'metric', 'step', 'epoch', 'time', 'value'];
    const rows: [number, string, string, number, number, number, number][] = [];
    const read = this.sql
      .stmt(
        `SELECT m.run_id, r.name, m.name, m.step, m.epoch, m.time, m.value FROM metrics m JOIN runs r ON r.id = m.run_id
       WHERE m.run_id = ? AND (? IS NULL OR m.name IN (SELECT value FROM json_each(?))) ORDER BY m.name, m.step`,
      )
      .raw(true);
    const filter = metrics ? JSON.stringify(metrics) : null;
    let bytes = 0; // counted while reading (~80 bytes a row besides the names), refused before the text is built
    this.sql.db.transaction(() => {
      for (const id of runIds)
        for (const row of read.iterate(id, filter, filter)) {
          const r = row as (typeof rows)[number];
          bytes += 80 + r[1].length + r[2].length;
          if (bytes > LIMITS.EXPORT_MAX_BYTES) throw limitError('the series export', bytes, 'EXPORT_MAX_BYTES', { unit: 'bytes' });
          rows.push(r);
        }
    })();
    if (format === 'json') {
      return JSON.stringify(rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]]))));
    }
    return toCsv(header, rows);
  }
}
