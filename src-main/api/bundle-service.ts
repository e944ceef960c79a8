// Export a run from the store as a bundle, and import a bundle as a new run. Import verifies the whole bundle
// before writing anything; then the checkpoint directory is written (atomically) and every row is inserted in one
// store transaction, so a failure leaves neither rows nor files behind.
import { createHash } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { ApiError } from '@shared/errors';
import { BUNDLE_LOG_MAX_LINES } from '../checkpoints/bundle-manifest';
import path from 'node:path';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig, type RunConfig } from '@shared/run-config';
import type { RunStore } from '../store/run-store';
import { BundleError, buildBundle, parseBundle, type BundleInput, type BundleSnapshot, type ParsedBundle } from '../checkpoints/bundle';
import { CheckpointError, readCheckpointDir, writeCheckpointDir, type CheckpointContents } from '../checkpoints/checkpoint-dir';
import { pickCheckpoint } from '../checkpoints/checkpoint-rules';
import { resolveDataset } from '../checkpoints/dataset-shape';

export interface ExportOptions {
  appVersion: string;
  /** Default: the run's 'best' checkpoint, else its 'last', else the latest one. */
  checkpointId?: number;
}

export interface ImportOptions {
  /** Import even when the bundle's run is already in the store (else AlreadyImportedError). */
  again?: boolean;
  dataHome: string;
  /** Runs' directories live here: <runsDir>/<runId>/checkpoints/<tag>. */
  runsDir: string;
}

function slug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/\.\.+/g, '-')
      .replace(/-+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, 80) || 'run'
  );
}

/** Build the bundle of a run's chosen checkpoint, with its metrics and sample artifacts. */
export function exportRunBundle(store: RunStore, runId: number, opts: ExportOptions): { filename: string; bytes: Uint8Array } {
  const { filename, input } = prepareRunBundle(store, runId, opts);
  return { filename, bytes: buildBundle(input) };
}

/** The checkpoint to export: the one asked for, else pickCheckpoint's rule for 'export' (best, last, newest). */
function chooseCheckpoint(store: RunStore, runId: number, opts: ExportOptions) {
  const chosen = pickCheckpoint('export', store.listCheckpoints(runId), opts.checkpointId);
  if (!chosen)
    throw new BundleError(
      opts.checkpointId !== undefined
        ? `cannot export: run ${runId} has no checkpoint with id ${opts.checkpointId}`
        : `cannot export: run ${runId} has no checkpoint yet`,
    );
  return chosen;
}

/** The run's metric series, as bundle metric points. */
function exportMetrics(store: RunStore, runId: number): MetricPoint[] {
  const rows = JSON.parse(store.exportSeries('json', [runId])) as {
    metric: string;
    step: number;
    epoch: number;
    time: number;
    value: number;
  }[];
  return rows.map((r) => ({ name: r.metric, step: r.step, epoch: r.epoch, time: r.time, value: r.value }));
}

/** The run's sample artifacts that still have their data. */
function exportSnapshots(store: RunStore, runId: number): BundleSnapshot[] {
  const snapshots: BundleSnapshot[] = [];
  for (const { data, ...fields } of store.artifactsWithData(runId))
    snapshots.push({ ...fields, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  return snapshots;
}

/** Everything a run's bundle holds, read from the store and the checkpoint (the zip itself is built by buildBundle). */
export function prepareRunBundle(store: RunStore, runId: number, opts: ExportOptions): { filename: string; input: BundleInput } {
  const run = store.getRun(runId);
  if (!run) throw new BundleError(`cannot export: no run with id ${runId}`);
  const chosen = chooseCheckpoint(store, runId, opts);
  let contents: CheckpointContents;
  try {
    contents = readCheckpointDir(chosen.path);
  } catch (err) {
    if (err instanceof CheckpointError) throw new BundleError(`cannot export run ${runId}: ${err.message}`);
    throw err;
  }
  let config: RunConfig;
  try {
    config = parseRunConfig(run.config ?? contents.config);
  } catch (err) {
    throw new BundleError(`cannot export run ${runId}: ${(err as Error).message}`);
  }
  let dataset: ReturnType<typeof resolveDataset>;
  try {
    dataset = resolveDataset(config, contents.weights);
  } catch (err) {
    throw new BundleError(`cannot export run ${runId}: ${(err as Error).message}`);
  }

  const metrics = exportMetrics(store, runId);
  const snapshots = exportSnapshots(store, runId);
  const log = store.getLog(runId, BUNDLE_LOG_MAX_LINES).map((l) => ({ time: l.time, level: l.level, message: l.message }));
  const uid = store.runUid(runId);

  const input: BundleInput = {
    appVersion: opts.appVersion,
    run: {
      name: run.name,
      config,
      configText: run.configText,
      dataset,
      seed: run.seed,
      backend: run.backend,
      status: run.status,
      tags: run.tags,
      notes: run.notes,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      sourceRunId: run.id,
      ...(uid ? { uid } : {}),
    },
    finalMetrics: run.final,
    metrics,
    checkpoint: {
      epoch: chosen.epoch,
      step: chosen.step,
      tag: chosen.tag,
      metrics: contents.metrics,
      backend: contents.backend,
      createdAt: contents.createdAt,
    },
    weights: contents.weights,
    optimizer: contents.optimizer,
    snapshots,
    log,
  };
  const epoch = Number.isInteger(chosen.epoch) ? String(chosen.epoch) : chosen.epoch.toFixed(2);
  return { filename: `${slug(run.name)}-${slug(chosen.tag)}-epoch${epoch}.vae-bundle.zip`, input };
}

/**
 * Verify a bundle completely, then add it as a new run with status 'imported': its checkpoint directory, metrics,
 * artifacts and checkpoint row. Throws BundleError (nothing written) for a bad bundle; on any later failure the
 * rows and the written directory are removed again.
 */
export function importRunBundle(store: RunStore, bytes: Uint8Array | ParsedBundle, opts: ImportOptions): { runId: number } {
  // Parsed here, or already parsed and verified (off the event loop, by the heavy-work worker).
  const bundle = bytes instanceof Uint8Array ? parseBundle(bytes) : bytes; // throws before anything is written
  const { run, checkpoint } = bundle;
  const uid = bundleIdentity(bundle);
  const existing = store.findRunByUid(uid);
  if (existing !== null && !opts.again) throw new AlreadyImportedError(existing);
  let runDir: string | null = null;
  let runDirExisted = false;
  let checkpointDir: string | null = null;

  const writeAll = (): number => {
    const created = store.createRun({
      name: run.name,
      configText: run.configText,
      config: run.config,
      dataset: run.dataset.id,
      seed: run.seed,
      appVersion: bundle.appVersion,
      backend: run.backend,
      tags: run.tags,
      notes: run.notes,
      status: 'imported',
      createdAt: run.createdAt,
      uid,
    });
    const runId = created.id;
    store.setStatus(runId, 'imported', { startedAt: run.startedAt, finishedAt: run.finishedAt ?? bundle.createdAt });
    if (bundle.metrics.length) store.appendMetrics(runId, bundle.metrics);
    const last = bundle.metrics.reduce((m, p) => (p.step >= m.step ? { step: p.step, epoch: p.epoch } : m), {
      step: checkpoint.step,
      epoch: checkpoint.epoch,
    });
    store.updateProgress(runId, last.step, last.epoch);
    for (const snapshot of bundle.snapshots) store.addArtifact(runId, snapshotArtifact(snapshot));

    runDir = path.join(opts.runsDir, String(runId));
    runDirExisted = existsSync(runDir);
    checkpointDir = path.join(runDir, 'checkpoints', safeTag(checkpoint.tag));
    const size = writeCheckpointDir(checkpointDir, {
      runId,
      epoch: checkpoint.epoch,
      step: checkpoint.step,
      config: run.config,
      weights: bundle.weights,
      optimizer: bundle.optimizer,
      metrics: checkpoint.metrics,
      backend: checkpoint.backend,
      createdAt: checkpoint.createdAt,
    });
    store.addCheckpoint(runId, {
      epoch: checkpoint.epoch,
      step: checkpoint.step,
      tag: checkpoint.tag,
      path: checkpointDir,
      bytes: size,
      metrics: checkpoint.metrics,
    });
    for (const line of bundle.log ?? []) store.log(runId, line.level, line.message, line.time);
    store.log(
      runId,
      'info',
      `imported from a bundle written by VAE Workbench ${bundle.appVersion} (source run ${run.sourceRunId ?? 'unknown'})`,
    );
    return runId;
  };

  const removeFiles = () => {
    if (checkpointDir) rmSync(checkpointDir, { recursive: true, force: true });
    if (runDir && !runDirExisted) rmSync(runDir, { recursive: true, force: true });
  };

  // One transaction for every row (createRun and the rest nest as savepoints): a throw rolls all of them back.
  try {
    return { runId: store.transaction(writeAll) };
  } catch (err) {
    removeFiles();
    throw err;
  }
}

function snapshotArtifact(s: BundleSnapshot) {
  return { kind: s.kind, epoch: s.epoch, step: s.step, mime: s.mime, width: s.width, height: s.height, meta: s.meta, data: s.data };
}

/** The run a bundle holds, as an identity: its uid (format 2), else a hash of its config and metrics (format 1). */
export function bundleIdentity(bundle: ParsedBundle): string {
  if (bundle.run.uid) return bundle.run.uid;
  const metricsHash = bundle.manifest.entries['metrics.json']?.sha256 ?? '';
  return `sha256:${createHash('sha256').update(bundle.run.configText).update('\n').update(metricsHash).digest('hex')}`;
}

/** bundles.import of a run that is already in the store (code already_imported; issue existingRunId). */
export class AlreadyImportedError extends ApiError {
  constructor(readonly existingRunId: number) {
    super(
      'already_imported',
      `this bundle's run is already in the store as run ${existingRunId}; import it again anyway with --again (API: again: true)`,
      [{ path: 'existingRunId', message: String(existingRunId) }],
    );
    this.name = 'AlreadyImportedError';
  }
}

/** Checkpoint tags become directory names: keep them to safe characters. */
function safeTag(tag: string): string {
  return tag.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || 'imported';
}
