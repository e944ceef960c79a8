// What the sources.* calls do: register a folder as a watched source (it must exist and be a folder; it is
// scanned at once), list the sources with their run counts and last error, stop following one (its runs stay),
// and scan on demand (the CLI, tests). The periodic scan runs while a host serves the UI (SourceWatcher).
import { realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { ApiError } from '@shared/errors';
import type { WorkbenchEvent } from '@shared/contract';
import type { RunStore } from '../store/run-store';
import { SourcesRepo, type SourceRow } from '../store/sources-repo';
import { SourceWatcher } from './source-watcher';

export interface SourceSummary {
  id: number;
  path: string;
  kind: 'python';
  addedAt: number;
  runs: number;
  lastError: string | null;
}

export interface WatchedSourcesOptions {
  store: RunStore;
  runsDir: string;
  dataHome: string;
  appVersion: string;
  emit: (e: WorkbenchEvent) => void;
}

export class WatchedSources {
  private readonly repo: SourcesRepo;
  readonly watcher: SourceWatcher;

  constructor(o: WatchedSourcesOptions) {
    this.repo = new SourcesRepo(o.store.connection);
    this.watcher = new SourceWatcher(this.repo, { ...o, repo: this.repo });
  }

  private summary(s: SourceRow): SourceSummary {
    return { ...s, runs: this.repo.runCount(s.id) };
  }

  add(dir: string): SourceSummary {
    const abs = path.resolve(dir);
    let real: string;
    try {
      real = realpathSync(abs);
      if (!statSync(real).isDirectory()) throw new Error('not a folder');
    } catch (err) {
      throw new ApiError('invalid_input', `sources.add: ${abs} is not an existing folder (${(err as Error).message})`, [
        { path: 'path', message: 'must be an existing folder' },
      ]);
    }
    const source = this.repo.add(real);
    this.watcher.scanSource(source);
    return this.summary(this.repo.get(source.id)!);
  }

  list(): SourceSummary[] {
    return this.repo.list().map((s) => this.summary(s));
  }

  remove(id: number): { removed: boolean } {
    return { removed: this.repo.remove(id) };
  }

  /** Scan now (every source, or one); how many run folders had something new. */
  scan(id?: number): { changed: number } {
    if (id === undefined) return { changed: this.watcher.scanAll() };
    const source = this.repo.get(id);
    if (!source) throw new ApiError('not_found', `no source with id ${id}`);
    return { changed: this.watcher.scanSource(source) };
  }

  /** The source a run was logged from, or null. */
  sourceOfRun(runId: number): { sourceId: number; folder: string } | null {
    return this.repo.sourceOfRun(runId);
  }

  start(): void {
    this.watcher.start();
  }

  stop(): void {
    this.watcher.stop();
  }
}
