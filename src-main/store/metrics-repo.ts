// Metric points and series: writing batches (one value per metric and step, run_final kept up to date), metric
// names, point counts, and series ranged on step / epoch / time and downsampled by min/max buckets (downsample.ts).
import { canonicalMetricName } from '@shared/metric-labels';
import type { MetricPoint, Series, SeriesPoint } from '@shared/model-types';
import type { StoreDb } from './db';
import { allPoints, minMaxIndices, stepBuckets, toPoint, type RawRow } from './downsample';
import type { RunBatch, SeriesOptions } from './types';

const X_COLUMNS = { step: 'step', epoch: 'epoch', time: 'time' } as const;
const BIG = 1.7976931348623157e308;

export class MetricsRepo {
  constructor(private readonly sql: StoreDb) {}

  /**
   * Up to this many times maxPoints raw points, reading every row and bucketing in JavaScript is cheaper than one
   * SQL query per bucket. Public for the benchmark and tests; 0 forces the SQL paths.
   */
  inMemoryFactor = 3;

  /** Insert batches of several runs in one transaction (what MetricWriter uses). Returns points written. */
  appendBatches(batches: readonly RunBatch[]): number {
    const insert = this.sql.stmt(
      `INSERT INTO metrics (run_id, name, step, epoch, time, value) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, name, step) DO UPDATE SET epoch = excluded.epoch, time = excluded.time, value = excluded.value`,
    );
    const upsertFinal = this.sql.stmt(
      `INSERT INTO run_final (run_id, name, value, step) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, step = excluded.step
       WHERE excluded.step >= run_final.step`,
    );
    return this.sql.db.transaction(() => {
      let written = 0;
      for (const { runId, points } of batches) {
        const last = new Map<string, MetricPoint>();
        for (const p of points) {
          if (!Number.isFinite(p.value)) continue;
          const name = canonicalMetricName(p.name); // an old bundle's test/fid lands as test/fdClassifier
          insert.run(runId, name, p.step, p.epoch, p.time, p.value);
          written++;
          const prev = last.get(name);
          if (!prev || p.step >= prev.step) last.set(name, name === p.name ? p : { ...p, name });
        }
        for (const p of last.values()) upsertFinal.run(runId, p.name, p.value, p.step);
      }
      return written;
    })();
  }

  /** Names of the metrics any of the runs has, sorted. */
  metricNames(runIds: number[]): string[] {
    return this.sql
      .stmt('SELECT DISTINCT name FROM run_final WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY name')
      .pluck()
      .all(JSON.stringify(runIds)) as string[];
  }

  /** Number of stored points of one metric of one run. */
  countPoints(runId: number, metric: string): number {
    return this.sql
      .stmt('SELECT count(*) FROM metrics WHERE run_id = ? AND name = ?')
      .pluck()
      .get(runId, canonicalMetricName(metric)) as number;
  }

  /**
   * One Series per requested run (empty points where the run lacks the metric), points ordered by x, restricted to
   * from <= x <= to, reduced to at most maxPoints by min/max buckets (first and last kept, every bucket's min and
   * max kept). `total` is the raw count in range, `downsampled` whether points were dropped.
   */
  series(runIds: number[], asked: string, opts: SeriesOptions): Series[] {
    const metric = canonicalMetricName(asked); // test/fid, asked by an older client, is test/fdClassifier
    const xcol = X_COLUMNS[opts.x];
    if (!xcol) throw new Error(`series: x must be step, epoch or time, got "${String(opts.x)}"`);
    const maxPoints = Math.floor(opts.maxPoints);
    if (!(maxPoints >= 1)) throw new Error(`series: maxPoints must be at least 1, got ${opts.maxPoints}`);
    const from = opts.from ?? -BIG;
    const to = opts.to ?? BIG;
    const count = this.sql.stmt(`SELECT count(*) FROM metrics WHERE run_id = ? AND name = ? AND ${xcol} BETWEEN ? AND ?`).pluck();
    const read = this.sql
      .stmt(
        `SELECT ${xcol}, step, epoch, time, value FROM metrics WHERE run_id = ? AND name = ? AND ${xcol} BETWEEN ? AND ?
       ORDER BY ${xcol === 'step' ? 'step' : `${xcol}, step`}`,
      )
      .raw(true);
    // One read transaction: the count and the rows come from the same snapshot.
    return this.sql.db.transaction(() =>
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
      this.sql
        .stmt(`SELECT ${cols}, value FROM metrics WHERE run_id = ? AND name = ? AND step BETWEEN ? AND ? ORDER BY step ${dir} LIMIT 1`)
        .raw(true)
        .get(runId, metric, from, to) as RawRow | undefined;
    const first = edge('ASC');
    const last = edge('DESC');
    if (!first || !last) return [];
    if (maxPoints === 1) return [toPoint(last)];
    const lowest = this.sql
      .stmt(`SELECT ${cols}, min(value) FROM metrics WHERE run_id = ? AND name = ? AND step >= ? AND step < ?`)
      .raw(true);
    const highest = this.sql
      .stmt(`SELECT ${cols}, max(value) FROM metrics WHERE run_id = ? AND name = ? AND step >= ? AND step < ?`)
      .raw(true);
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
    const values = this.sql.stmt(`SELECT value FROM metrics ${where}`).pluck().all(runId, metric, from, to) as number[];
    const steps = this.sql.stmt(`SELECT step FROM metrics ${where}`).pluck().all(runId, metric, from, to) as number[];
    const byStep = this.sql
      .stmt(`SELECT ${xcol}, step, epoch, time, value FROM metrics WHERE run_id = ? AND name = ? AND step = ?`)
      .raw(true);
    return minMaxIndices(values, maxPoints).map((i) => toPoint(byStep.get(runId, metric, steps[i]) as RawRow));
  }
}
