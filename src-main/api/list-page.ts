// One page of runs.list, bounded whatever the runs hold: at most LIMITS.LIST_MAX_PAGE_RUNS runs when the query
// names no limit, and at most LIMITS.LIST_MAX_RESPONSE_BYTES of JSON (runs past it are left for the next page, by
// offset; at least one run is sent, and `total` still counts every match so a client knows there is more).
import { LIMITS } from '@shared/limits';
import type { RunSummary } from '@shared/model-types';
import type { RunQuery } from '../store/types';

export function pageQuery<Q extends RunQuery>(query: Q): Q {
  return { ...query, limit: Math.min(query.limit ?? LIMITS.LIST_MAX_PAGE_RUNS, LIMITS.LIST_MAX_PAGE_RUNS) };
}

export function capPageBytes(page: { runs: RunSummary[]; total: number }, maxBytes: number = LIMITS.LIST_MAX_RESPONSE_BYTES) {
  let bytes = 0;
  for (let i = 0; i < page.runs.length; i++) {
    bytes += Buffer.byteLength(JSON.stringify(page.runs[i]));
    if (bytes > maxBytes && i > 0) return { runs: page.runs.slice(0, i), total: page.total };
  }
  return page;
}
