// The one service behind the contract. Every host (Electron IPC, web, CLI) calls `service.call(name, input)`
// and subscribes with `service.onEvent(listener)`. Inputs and outputs are validated against the contract.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import pkg from '../../package.json';
import { listDatasets } from '../data/registry';
import { checkModelSize } from '../checkpoints/model-size';
import { checkDataPath } from '../data/path-check';
import { RunStore } from '../store/run-store';
import { removeDeadTemporaries } from '../store/temporaries';
import { initBackend, type BackendReport } from '../train/backend';
import type { TrainerEvent } from '../train/messages';
import { Scheduler } from '../train/scheduler';
import {
  ApiError,
  calls,
  type CallInput,
  type CallName,
  type CallOutput,
  type CallParsedInput,
  type EventName,
  type EventPayload,
  type WorkbenchEvent,
} from './contract';
import { dataHomeLayout, resolveDataHome, type DataHomeLayout } from './data-home';
import type { MetricPoint, RunSummary } from './model-types';
import { HeavyWork } from './heavy-work';
import { checkLimit } from './limits';
import { checkKeyPath, ConfigError, describeIssues, parseRunConfig, setByPath, type RunConfig } from './run-config';

export const APP_NAME = 'VAE Workbench';
export const APP_VERSION: string = pkg.version;

export type HostKind = 'electron' | 'web' | 'cli';

export interface ServiceOptions {
  host: HostKind;
  /** Defaults to resolveDataHome() (VAE_WORKBENCH_HOME or the platform's app-data directory). */
  dataHome?: string;
  /** Concurrent trainer processes; default: the number of cores. */
  concurrency?: number;
  /** Passed to better-sqlite3 under Electron, where the addon is built for Electron's ABI. */
  nativeBinding?: string;
}

type Handler<N extends CallName> = (input: CallParsedInput<N>) => Promise<CallOutput<N>> | CallOutput<N>;
type Handlers = { [N in CallName]: Handler<N> };

export class WorkbenchService {
  readonly layout: DataHomeLayout;
  readonly store: RunStore;
  readonly scheduler: Scheduler;
  private readonly listeners = new Set<(event: WorkbenchEvent) => void>();
  private readonly pendingMetrics = new Map<number, MetricPoint[]>();
  private flushTimer: NodeJS.Timeout | null = null;
  private lastProgressWrite = new Map<number, number>();
  private backend: Promise<BackendReport> | null = null;
  private readonly handlers: Handlers;
  private readonly heavy = new HeavyWork();

  constructor(readonly options: ServiceOptions) {
    this.layout = dataHomeLayout(options.dataHome ?? resolveDataHome());
    for (const dir of [this.layout.root, this.layout.runsDir, this.layout.cacheDir]) mkdirSync(dir, { recursive: true });
    this.store = RunStore.open(this.layout.database, options.nativeBinding ? { nativeBinding: options.nativeBinding } : undefined);
    this.store.markInterrupted();
    // At every start (not only after an interruption): temporaries whose writer died are removed.
    const active = new Set(this.store.listRuns({ status: ['running', 'queued'] }).runs.map((r) => r.id));
    removeDeadTemporaries(this.layout, active);
    this.scheduler = new Scheduler(
      {
        onStart: (runId) => this.onTrainerStart(runId),
        onEvent: (runId, event) => this.onTrainerEvent(runId, event),
        onExit: (runId, outcome) => this.onTrainerExit(runId, outcome),
      },
      options.concurrency,
    );
    this.handlers = this.makeHandlers();
  }

  /** Call by name with unvalidated input; validates input and output against the contract. */
  async call<N extends CallName>(name: N, input: CallInput<N> | unknown): Promise<CallOutput<N>> {
    const spec = calls[name];
    if (!spec) throw new ApiError('invalid_input', `unknown call "${String(name)}"`);
    const parsed = spec.input.safeParse(input ?? {});
    if (!parsed.success) {
      const issues = describeIssues(parsed.error);
      throw new ApiError('invalid_input', `${name}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
    }
    const handler = this.handlers[name] as Handler<N>;
    let result: CallOutput<N>;
    try {
      result = await handler(parsed.data as CallParsedInput<N>);
    } catch (err) {
      throw toApiError(err);
    }
    const checked = spec.output.safeParse(result);
    if (!checked.success)
      throw new ApiError('internal', `${name} produced an invalid result: ${describeIssues(checked.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    return checked.data as CallOutput<N>;
  }

  onEvent(listener: (event: WorkbenchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of this.listeners) {
      try {
        listener({ event, payload } as unknown as WorkbenchEvent);
      } catch {
        // a broken listener must not stop the others
      }
    }
  }

  /** Stop the scheduler (running trainers are killed and recorded as cancelled), flush, close the database. */
  async close(): Promise<void> {
    await this.scheduler.close();
    await this.heavy.close();
    this.flushMetrics();
    this.store.close();
  }

  /** Resolve when the given run has finished (used by the CLI). */
  waitForRun(runId: number): Promise<RunSummary> {
    return new Promise((resolve) => {
      const check = () => {
        const run = this.store.getRun(runId);
        if (run && !['queued', 'running'].includes(run.status)) {
          off();
          resolve(run);
        }
      };
      const off = this.onEvent((e) => {
        if (e.event === 'run.status' && (e.payload as EventPayload<'run.status'>).runId === runId) check();
      });
      check();
    });
  }

  backendReport(): Promise<BackendReport> {
    if (!this.backend) this.backend = initBackend();
    return this.backend;
  }

  runDir(runId: number): string {
    return path.join(this.layout.runsDir, String(runId));
  }

  // ---------------------------------------------------------------- runs

  /** Validate and queue one run; returns its id. Nothing is written when the config is invalid. */
  startRun(configInput: unknown, extra: { parentId?: number; resumeFrom?: { dir: string; step: number; epoch: number; restoreOptimizer: boolean } } = {}): number {
    const config = parseRunConfig(configInput);
    this.checkDataset(config);
    const configText = JSON.stringify(configInput ?? {}, null, 2);
    const run = this.store.createRun({
      name: config.name || defaultRunName(config),
      configText,
      config,
      dataset: config.data.dataset,
      seed: config.seed,
      appVersion: APP_VERSION,
      tags: config.tags,
      parentId: extra.parentId,
      status: 'queued',
    });
    this.emit('run.created', run);
    this.scheduler.enqueue({
      type: 'start',
      runId: run.id,
      config,
      dataHome: this.layout.root,
      runDir: this.runDir(run.id),
      resumeFrom: extra.resumeFrom,
    });
    return run.id;
  }

  private checkDataset(config: RunConfig): void {
    const known = listDatasets({ dataHome: this.layout.root });
    const descriptor = known.find((d) => d.id === config.data.dataset);
    if (!descriptor)
      throw new ConfigError(`unknown dataset "${config.data.dataset}" (known: ${known.map((d) => d.id).join(', ')})`, [
        { path: 'data.dataset', message: `unknown dataset "${config.data.dataset}"` },
      ]);
    checkDataPath(config.data.path);
    const shape: [number, number, number] =
      config.data.dataset === 'ica-synthetic' ? [1, config.data.observedDim, 1] : descriptor.shape.every((n) => n > 0) ? descriptor.shape : [1, 1, 1];
    checkModelSize(config, shape, `the model (${config.model.kind} ${config.model.arch})`);
    if (!config.data.path && descriptor.needsPath && !descriptor.available)
      throw new ConfigError(`dataset "${descriptor.id}" needs data.path: ${descriptor.unavailableReason ?? 'no local copy found'}`, [
        { path: 'data.path', message: descriptor.unavailableReason ?? 'required for this dataset' },
      ]);
  }

  private sweep(input: CallParsedInput<'runs.sweep'>): { runIds: number[] } {
    // Count before expanding (a 50 x 50 x 50 sweep must be refused, not built), and refuse prototype keys up front.
    const count = input.axes.reduce((n, axis) => n * axis.values.length, 1);
    checkLimit(`a sweep of ${input.axes.map((a) => a.values.length).join(' x ')} values`, count, 'SWEEP_MAX_RUNS', { unit: 'runs' });
    for (const axis of input.axes) checkKeyPath(axis.key);
    let combos: [string, string | number | boolean | null | number[]][][] = [[]];
    for (const axis of input.axes) combos = combos.flatMap((combo) => axis.values.map((v) => [...combo, [axis.key, v]] as (typeof combos)[number]));
    const base = (input.config ?? {}) as Record<string, unknown>;
    const configs = combos.map((combo) => {
      const c = structuredClone(base);
      for (const [key, value] of combo) setByPath(c, key, JSON.stringify(value));
      const baseName = typeof base.name === 'string' && base.name ? base.name : 'sweep';
      c.name = `${baseName} ${combo.map(([k, v]) => `${k.split('.').pop()}=${Array.isArray(v) ? JSON.stringify(v) : v}`).join(' ')}`;
      return c;
    });
    // Validate every combination before anything is queued.
    for (const c of configs) this.checkDataset(parseRunConfig(c));
    return { runIds: configs.map((c) => this.startRun(c)) };
  }

  private resume(input: CallParsedInput<'runs.resume'>): { runId: number } {
    const parent = this.mustGetRun(input.runId);
    const checkpoints = this.store.listCheckpoints(parent.id);
    const checkpoint = input.checkpointId
      ? checkpoints.find((c) => c.id === input.checkpointId)
      : (checkpoints.find((c) => c.tag === 'last') ?? [...checkpoints].sort((a, b) => b.step - a.step)[0]);
    if (!checkpoint) throw new ApiError('not_found', `run ${parent.id} has no checkpoint to resume from`);
    if (!existsSync(checkpoint.path)) throw new ApiError('not_found', `checkpoint file ${checkpoint.path} is missing`);
    const config = structuredClone(JSON.parse(parent.configText || '{}')) as Record<string, unknown>;
    const fork = !!input.overrides && Object.keys(input.overrides).length > 0;
    for (const [key, value] of Object.entries(input.overrides ?? {})) setByPath(config, key, JSON.stringify(value));
    if (input.epochs) setByPath(config, 'training.epochs', String(input.epochs));
    config.name = `${parent.name} (${fork ? 'fork' : 'resumed'} @ epoch ${checkpoint.epoch})`;
    const epochs = parseRunConfig(config).training.epochs;
    if (epochs <= checkpoint.epoch)
      throw new ApiError(
        'invalid_input',
        `training.epochs is ${epochs} but the checkpoint is at epoch ${checkpoint.epoch}: nothing would be left to train (ask for more epochs)`,
        [{ path: 'training.epochs', message: `must be more than ${checkpoint.epoch}` }],
      );
    const runId = this.startRun(config, {
      parentId: parent.id,
      resumeFrom: { dir: checkpoint.path, step: checkpoint.step, epoch: checkpoint.epoch, restoreOptimizer: !fork },
    });
    // Continue the parent's curves: copy its points up to the checkpoint into the new run.
    for (const name of this.store.metricNames([parent.id])) {
      const [series] = this.store.series([parent.id], name, { x: 'step', to: checkpoint.step, maxPoints: 1_000_000 });
      if (series?.points.length)
        this.store.appendMetrics(
          runId,
          series.points.map((p) => ({ name, step: p.step, epoch: p.epoch, time: p.time, value: p.y })),
        );
    }
    this.store.log(runId, 'info', `${fork ? 'forked' : 'resumed'} from run ${parent.id}, checkpoint at epoch ${checkpoint.epoch}, step ${checkpoint.step}`);
    return { runId };
  }

  private mustGetRun(runId: number): RunSummary {
    const run = this.store.getRun(runId);
    if (!run) throw new ApiError('not_found', `no run with id ${runId}`);
    return run;
  }

  private deleteRuns(runIds: number[]): { deleted: number } {
    let deleted = 0;
    for (const id of runIds) {
      if (!this.store.getRun(id)) continue;
      this.scheduler.cancel(id);
      this.store.deleteRun(id);
      rmSync(this.runDir(id), { recursive: true, force: true });
      this.emit('run.deleted', { runId: id });
      deleted++;
    }
    return { deleted };
  }

  // ---------------------------------------------------------------- trainer events

  private onTrainerStart(runId: number): void {
    this.store.setStatus(runId, 'running', { startedAt: Date.now() });
    this.emit('run.status', { runId, status: 'running', error: null });
  }

  private onTrainerEvent(runId: number, event: TrainerEvent): void {
    switch (event.type) {
      case 'started':
        this.store.setStatus(runId, 'running', { backend: event.backend });
        this.emit('run.status', { runId, status: 'running', error: null });
        break;
      case 'progress': {
        const now = Date.now();
        if (now - (this.lastProgressWrite.get(runId) ?? 0) > 1000) {
          this.lastProgressWrite.set(runId, now);
          this.store.updateProgress(runId, event.progress.step, event.progress.epoch);
        }
        this.emit('run.progress', { runId, ...event.progress });
        break;
      }
      case 'metrics': {
        const pending = this.pendingMetrics.get(runId) ?? [];
        pending.push(...event.points);
        this.pendingMetrics.set(runId, pending);
        if (!this.flushTimer) this.flushTimer = setTimeout(() => this.flushMetrics(), 100);
        this.emit('run.metrics', { runId, points: event.points });
        break;
      }
      case 'artifact': {
        const meta = this.store.addArtifact(runId, {
          kind: event.kind,
          epoch: event.epoch,
          step: event.step,
          mime: event.mime,
          width: event.width,
          height: event.height,
          meta: event.meta,
          data: Buffer.from(event.dataBase64, 'base64'),
        });
        this.emit('run.artifact', meta);
        break;
      }
      case 'checkpoint': {
        for (const old of this.store.listCheckpoints(runId))
          if (old.path === event.dir || !existsSync(old.path)) this.store.removeCheckpoint(old.id);
        const meta = this.store.addCheckpoint(runId, {
          epoch: event.epoch,
          step: event.step,
          tag: event.tag,
          path: event.dir,
          bytes: event.bytes,
          metrics: event.metrics,
        });
        this.emit('run.checkpoint', meta);
        break;
      }
      case 'log':
        this.store.log(runId, event.level, event.message);
        this.emit('run.log', { runId, time: Date.now(), level: event.level, message: event.message });
        break;
      case 'done':
        break; // recorded when the process exits
    }
  }

  private onTrainerExit(
    runId: number,
    outcome: { reported: Extract<TrainerEvent, { type: 'done' }> | null; cancelled: boolean; exit: string },
  ): void {
    this.flushMetrics();
    this.lastProgressWrite.delete(runId);
    if (!this.store.getRun(runId)) return; // deleted meanwhile
    let status: RunSummary['status'];
    let error: string | null = null;
    if (outcome.reported && !(outcome.cancelled && outcome.reported.status === 'failed')) {
      status = outcome.reported.status;
      error = outcome.reported.error ?? null;
    } else if (outcome.cancelled) {
      status = 'cancelled';
    } else {
      status = 'failed';
      error = `the trainer process ended unexpectedly (${outcome.exit})`;
    }
    this.store.setStatus(runId, status, { error, finishedAt: Date.now() });
    if (error) this.store.log(runId, 'error', error);
    this.emit('run.status', { runId, status, error });
  }

  private flushMetrics(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batches = [...this.pendingMetrics.entries()];
    this.pendingMetrics.clear();
    for (const [runId, points] of batches) if (points.length && this.store.getRun(runId)) this.store.appendMetrics(runId, points);
  }

  // ---------------------------------------------------------------- handlers

  private makeHandlers(): Handlers {
    return {
      'app.info': async () => {
        const report = await this.backendReport();
        return {
          name: APP_NAME,
          version: APP_VERSION,
          dataHome: this.layout.root,
          host: this.options.host,
          backend: report.active,
          tfjsNode: report.tfjsNode,
          concurrency: this.scheduler.concurrency,
          platform: `${process.platform}-${process.arch}`,
          node: process.versions.node,
          electron: process.versions.electron ?? null,
        };
      },
      'datasets.list': () => listDatasets({ dataHome: this.layout.root }),
      'runs.start': (input) => ({ runId: this.startRun(input.config) }),
      'runs.sweep': (input) => this.sweep(input),
      'runs.cancel': (input) => ({ cancelled: this.scheduler.cancel(input.runId) }),
      'runs.resume': (input) => this.resume(input),
      'runs.list': (input) => this.store.listRuns(input),
      'runs.get': (input) => this.mustGetRun(input.runId),
      'runs.update': (input) => {
        this.mustGetRun(input.runId);
        if (input.name !== undefined) this.store.rename(input.runId, input.name);
        if (input.tags !== undefined) this.store.setTags(input.runId, input.tags);
        if (input.notes !== undefined) this.store.setNotes(input.runId, input.notes);
        return this.mustGetRun(input.runId);
      },
      'runs.delete': (input) => this.deleteRuns(input.runIds),
      'runs.metricNames': (input) => this.store.metricNames(input.runIds),
      'runs.series': (input) => {
        this.flushMetrics();
        return this.store.series(input.runIds, input.metric, {
          x: input.x,
          from: input.from,
          to: input.to,
          maxPoints: input.maxPoints,
        });
      },
      'runs.paramDiff': (input) => this.store.paramDiff(input.runIds),
      'runs.artifacts': (input) => this.store.listArtifacts(input.runId, { kind: input.kind, epoch: input.epoch }),
      'artifacts.get': (input) => {
        const a = this.store.getArtifactData(input.artifactId);
        if (!a) throw new ApiError('not_found', `no artifact with id ${input.artifactId}`);
        return { mime: a.mime, dataBase64: a.data.toString('base64') };
      },
      'runs.log': (input) => this.store.getLog(input.runId, input.limit),
      'runs.checkpoints': (input) => this.store.listCheckpoints(input.runId),
      'runs.export': async (input) => {
        this.flushMetrics();
        const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
        // Off the event loop (its own connection; WAL readers never block the writer).
        const text = await this.heavy.exportText({
          database: this.layout.database,
          nativeBinding: this.options.nativeBinding,
          what: input.what === 'series' ? 'series' : 'runs',
          format: input.format,
          runIds: input.runIds,
          metrics: input.metrics,
        });
        return {
          filename: `vae-workbench-${input.what}-${stamp}.${input.format}`,
          mime: input.format === 'csv' ? 'text/csv' : 'application/json',
          text,
        };
      },
      'bundles.export': async (input) => {
        const { prepareRunBundle } = await import('../checkpoints/bundle-service');
        const prepared = prepareRunBundle(this.store, input.runId, { appVersion: APP_VERSION, checkpointId: input.checkpointId });
        const filename = prepared.filename;
        const bytes = await this.heavy.buildBundle(prepared.input); // zip + checksums off the event loop
        return { filename, dataBase64: Buffer.from(bytes).toString('base64'), bytes: bytes.byteLength };
      },
      'bundles.import': async (input) => {
        const { importRunBundle } = await import('../checkpoints/bundle-service');
        checkLimit('the bundle file', Math.floor((input.dataBase64.length * 3) / 4), 'BUNDLE_MAX_FILE_BYTES', { unit: 'bytes' });
        const bytes = new Uint8Array(Buffer.from(input.dataBase64, 'base64'));
        const parsed = await this.heavy.parseBundle(bytes); // verified off the event loop; only the writes happen here
        const result = importRunBundle(this.store, parsed, {
          dataHome: this.layout.root,
          runsDir: this.layout.runsDir,
        });
        const run = this.mustGetRun(result.runId);
        this.emit('run.created', run);
        return { runId: result.runId };
      },
      'runs.generate': async (input) => {
        const run = this.mustGetRun(input.runId);
        const checkpoints = this.store.listCheckpoints(run.id);
        const checkpoint = input.checkpointId
          ? checkpoints.find((c) => c.id === input.checkpointId)
          : (checkpoints.find((c) => c.tag === 'best') ?? checkpoints.find((c) => c.tag === 'last') ?? checkpoints[0]);
        if (!checkpoint) throw new ApiError('not_found', `run ${run.id} has no checkpoint to generate from`);
        await this.backendReport();
        const { generateFromCheckpoint } = await import('../checkpoints/generate');
        return generateFromCheckpoint(checkpoint.path, {
          kind: input.kind,
          n: input.n,
          seed: input.seed,
          indices: input.indices,
          dataHome: this.layout.root,
        });
      },
    };
  }
}

function defaultRunName(config: RunConfig): string {
  const m = config.model;
  const arch = m.kind === 'gmm' ? `K=${m.components}` : `${m.arch} ${m.hidden.join('-')} z=${m.latentDim}`;
  return `${m.kind} ${arch} ${config.data.dataset}`;
}

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ConfigError) return new ApiError('invalid_config', err.message, err.issues);
  if (err instanceof z.ZodError) {
    const issues = describeIssues(err);
    return new ApiError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
  const e = err as Error;
  // Errors about the user's input or files: say what is wrong, as given by the module that found it.
  const userErrors = ['LimitError', 'RunQueryError', 'DatasetError', 'BundleError', 'CheckpointError', 'GenerateError', 'DatasetShapeError', 'SafetensorsError', 'LayersExportError'];
  if (userErrors.includes(e?.name)) return new ApiError('invalid_input', e.message);
  if (e?.name === 'RunNotFoundError') return new ApiError('not_found', e.message);
  return new ApiError('internal', e?.message ?? String(err));
}

export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}
