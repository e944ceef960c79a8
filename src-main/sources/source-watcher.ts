// Follows the watched sources: every scan (twice a second while a host serves the UI) lists each source folder,
// creates the run of every new run folder (a folder holding run.json, directly in the source or one project
// folder below it) and imports what each followed folder appended since the last scan, in bounded chunks, so the
// host's event loop is never held by a large folder. A folder that breaks a rule is refused (recorded with the
// reason, named in its run's log) and no longer read; the other folders go on.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SourceRow, SourcesRepo } from '../store/sources-repo';
import { UntrustedError } from '../os/untrusted';
import { listFolders, subFolder } from './folder-reader';
import { FILES } from './run-folder-format';
import { claimRunFolder, followRunFolder, type ImportTarget } from './run-folder-import';
import { LIMITS } from '@shared/limits';

export const SCAN_INTERVAL_MS = 500;

/** The run folders of a source, relative to it ("<run>" or "<project>/<run>"), at most SOURCE_MAX_RUNS. */
export function runFolders(root: string): string[] {
  const out: string[] = [];
  for (const name of listFolders(root)) {
    const dir = path.join(root, name);
    if (existsSync(path.join(dir, FILES.run))) out.push(name);
    else for (const inner of listFolders(dir)) if (existsSync(path.join(dir, inner, FILES.run))) out.push(`${name}/${inner}`);
    if (out.length > LIMITS.SOURCE_MAX_RUNS)
      throw new UntrustedError(`${root} holds more than ${LIMITS.SOURCE_MAX_RUNS} run folders (SOURCE_MAX_RUNS)`, 'SOURCE_MAX_RUNS');
  }
  return out;
}

/** The real folder of `rel` under root: each level a real folder (no symbolic link), or null when gone. */
function resolveFolder(root: string, rel: string): string | null {
  let dir: string | null = root;
  for (const part of rel.split('/')) {
    dir = subFolder(dir, part);
    if (!dir) return null;
  }
  return dir;
}

export class SourceWatcher {
  private timer: NodeJS.Timeout | null = null;
  private scanning = false;

  constructor(
    private readonly repo: SourcesRepo,
    private readonly target: ImportTarget,
  ) {}

  start(intervalMs = SCAN_INTERVAL_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.scanAll(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One scan of every source; returns how many folders had something new. Never throws. */
  scanAll(): number {
    if (this.scanning || !this.target.store.isOpen) return 0;
    this.scanning = true;
    let changed = 0;
    try {
      for (const source of this.repo.list()) changed += this.scanSource(source);
    } finally {
      this.scanning = false;
    }
    return changed;
  }

  scanSource(source: SourceRow): number {
    let changed = 0;
    try {
      if (!statSync(source.path).isDirectory()) throw new Error(`${source.path} is not a folder`);
      const known = new Map(this.repo.runs(source.id).map((r) => [r.folder, r]));
      for (const rel of runFolders(source.path)) {
        const dir = resolveFolder(source.path, rel);
        if (!dir) continue;
        try {
          if (!known.has(rel) && claimRunFolder(this.target, source.id, rel, dir) !== null) changed++;
        } catch (err) {
          this.setError(source, `${rel}: ${(err as Error).message}`);
        }
      }
      for (const row of this.repo.runs(source.id)) {
        const dir = row.runId !== null && !row.refused ? resolveFolder(source.path, row.folder) : null;
        if (!dir) continue;
        try {
          if (followRunFolder(this.target, row, dir)) changed++;
        } catch (err) {
          this.refuse(row.sourceId, row.folder, row.runId!, err as Error);
        }
      }
      if (source.lastError && changed) this.setError(source, null);
    } catch (err) {
      this.setError(source, (err as Error).message);
    }
    return changed;
  }

  /** Record a source's last problem, writing only when it changed (a broken folder is seen at every scan). */
  private setError(source: SourceRow, message: string | null): void {
    const text = message === null ? null : message.slice(0, 2000);
    if (source.lastError === text) return;
    this.repo.setError(source.id, text);
    source.lastError = text;
  }

  private refuse(sourceId: number, folder: string, runId: number, err: Error): void {
    const message = `stopped following ${folder}: ${err.message}`;
    this.repo.refuse(sourceId, folder, message);
    if (this.target.store.getRun(runId)) {
      this.target.store.log(runId, 'error', message);
      this.target.emit({ event: 'run.log', payload: { runId, time: Date.now(), level: 'error', message } });
    }
  }
}
