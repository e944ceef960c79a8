// The Runs table's rows of the current query, fetched a page at a time as the virtual list scrolls: which pages a
// window of rows needs, one request per page at a time, answers of an older query dropped, a new query starting from
// an empty table (so no row of the old query survives beyond the new first page), a live refresh keeping the rows it
// has until their pages answer again, and one row replaced in place. Pure TypeScript: the fetch is handed in.
import type { RunSummary } from '@shared/model-types';
import { pagesFor } from './runs-query';

export type FetchPage = (offset: number, limit: number) => Promise<{ runs: RunSummary[]; total: number }>;

export interface PageAnswer {
  /** The rows by index after this answer (a new array: undefined = not fetched yet); its length is the total. */
  rows: (RunSummary | undefined)[];
  total: number;
  runs: RunSummary[];
  ms: number;
  generation: number;
}

export class RunsPageCache {
  rows: (RunSummary | undefined)[] = [];
  total = 0;
  /** Bumped by every new query or refresh; a page answer for an older one is dropped. */
  private generation = 0;
  /** The rows are of an older query: the next answer starts from an empty table. */
  private stale = false;
  private readonly pending = new Set<number>();

  constructor(
    private readonly fetch: FetchPage,
    private readonly onAnswer: (a: PageAnswer) => void,
    private readonly onError: (err: unknown) => void,
    readonly pageSize = 100,
  ) {}

  /** Fetch one page of the current query (nothing when it is already on its way). */
  async fetchPage(page: number, gen = this.generation): Promise<void> {
    if (this.pending.has(page)) return;
    this.pending.add(page);
    const t0 = performance.now();
    try {
      const res = await this.fetch(page * this.pageSize, this.pageSize);
      if (gen !== this.generation) return;
      const next = this.stale ? [] : this.rows.slice();
      this.stale = false;
      next.length = res.total;
      res.runs.forEach((r, i) => (next[page * this.pageSize + i] = r));
      this.rows = next;
      this.total = res.total;
      this.onAnswer({ rows: next, total: res.total, runs: res.runs, ms: performance.now() - t0, generation: gen });
    } catch (err) {
      if (gen === this.generation) this.onError(err);
    } finally {
      this.pending.delete(page);
    }
  }

  /** The pages rows [first, last) need that hold a row not fetched yet. */
  missingPages(first: number, last: number): number[] {
    return pagesFor(first, last, this.pageSize, this.total).filter((p) => {
      const end = Math.min(this.total, (p + 1) * this.pageSize);
      for (let i = p * this.pageSize; i < end; i++) if (!this.rows[i]) return true;
      return false;
    });
  }

  /** Fetch what the window [first, last) lacks. */
  ensure(first: number, last: number): void {
    for (const p of this.missingPages(first, last)) void this.fetchPage(p);
  }

  /** A new query (filters or sort changed): from its first page, on an empty table once that answers. */
  reset(): Promise<void> {
    this.generation++;
    this.pending.clear();
    this.stale = true;
    return this.fetchPage(0);
  }

  /** The store changed (a run created, finished, deleted): fetch the pages of the window again, keeping the rows meanwhile. */
  refresh(first: number, last: number): void {
    this.generation++;
    this.pending.clear();
    const gen = this.generation;
    const pages = pagesFor(first, last, this.pageSize, Math.max(this.total, this.pageSize));
    // an empty table has no window yet: its first page is the one a new run lands on
    for (const p of pages.length ? pages : [0]) void this.fetchPage(p, gen);
  }

  /** Replace one fetched row (a new array, so a view redraws only what changed); null when it is not fetched. */
  patch(id: number, f: (r: RunSummary) => RunSummary): (RunSummary | undefined)[] | null {
    const i = this.rows.findIndex((x) => x?.id === id);
    if (i < 0) return null;
    const next = this.rows.slice();
    next[i] = f(this.rows[i]!);
    this.rows = next;
    return next;
  }

  /** The query generation the last answer belongs to (for tests and diagnostics). */
  get currentGeneration(): number {
    return this.generation;
  }
}
