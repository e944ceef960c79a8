// The runs view's filters and sort as one runs.list query: the store is the one query engine (UI, CLI, web host).
import type { CallInput } from '@shared/contract';
import type { RunStatus } from '@shared/model-types';

export type ListQuery = Exclude<CallInput<'runs.list'>, undefined>;

export interface RunsFilter {
  text: string;
  status: RunStatus | '';
  tag: string;
  rangeKey: string;
  rangeMin: string;
  rangeMax: string;
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
  if (f.rangeKey) {
    const min = num(f.rangeMin);
    const max = num(f.rangeMax);
    q.params = [{ key: f.rangeKey, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }];
  }
  return q;
}

export function isFiltered(f: RunsFilter): boolean {
  return !!(f.text.trim() || f.status || f.tag || f.rangeKey);
}

/** Pages [first, last] (inclusive, of `size` rows) that cover rows [from, to). */
export function pagesFor(from: number, to: number, size: number, total: number): number[] {
  const lo = Math.max(0, Math.floor(Math.max(0, from) / size));
  const hi = Math.floor((Math.min(total, to) - 1) / size);
  const out: number[] = [];
  for (let p = lo; p <= hi; p++) out.push(p);
  return out;
}
