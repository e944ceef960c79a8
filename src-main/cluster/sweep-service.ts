// Cluster sweeps: submit a validated grid as one Slurm job array, follow its tasks, bring finished runs home,
// cancel. State lives in two places only: the local store (the sweep, its job id, each task's last known state
// and the run it was imported as) and the shared sweep folder (configs, task homes, logs, markers). A watcher
// that goes away and comes back re-reads both and carries on; nothing is kept only in memory.
import { ApiError } from '@shared/errors';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataHomeLayout } from '../store/data-home';
import type { RunStore } from '../store/run-store';
import { SweepRepo, type SweepRow, type SweepTaskRow } from '../store/sweep-repo';
import { sweepFolderName, sweepLayout } from './layout';
import { Slurm, type SlurmView } from './slurm';
import { renderSlurmScript, sbatchArgs, type TaskCommand } from './slurm-script';
import { isFinishedRun, probeTaskHome, readMarker, readTaskProgress, readTaskSeries, tailFile } from './task-home';
import { importTask, TaskImportError } from './task-import';
import { UntrustedError } from '../os/untrusted';
import { resolveTaskState } from './task-state';
import {
  FINAL_TASK_STATES,
  TASK_STATES,
  type SlurmOptions,
  type SweepDetail,
  type SweepSummary,
  type SweepTask,
} from '@shared/cluster-types';

export interface ClusterDeps {
  store: RunStore;
  layout: DataHomeLayout;
  appVersion: string;
  slurm?: Slurm;
  nativeBinding?: string;
  /** Called for every run imported, so hosts can announce it. */
  onImported?: (runId: number) => void;
}

export interface SubmitInput {
  name: string;
  spec: unknown;
  configs: Record<string, unknown>[];
  slurm: SlurmOptions;
  /** The shared base folder; the sweep gets its own folder inside. Default: <data home>/sweeps. */
  dir?: string;
  /** How tasks start the workbench; default: this node binary and this install's bin/vae-workbench.js. */
  command?: TaskCommand;
}

/** The start of a task's reason when its home broke the rule of untrusted sources and its run was refused. */
const NOT_IMPORTED = 'not imported: ';

/** A task that has left the queue without any trace is only called failed after this long (ms). */
const SETTLE_MS = 30_000;

/** This install's bin/vae-workbench.js: the folder above the build (out/main) or the sources (src-main/cluster). */
export function installedCli(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const bin = path.join(dir, 'bin', 'vae-workbench.js');
    if (existsSync(bin) && existsSync(path.join(dir, 'package.json'))) return bin;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find bin/vae-workbench.js above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

export function defaultTaskCommand(): TaskCommand {
  const env: Record<string, string> = {};
  for (const k of ['VAE_WORKBENCH_BACKEND', 'LANG', 'TZ']) if (process.env[k]) env[k] = process.env[k]!;
  const node = process.env.VAE_WORKBENCH_NODE || (process.versions.electron ? 'node' : process.execPath);
  return { node, cli: process.env.VAE_WORKBENCH_CLI || installedCli(), env };
}

/** A sweep's shared base folder: an absolute path (tasks on other nodes see no working directory), no NUL. */
function checkSweepDir(dir: string | undefined): void {
  if (dir === undefined) return;
  const bad = (why: string) => new ApiError('invalid_input', `dir: ${why}`, [{ path: 'dir', message: why }]);
  if (dir.includes('\0')) throw bad('the path holds a NUL character');
  if (!path.isAbsolute(dir)) throw bad(`"${dir}" is relative; give an absolute path on the shared file system`);
}

/** mkdir -p that says what it created first (or undefined), with a message naming the folder when it cannot. */
function makeDir(dir: string): string | undefined {
  try {
    return mkdirSync(dir, { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOTDIR' || e.code === 'EEXIST' ? 'a part of it is a file, not a folder' : (e.code ?? e.message);
    throw new ApiError('invalid_input', `dir: cannot create the sweep folder ${dir} (${why})`, [{ path: 'dir', message: why }]);
  }
}

export class ClusterSweeps {
  readonly repo: SweepRepo;
  private readonly slurm: Slurm;

  constructor(private readonly deps: ClusterDeps) {
    this.repo = new SweepRepo(deps.store.connection);
    this.slurm = deps.slurm ?? new Slurm();
  }

  /** Write the sweep folder and submit one job array; on any failure nothing is left (no row, no folder). */
  async submit(input: SubmitInput): Promise<SweepDetail> {
    checkSweepDir(input.dir);
    const options = { ...input.slurm, ...(input.dir ? { dir: input.dir } : {}) };
    const id = this.repo.create({ name: input.name, target: 'slurm', options, spec: input.spec, configs: input.configs });
    const base = input.dir ?? path.join(this.deps.layout.root, 'sweeps');
    const root = path.join(base, sweepFolderName(id, input.name));
    let created: string | undefined; // the first folder this submit created (base folders included), removed on failure
    try {
      const layout = sweepLayout(root);
      created = makeDir(root);
      for (const d of [layout.configsDir, layout.logsDir, layout.tasksDir]) mkdirSync(d, { recursive: true });
      input.configs.forEach((c, i) => writeFileSync(layout.config(i), JSON.stringify(c, null, 2)));
      const manifest = {
        name: input.name,
        sweepId: id,
        appVersion: this.deps.appVersion,
        tasks: input.configs.length,
        createdAt: new Date().toISOString(),
        slurm: input.slurm,
      };
      writeFileSync(layout.manifest, JSON.stringify(manifest, null, 2));
      const command = input.command ?? defaultTaskCommand();
      writeFileSync(layout.script, renderSlurmScript(layout, `vaewb-${id}`, input.configs.length, command), { mode: 0o755 });
      this.repo.setFolder(id, root);
      const jobId = await this.slurm.submit(layout.script, sbatchArgs(input.slurm, input.configs.length), root);
      this.repo.setJobId(id, jobId);
    } catch (err) {
      this.repo.remove(id);
      if (created) rmSync(created, { recursive: true, force: true });
      throw err;
    }
    return this.detail(this.mustGet(id), null);
  }

  list(): SweepSummary[] {
    return this.repo.list().map((s) => this.summary(s, this.repo.tasks(s.id)));
  }

  /** The last known state, without asking Slurm (cheap; the UI polls it). Live progress is read from the task homes. */
  status(id: number): SweepDetail {
    return this.detail(this.mustGet(id), null);
  }

  /** Ask Slurm, update every task's state, import every finished task not imported yet. */
  async sync(id: number): Promise<SweepDetail & { importedNow: number[] }> {
    const sweep = this.mustGet(id);
    const view: SlurmView = sweep.jobId ? await this.slurm.view(sweep.jobId) : { queue: null, known: new Map(), warning: 'no job id' };
    const layout = sweepLayout(sweep.dir);
    const settled = Date.now() - sweep.createdAt > SETTLE_MS;
    const importedNow: number[] = [];
    for (const task of this.repo.tasks(id)) {
      const log = tailFile(layout.root, layout.log(task.index), 40);
      const marker = readMarker(layout.root, layout.exitMarker(task.index));
      const r = resolveTaskState({
        previous: task.state,
        queued: view.queue?.get(task.index),
        queueKnown: view.queue !== null,
        remembered: view.known.get(task.index),
        marker,
        log,
        cancelRequested: task.cancelRequestedAt !== null,
        settled,
      });
      let reason = r.reason;
      if (marker !== null && task.importedAt === null) {
        const home = layout.taskHome(task.index);
        const { progress, problem } = probeTaskHome(home, `sweep ${sweep.id} task ${task.index}`, this.deps.nativeBinding, layout.root);
        if (problem) reason = `${NOT_IMPORTED}${problem}`;
        else if (isFinishedRun(progress)) {
          const imported = this.importOne(sweep, task.index, home);
          if (imported.runId !== null) importedNow.push(imported.runId);
          if (imported.problem) reason = `${NOT_IMPORTED}${imported.problem}`;
        } else if (!progress) reason = reason ?? 'the task ended before its run was created (see the log)';
        else reason = reason ?? `the task ended while its run was still ${progress.status}: not imported`;
      }
      this.repo.updateTask(id, task.index, {
        state: r.state,
        exitCode: r.exitCode,
        reason,
        logTail: tailFile(layout.root, layout.log(task.index), 20),
      });
    }
    return { ...this.detail(sweep, view.warning), importedNow };
  }

  async cancel(id: number, tasks?: number[]): Promise<{ cancelled: boolean }> {
    const sweep = this.mustGet(id);
    if (!sweep.jobId) return { cancelled: false };
    this.repo.markCancelRequested(id, tasks);
    await this.slurm.cancel(sweep.jobId, tasks);
    return { cancelled: true };
  }

  /** A metric of every task of the sweep, read from the task homes (live for running tasks). */
  series(id: number, metric: string, maxPoints: number): { index: number; points: { step: number; epoch: number; value: number }[] }[] {
    const layout = sweepLayout(this.mustGet(id).dir);
    return this.repo.tasks(id).map((t) => ({
      index: t.index,
      points: readTaskSeries(layout.taskHome(t.index), metric, maxPoints, this.deps.nativeBinding, layout.root),
    }));
  }

  /** Sync until every task has ended and every result that can come home is home. */
  async wait(
    id: number,
    opts: { intervalMs?: number; onUpdate?: (d: SweepDetail) => void; signal?: AbortSignal } = {},
  ): Promise<SweepDetail> {
    for (;;) {
      const d = await this.sync(id);
      opts.onUpdate?.(d);
      if (d.done || opts.signal?.aborted) return d;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 2000));
    }
  }

  /** Import one task; a task home that breaks the rule is not imported, and says why (the sync goes on). */
  private importOne(sweep: SweepRow, index: number, home: string): { runId: number | null; problem: string | null } {
    try {
      const runId = importTask(home, {
        store: this.deps.store,
        repo: this.repo,
        runsDir: this.deps.layout.runsDir,
        sweepId: sweep.id,
        index,
        nativeBinding: this.deps.nativeBinding,
        within: sweep.dir,
      });
      if (runId !== null) this.deps.onImported?.(runId);
      return { runId, problem: null };
    } catch (err) {
      if (err instanceof TaskImportError) return { runId: null, problem: null };
      // Anything else a hostile task home causes (it rolled back): recorded on the task, the sync goes on.
      return { runId: null, problem: err instanceof UntrustedError ? err.message : `import failed (${(err as Error).message})` };
    }
  }

  private mustGet(id: number): SweepRow {
    const s = this.repo.get(id);
    if (!s) throw new ApiError('not_found', `no sweep with id ${id}`);
    return s;
  }

  private summary(s: SweepRow, tasks: SweepTaskRow[]): SweepSummary {
    const counts: Record<string, number> = Object.fromEntries(TASK_STATES.map((k) => [k, 0]));
    for (const t of tasks) counts[t.state] = (counts[t.state] ?? 0) + 1;
    const imported = tasks.filter((t) => t.importedAt !== null).length;
    const done = tasks.every((t) => FINAL_TASK_STATES.includes(t.state) && (t.importedAt !== null || !this.canStillImport(s, t)));
    return {
      id: s.id,
      name: s.name,
      target: s.target,
      dir: s.dir,
      jobId: s.jobId,
      createdAt: s.createdAt,
      options: s.options,
      counts,
      imported,
      total: tasks.length,
      done,
    };
  }

  /** A final task whose marker exists and whose run reached a final status can (and will) be imported. */
  private canStillImport(s: SweepRow, t: SweepTaskRow): boolean {
    if (t.reason?.startsWith(NOT_IMPORTED)) return false; // refused: it will not come home by syncing again
    const layout = sweepLayout(s.dir);
    return (
      readMarker(layout.root, layout.exitMarker(t.index)) !== null &&
      isFinishedRun(readTaskProgress(layout.taskHome(t.index), this.deps.nativeBinding, layout.root))
    );
  }

  private detail(s: SweepRow, warning: string | null): SweepDetail {
    const rows = this.repo.tasks(s.id);
    const layout = sweepLayout(s.dir);
    const tasks: SweepTask[] = rows.map((t) => {
      const p = t.state === 'running' ? readTaskProgress(layout.taskHome(t.index), this.deps.nativeBinding, layout.root) : null;
      return {
        index: t.index,
        name: t.name,
        state: t.state,
        exitCode: t.exitCode,
        reason: t.reason,
        logTail: t.logTail,
        runId: t.runId,
        step: p?.step ?? 0,
        epoch: p?.epoch ?? 0,
      };
    });
    return { ...this.summary(s, rows), tasks, warning };
  }
}
