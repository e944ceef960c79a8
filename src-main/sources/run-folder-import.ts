// One run folder of a watched source into the store: the first time it is seen, its run is created (once: the
// folder and its run are recorded in the same transaction); at every scan after, the lines appended to its files
// since the recorded byte offsets are imported together with the new offsets in one transaction, and its status
// follows status.json. Events go out after the commit, the same the UI follows while the workbench trains.
import path from 'node:path';
import type { WorkbenchEvent } from '@shared/contract';
import type { RunStatus } from '@shared/model-types';
import type { RunStore } from '../store/run-store';
import type { SourceOffsets, SourceRunRow, SourcesRepo } from '../store/sources-repo';
import { readWhole } from './folder-reader';
import { readNewLines, parseLine } from './line-reader';
import { checkpointOp, imageOps, logOps, metricOps, type FolderContext, type Op } from './folder-lines';
import {
  FILES,
  LINE_FILES,
  LINE_SCHEMAS,
  RUN_FORMAT_VERSION,
  runJsonSchema,
  statusJsonSchema,
  type LineFile,
  type RunJson,
  type StatusJson,
} from './run-folder-format';
import { effectiveStatus } from './run-status';
import { pythonProgress, type LoggedPosition } from './run-progress';
import { LIMITS } from '@shared/limits';

export interface ImportTarget {
  store: RunStore;
  repo: SourcesRepo;
  runsDir: string;
  dataHome: string;
  appVersion: string;
  emit: (e: WorkbenchEvent) => void;
}

/** The tag every run from a watched source carries (the UI shows it as "logged from Python"). */
export const PYTHON_TAG = 'python';

function readJson<T>(
  dir: string,
  file: string,
  schema: {
    safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[]; message: string }[] } };
  },
): T {
  const text = readWhole(dir, file, 'SOURCE_MAX_SMALL_FILE_BYTES').toString('utf8');
  const parsed = schema.safeParse(parseLine(text, `${dir}: ${file}`));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file} is not valid: ${issue ? `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}` : 'not JSON'}`);
  }
  return parsed.data;
}

export function readRunJson(dir: string): RunJson {
  return readJson(dir, FILES.run, runJsonSchema);
}

export function readStatus(dir: string): StatusJson {
  return readJson(dir, FILES.status, statusJsonSchema);
}

/** Create the run of a folder seen for the first time; null when it was recorded already. */
export function claimRunFolder(t: ImportTarget, sourceId: number, folder: string, dir: string): number | null {
  const run = readRunJson(dir);
  if (run.formatVersion > RUN_FORMAT_VERSION)
    throw new Error(`${FILES.run}: format version ${run.formatVersion} is newer than this workbench reads (${RUN_FORMAT_VERSION})`);
  const config = run.config;
  const dataset = typeof config.dataset === 'string' && config.dataset.length <= 64 ? config.dataset : 'python';
  const seed = typeof config.seed === 'number' && Number.isSafeInteger(config.seed) ? config.seed : 0;
  const project = run.project.slice(0, 64);
  const runId = t.repo.claim(sourceId, folder, () => {
    const r = t.store.createRun({
      name: run.name.slice(0, 200),
      configText: JSON.stringify(config, null, 2),
      config,
      dataset,
      seed,
      appVersion: `vaewb-python ${run.formatVersion}`,
      backend: 'pytorch',
      tags: project && project !== PYTHON_TAG ? [PYTHON_TAG, project] : [PYTHON_TAG],
      status: 'imported',
      createdAt: run.createdAt,
    });
    t.store.setStatus(r.id, 'running', { startedAt: run.createdAt });
    t.store.log(r.id, 'info', `logged from Python: following ${dir}`);
    return r.id;
  });
  if (runId !== null) t.emit({ event: 'run.created', payload: t.store.getRun(runId)! });
  return runId;
}

interface Collected {
  ops: Op[];
  offsets: SourceOffsets;
}

/** What one scan of a folder carries from file to file: the epoch so far, the status, the room left for images. */
interface ScanState {
  epoch: number;
  status: StatusJson | null;
  /** Images the run may still take under SOURCE_MAX_IMAGES (counted only when a scan has image lines). */
  imageRoom: () => number;
  imagesRefused: number;
}

/** The offsets key counting the image lines refused past SOURCE_MAX_IMAGES (said once in the run's log). */
const IMAGES_REFUSED = 'imagesRefused';

/** The operations for the new lines of one file, and the offset after the last line they cover. */
function collect(file: LineFile, ctx: FolderContext, offset: number, scan: ScanState): { ops: Op[]; offset: number } {
  const lines = readNewLines(ctx.dir, FILES[file], offset);
  const budget = file === 'images' ? LIMITS.SOURCE_IMAGES_PER_SCAN : file === 'checkpoints' ? 1 : Infinity;
  const taken = lines.slice(0, budget);
  const end = taken.length ? taken[taken.length - 1]!.end : offset;
  const valid: unknown[] = [];
  let bad = 0;
  for (const l of taken) {
    const parsed = LINE_SCHEMAS[file].safeParse(parseLine(l.text, `${ctx.dir}: a line of ${FILES[file]}`));
    if (parsed.success) valid.push(parsed.data);
    else if (l.text.trim()) bad++;
  }
  if (bad) ctx.warn(`${FILES[file]}: ${bad} line(s) that are not valid were skipped`);
  let ops: Op[] = [];
  if (file === 'metrics') {
    const m = metricOps(valid as Parameters<typeof metricOps>[0], ctx, scan.epoch);
    scan.epoch = m.epoch;
    ops = m.ops;
    if (m.step > 0 || taken.length) ops.push(progressOp(ctx, m, scan.status));
  } else if (file === 'images') {
    const im = valid.length
      ? imageOps(valid as Parameters<typeof imageOps>[0], ctx, scan.epoch, scan.imageRoom())
      : { ops: [], refused: 0 };
    ops = im.ops;
    if (im.refused && !scan.imagesRefused)
      ctx.warn(
        `the run holds ${LIMITS.SOURCE_MAX_IMAGES.toLocaleString('en-US')} images, the limit (SOURCE_MAX_IMAGES): later images are not imported (they stay in the folder); metrics, log lines and checkpoints still are`,
      );
    scan.imagesRefused += im.refused;
  } else if (file === 'log') ops = logOps(valid as Parameters<typeof logOps>[0], ctx);
  else
    for (const c of valid as Parameters<typeof checkpointOp>[0][]) {
      const op = checkpointOp(c, ctx, scan.epoch);
      if (op) ops.push(op);
    }
  return { ops, offset: end };
}

/** The run's step and epoch follow its newest metric line, sent as run.progress while it runs (as a workbench run). */
function progressOp(ctx: FolderContext, at: LoggedPosition, status: StatusJson | null): Op {
  return () => {
    const run = ctx.store.getRun(ctx.runId);
    if (!run || (at.step <= run.step && at.epoch <= run.epoch)) return [];
    const now = { ...at, step: Math.max(at.step, run.step), epoch: Math.max(at.epoch, run.epoch) };
    ctx.store.updateProgress(ctx.runId, now.step, now.epoch);
    return run.status === 'running' ? [{ event: 'run.progress', payload: pythonProgress(run, now, status) }] : [];
  };
}

function statusOp(ctx: FolderContext, status: StatusJson | null): { op: Op; state: string } | null {
  if (!status) return null;
  const next = effectiveStatus(status);
  const op: Op = () => {
    const run = ctx.store.getRun(ctx.runId);
    if (!run || run.status === next.status) return [];
    const final = next.status !== 'running';
    ctx.store.setStatus(ctx.runId, next.status as RunStatus, {
      error: next.error,
      finishedAt: final ? (status.finishedAt ?? Date.now()) : null,
    });
    const events: WorkbenchEvent[] = [{ event: 'run.status', payload: { runId: ctx.runId, status: next.status, error: next.error } }];
    if (next.error && final) {
      const level = next.status === 'failed' ? 'error' : 'warn';
      const message = next.error.slice(0, 20_000);
      ctx.store.log(ctx.runId, level, message);
      events.push({ event: 'run.log', payload: { runId: ctx.runId, time: Date.now(), level, message } });
    }
    return events;
  };
  return { op, state: next.status };
}

/** Import what is new in one followed folder. Returns true when anything was written. */
export function followRunFolder(t: ImportTarget, row: SourceRunRow, dir: string): boolean {
  if (row.runId === null || row.refused) return false;
  const runId = row.runId;
  const warnings: string[] = [];
  const ctx: FolderContext = {
    store: t.store,
    runId,
    dir,
    runDir: path.join(t.runsDir, String(runId)),
    dataHome: t.dataHome,
    warn: (m) => warnings.push(m),
  };
  // status first: lines written before the final status are then all read in this scan or an earlier one
  let status: StatusJson | null = null;
  try {
    status = readStatus(dir);
  } catch {
    status = null; // unreadable (being replaced, or broken): the status stays as it is until a readable one
  }
  const scan: ScanState = {
    epoch: t.store.getRun(runId)?.epoch ?? 0,
    status,
    imageRoom: () => Math.max(0, LIMITS.SOURCE_MAX_IMAGES - t.repo.imageCount(runId)),
    imagesRefused: row.offsets[IMAGES_REFUSED] ?? 0,
  };
  const c: Collected = { ops: [], offsets: { ...row.offsets } };
  for (const file of LINE_FILES) {
    const r = collect(file, ctx, row.offsets[file] ?? 0, scan);
    c.ops.push(...r.ops);
    c.offsets[file] = r.offset;
  }
  if (scan.imagesRefused) c.offsets[IMAGES_REFUSED] = scan.imagesRefused;
  const moved = LINE_FILES.some((f) => c.offsets[f] !== (row.offsets[f] ?? 0));
  const st = moved && status?.state !== 'running' ? null : statusOp(ctx, status);
  if (st) c.ops.push(st.op);
  const run = t.store.getRun(runId);
  if (!moved && (!st || run?.status === effectiveStatus(status!).status) && !warnings.length) return false;
  const events: WorkbenchEvent[] = [];
  const done = t.repo.advance(row.sourceId, row.folder, row.offsets, c.offsets, st?.state ?? row.state, () => {
    for (const op of c.ops) events.push(...op());
    for (const w of warnings) {
      t.store.log(runId, 'warn', w);
      events.push({ event: 'run.log', payload: { runId, time: Date.now(), level: 'warn', message: w } });
    }
  });
  if (done) for (const e of events) t.emit(e);
  return done;
}
