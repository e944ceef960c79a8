// Bring one finished task home: its run (config, status, metrics, samples, log) and its checkpoints, from the task's
// own data home on the shared folder into the local store, as one store transaction together with the record that
// the task is imported (SweepRepo.importOnce). The checkpoint files are copied to a staging folder first and moved
// into place inside the transaction, so a crash leaves either nothing or the whole run.
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { dataHomeLayout } from '../store/data-home';
import { FINISHED_STATUSES, type RunSummary } from '@shared/model-types';
import { RunStore } from '../store/run-store';
import type { SweepRepo } from '../store/sweep-repo';

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
}

/** Import task `index` from its home; returns the new local run id, or null when it was imported already. */
export function importTask(home: string, t: TaskImportTarget): number | null {
  const file = dataHomeLayout(home).database;
  if (!existsSync(file)) throw new TaskImportError(`task ${t.index} has no database in ${home}`);
  const src = RunStore.open(file, t.nativeBinding ? { nativeBinding: t.nativeBinding } : undefined);
  const staging = path.join(t.runsDir, `.import-sweep-${t.sweepId}-task-${t.index}-${process.pid}`);
  try {
    const run = src.listRuns({ sort: { key: 'id', dir: 'desc' }, limit: 1 }).runs[0];
    if (!run) throw new TaskImportError(`task ${t.index} has no run in ${home}`);
    if (!FINISHED_STATUSES.includes(run.status)) throw new TaskImportError(`task ${t.index}'s run is still ${run.status}`);
    rmSync(staging, { recursive: true, force: true });
    const checkpoints = src.listCheckpoints(run.id).filter((c) => existsSync(c.path));
    for (const c of checkpoints) cpSync(c.path, path.join(staging, 'checkpoints', path.basename(c.path)), { recursive: true });
    const runId = t.repo.importOnce(t.sweepId, t.index, () => writeRun(src, run, t, staging, checkpoints));
    return runId;
  } finally {
    src.close();
    rmSync(staging, { recursive: true, force: true });
  }
}

function writeRun(
  src: RunStore,
  run: RunSummary,
  t: TaskImportTarget,
  staging: string,
  checkpoints: ReturnType<RunStore['listCheckpoints']>,
): number {
  const dst = t.store;
  const local = dst.createRun({
    name: run.name,
    configText: run.configText,
    config: run.config,
    dataset: run.dataset,
    seed: run.seed,
    appVersion: run.appVersion,
    backend: run.backend,
    tags: [...run.tags, `sweep-${t.sweepId}`],
    notes: run.notes,
    status: 'imported',
    createdAt: run.createdAt,
  });
  dst.setStatus(local.id, run.status, { error: run.error, backend: run.backend, startedAt: run.startedAt, finishedAt: run.finishedAt });
  dst.updateProgress(local.id, run.step, run.epoch);
  const rows = JSON.parse(src.exportSeries('json', [run.id])) as {
    metric: string;
    step: number;
    epoch: number;
    time: number;
    value: number;
  }[];
  dst.appendMetrics(
    local.id,
    rows.map((r) => ({ name: r.metric, step: r.step, epoch: r.epoch, time: r.time, value: r.value })),
  );
  for (const artifact of src.artifactsWithData(run.id)) dst.addArtifact(local.id, artifact);
  for (const entry of src.getLog(run.id, 100_000)) dst.log(local.id, entry.level, entry.message, entry.time);
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
