// Bring one finished task home: its run (config, status, metrics, samples, log) and its checkpoints, from the task's
// own data home on the shared folder into the local store, as one store transaction together with the record that
// the task is imported (SweepRepo.importOnce). The task home is untrusted: it is read through the read-only
// TaskHomeStore (bounded names, counts and sizes) and checkpoint folders are copied under the one rule
// (os/untrusted.ts: regular files inside the task home only). The files are copied to a staging folder first and
// moved into place inside the transaction, so a crash or a refusal leaves either nothing or the whole run.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { FINISHED_STATUSES } from '@shared/model-types';
import { copyRegularTree } from '../os/untrusted';
import type { RunStore } from '../store/run-store';
import type { SweepRepo } from '../store/sweep-repo';
import { TaskHomeStore, type TaskCheckpointRow, type TaskRunRecord } from '../store/task-home-store';

export class TaskImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskImportError';
  }
}

export interface TaskImportTarget {
  store: RunStore;
  repo: SweepRepo;
  runsDir: string;
  sweepId: number;
  index: number;
  nativeBinding?: string;
  /** The sweep folder the home must resolve inside. */
  within?: string;
}

/** Import task `index` from its home; returns the new local run id, or null when it was imported already. */
export function importTask(home: string, t: TaskImportTarget): number | null {
  const what = `sweep ${t.sweepId} task ${t.index}`;
  const src = TaskHomeStore.open(home, what, t.nativeBinding, t.within);
  if (!src) throw new TaskImportError(`task ${t.index} has no database in ${home}`);
  const staging = path.join(t.runsDir, `.import-sweep-${t.sweepId}-task-${t.index}-${process.pid}`);
  try {
    const run = src.run();
    if (!run) throw new TaskImportError(`task ${t.index} has no run in ${home}`);
    if (!FINISHED_STATUSES.includes(run.status)) throw new TaskImportError(`task ${t.index}'s run is still ${run.status}`);
    rmSync(staging, { recursive: true, force: true });
    const checkpoints = src.checkpoints(run.id);
    for (const c of checkpoints)
      copyRegularTree(c.path, path.join(staging, 'checkpoints', path.basename(c.path)), { what: `${what}: checkpoint`, root: home });
    return t.repo.importOnce(t.sweepId, t.index, () => writeRun(src, run, t, staging, checkpoints));
  } finally {
    src.close();
    rmSync(staging, { recursive: true, force: true });
  }
}

function writeRun(src: TaskHomeStore, run: TaskRunRecord, t: TaskImportTarget, staging: string, checkpoints: TaskCheckpointRow[]): number {
  const dst = t.store;
  const local = dst.createRun({
    name: run.name,
    configText: run.configText,
    config: run.config,
    dataset: run.dataset,
    seed: run.seed,
    appVersion: run.appVersion,
    backend: run.backend,
    tags: [...new Set([...run.tags, `sweep-${t.sweepId}`])].slice(0, 32),
    notes: run.notes,
    status: 'imported',
    createdAt: run.createdAt,
  });
  dst.setStatus(local.id, run.status, { error: run.error, backend: run.backend, startedAt: run.startedAt, finishedAt: run.finishedAt });
  dst.updateProgress(local.id, run.step, run.epoch);
  dst.appendMetrics(local.id, src.metrics(run.id));
  for (const a of src.artifacts(run.id)) dst.addArtifact(local.id, a);
  for (const entry of src.log(run.id)) dst.log(local.id, entry.level, entry.message, entry.time);
  dst.log(local.id, 'info', `imported from task ${t.index} of sweep ${t.sweepId}`);
  const runDir = path.join(t.runsDir, String(local.id));
  for (const c of checkpoints)
    dst.addCheckpoint(local.id, {
      epoch: c.epoch,
      step: c.step,
      tag: c.tag,
      path: path.join(runDir, 'checkpoints', path.basename(c.path)),
      bytes: c.bytes,
      metrics: c.metrics,
    });
  // Last, the files: if this throws, the transaction rolls back and nothing is left.
  if (checkpoints.length) {
    if (existsSync(runDir)) rmSync(runDir, { recursive: true, force: true }); // a leftover of a rolled-back attempt
    mkdirSync(path.dirname(runDir), { recursive: true });
    renameSync(staging, runDir);
  }
  return local.id;
}
