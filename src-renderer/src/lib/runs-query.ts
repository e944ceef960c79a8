// The runs view's filters and sort as one runs.list query: the store is the one query engine (UI, CLI, web host).
import { METRIC_FILTER_OPS, type CallInput, type MetricFilter } from '@shared/contract';
import type { RunStatus } from '@shared/model-types';

export type ListQuery = Exclude<CallInput<'runs.list'>, undefined>;

export interface RunsFilter {
  text: string;
  status: RunStatus | '';
  tag: string;
  rangeKey: string;
  rangeMin: string;
  rangeMax: string;
  /** Final-metric conditions as typed: `test/loss < 130, test/activeUnits >= 5`. */
  metricText: string;
  sortKey: string;
  sortDir: 'asc' | 'desc';
  /** Whether sortKey is a hyperparameter, a final metric or a run column. */
  sortKind: 'meta' | 'param' | 'final';
}

/** Run columns the store sorts by directly. */
const META_SORT = new Set(['id', 'name', 'status', 'createdAt', 'startedAt', 'finishedAt', 'dataset', 'backend', 'seed', 'step', 'epoch']);

export function sortKeyOf(key: string, kind: RunsFilter['sortKind']): string {
  if (kind === 'param') return `params.${key}`;
  if (kind === 'final') return `final.${key}`;
  return META_SORT.has(key) ? key : 'id';
}

function num(s: string): number | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

/** The query (without paging) for a filter state. */
export function toQuery(f: RunsFilter): ListQuery {
  const q: ListQuery = { sort: { key: sortKeyOf(f.sortKey, f.sortKind), dir: f.sortDir } };
  if (f.text.trim()) q.text = f.text.trim();
  if (f.status) q.status = [f.status];
  if (f.tag) q.tag = f.tag;
  const metrics = parseMetricFilters(f.metricText);
  if (metrics.filters.length && !metrics.error) q.metrics = metrics.filters;
  if (f.rangeKey) {
    const min = num(f.rangeMin);
    const max = num(f.rangeMax);
    q.params = [{ key: f.rangeKey, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }];
  }
  return q;
}

export function isFiltered(f: RunsFilter): boolean {
  return !!(f.text.trim() || f.status || f.tag || f.rangeKey || parseMetricFilters(f.metricText).filters.length);
}

const OPS_LONGEST_FIRST = [...METRIC_FILTER_OPS].sort((a, b) => b.length - a.length);

/**
 * Metric conditions typed as `test/loss < 130, test/activeUnits >= 5` (separated by commas, `;` or `and`) into
 * runs.list `metrics` filters; `error` names the first condition that is not `<metric> <op> <number>`.
 */
export function parseMetricFilters(text: string): { filters: MetricFilter[]; error: string | null } {
  const parts = text
    .split(/\s*(?:,|;|\band\b|&&)\s*/i)
    .map((p) => p.trim())
    .filter(Boolean);
  const filters: MetricFilter[] = [];
  for (const part of parts) {
    const op = OPS_LONGEST_FIRST.find((o) => part.includes(o));
    const at = op ? part.indexOf(op) : -1;
    const key = op ? part.slice(0, at).trim() : '';
    const value = op ? Number(part.slice(at + op.length).trim()) : NaN;
    if (!op || !key || /\s/.test(key) || part.slice(at + op.length).trim() === '' || !Number.isFinite(value))
      return {
        filters,
        error: `“${part}”: write a condition as <metric> <op> <number>, e.g. test/loss < 130 (ops: ${METRIC_FILTER_OPS.join(' ')})`,
      };
    filters.push({ key, op: op as MetricFilter['op'], value });
  }
  return { filters, error: null };
}

/** Pages [first, last] (inclusive, of `size` rows) that cover rows [from, to). */
export function pagesFor(from: number, to: number, size: number, total: number): number[] {
  const lo = Math.max(0, Math.floor(Math.max(0, from) / size));
  const hi = Math.floor((Math.min(total, to) - 1) / size);
  const out: number[] = [];
  for (let p = lo; p <= hi; p++) out.push(p);
  return out;
}
