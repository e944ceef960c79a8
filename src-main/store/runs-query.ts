// The one query engine of the runs view, the CLI and the web host: listRuns() with its filters (ids, status, tag,
// text search, hyperparameter ranges and equality, final-metric comparisons), sort (a column, params.<key>, final.<metric>), paging and the
// total before paging. The SQL is built from fragments here; the rows are hydrated by run-rows.ts.
import type { RunSummary } from '@shared/model-types';
import type { StoreDb } from './db';
import { hydrate, type RunRow } from './run-rows';
import { RunQueryError, type MetricFilter, type ParamFilter, type RunQuery } from './types';

const SORT_COLUMNS: Record<string, string> = {
  id: 'r.id',
  name: 'r.name COLLATE NOCASE',
  status: 'r.status',
  createdAt: 'r.created_at',
  created_at: 'r.created_at',
  startedAt: 'r.started_at',
  started_at: 'r.started_at',
  finishedAt: 'r.finished_at',
  finished_at: 'r.finished_at',
  dataset: 'r.dataset',
  backend: 'r.backend',
  seed: 'r.seed',
  step: 'r.last_step',
  epoch: 'r.last_epoch',
  appVersion: 'r.app_version',
  app_version: 'r.app_version',
};

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface Where {
  where: string[];
  args: (string | number)[];
}

// every word must match the name, notes, dataset or a tag (substring), or be the id ("12" or "#12")
function addTextFilter(w: Where, text: string | undefined): void {
  for (const word of text?.trim().split(/\s+/).filter(Boolean) ?? []) {
    const like = `%${escapeLike(word)}%`;
    const idText = word.replace(/^#/, '');
    const id = /^\d+$/.test(idText) ? Number(idText) : -1;
    w.where.push(
      "(r.name LIKE ? ESCAPE '\\' OR r.notes LIKE ? ESCAPE '\\' OR r.dataset LIKE ? ESCAPE '\\' OR r.id = ? OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.tag LIKE ? ESCAPE '\\'))",
    );
    w.args.push(like, like, like, id, like);
  }
}

function addEquals(conds: string[], fargs: (string | number)[], e: string | number | boolean): void {
  if (typeof e === 'number') {
    conds.push('p.value_num = ?');
    fargs.push(e);
  } else if (typeof e === 'boolean') {
    conds.push('p.value_num = ?');
    fargs.push(e ? 1 : 0);
  } else if (e.trim() !== '' && Number.isFinite(Number(e))) {
    conds.push('(p.value_text = ? OR p.value_num = ?)');
    fargs.push(e, Number(e));
  } else {
    conds.push('p.value_text = ?');
    fargs.push(e);
  }
}

function addParamFilter(w: Where, f: ParamFilter): void {
  const conds = ['p.key = ?'];
  const fargs: (string | number)[] = [f.key];
  if (f.min !== undefined) {
    conds.push('p.value_num >= ?');
    fargs.push(f.min);
  }
  if (f.max !== undefined) {
    conds.push('p.value_num <= ?');
    fargs.push(f.max);
  }
  if (f.equals !== undefined) addEquals(conds, fargs, f.equals);
  // uncorrelated: the matching run ids are found once through run_params(key, value_*) (a correlated EXISTS let the
  // planner, before ANALYZE, scan that index once per run: seconds at 10,000 runs)
  w.where.push(`r.id IN (SELECT p.run_id FROM run_params p WHERE ${conds.join(' AND ')})`);
  w.args.push(...fargs);
}

const METRIC_OPS: Record<MetricFilter['op'], string> = { '<': '<', '<=': '<=', '>': '>', '>=': '>=', '=': '=', '!=': '<>' };

// the last value of a metric (run_final, indexed by (name, value)), found once for all runs like the params filters
function addMetricFilter(w: Where, f: MetricFilter): void {
  const op = Object.hasOwn(METRIC_OPS, f.op) ? METRIC_OPS[f.op] : undefined;
  if (!op)
    throw new RunQueryError(`metrics filter on "${f.key}": unknown operator "${String(f.op)}" (use ${Object.keys(METRIC_OPS).join(' ')})`);
  if (!Number.isFinite(f.value)) throw new RunQueryError(`metrics filter on "${f.key}": the value must be a finite number`);
  w.where.push(`r.id IN (SELECT f.run_id FROM run_final f WHERE f.name = ? AND f.value ${op} ?)`);
  w.args.push(f.key, f.value);
}

/** The WHERE clause (or '') and its arguments for the query's filters. */
function whereClause(query: RunQuery): { whereSql: string; args: (string | number)[] } {
  const w: Where = { where: [], args: [] };
  if (query.ids) {
    w.where.push('r.id IN (SELECT value FROM json_each(?))');
    w.args.push(JSON.stringify(query.ids));
  }
  if (query.status?.length) {
    w.where.push('r.status IN (SELECT value FROM json_each(?))');
    w.args.push(JSON.stringify(query.status));
  }
  if (query.tag) {
    w.where.push('r.id IN (SELECT t.run_id FROM run_tags t WHERE t.tag = ?)');
    w.args.push(query.tag);
  }
  addTextFilter(w, query.text);
  for (const f of query.params ?? []) addParamFilter(w, f);
  for (const f of query.metrics ?? []) addMetricFilter(w, f);
  return { whereSql: w.where.length ? `WHERE ${w.where.join(' AND ')}` : '', args: w.args };
}

/** The join (for params.<key> / final.<metric>) and ORDER BY of the query's sort; missing values sort last. */
function orderClause(query: RunQuery): { join: string; joinArgs: string[]; order: string } {
  const dir = query.sort?.dir === 'asc' ? 'ASC' : 'DESC';
  const key = query.sort?.key ?? 'createdAt';
  if (key.startsWith('params.')) {
    return {
      join: 'LEFT JOIN run_params sp ON sp.run_id = r.id AND sp.key = ?',
      joinArgs: [key.slice('params.'.length)],
      order: `(sp.value_num IS NULL AND sp.value_text IS NULL), sp.value_num ${dir}, sp.value_text ${dir}, r.id ${dir}`,
    };
  }
  if (key.startsWith('final.')) {
    return {
      join: 'LEFT JOIN run_final sf ON sf.run_id = r.id AND sf.name = ?',
      joinArgs: [key.slice('final.'.length)],
      order: `(sf.value IS NULL), sf.value ${dir}, r.id ${dir}`,
    };
  }
  const col = Object.hasOwn(SORT_COLUMNS, key) ? SORT_COLUMNS[key] : undefined;
  if (typeof col !== 'string')
    throw new RunQueryError(
      `cannot sort runs by "${key}": use a column (${Object.keys(SORT_COLUMNS).join(', ')}), params.<key> or final.<metric>`,
    );
  return { join: '', joinArgs: [], order: `(${col.split(' ')[0]} IS NULL), ${col} ${dir}, r.id ${dir}` };
}

/** The ids of every run matching the query's filters (no paging, no sort: ascending id) — a selection "by filter". */
export function matchingRunIds(sql: StoreDb, query: RunQuery): number[] {
  const { whereSql, args } = whereClause(query);
  return (sql.stmt(`SELECT r.id FROM runs r ${whereSql} ORDER BY r.id`).all(...args) as { id: number }[]).map((r) => r.id);
}

/** One page of runs matching the query, and how many match in all (before paging). */
export function listRuns(sql: StoreDb, query: RunQuery = {}): { runs: RunSummary[]; total: number } {
  const { whereSql, args } = whereClause(query);
  const total = (sql.stmt(`SELECT count(*) AS n FROM runs r ${whereSql}`).get(...args) as { n: number }).n;
  const { join, joinArgs, order } = orderClause(query);
  const limit = query.limit !== undefined && query.limit >= 0 ? Math.floor(query.limit) : -1;
  const offset = query.offset !== undefined && query.offset > 0 ? Math.floor(query.offset) : 0;
  const rows = sql
    .stmt(`SELECT r.* FROM runs r ${join} ${whereSql} ORDER BY ${order} LIMIT ? OFFSET ?`)
    .all(...joinArgs, ...args, limit, offset) as RunRow[];
  return { runs: hydrate(sql, rows), total };
}
