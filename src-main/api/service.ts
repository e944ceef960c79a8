// The one service behind the contract. Every host (Electron IPC, web, CLI) calls `service.call(name, input)`
// and subscribes with `service.onEvent(listener)`. Inputs and outputs are validated against the contract.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import pkg from '../../package.json';
import { listDatasets } from '../data/registry';
import { MetricWriter } from '../store/metric-writer';
import { pickCheckpoint } from '../checkpoints/checkpoint-rules';
import { checkModelSize } from '../checkpoints/model-size';
import { checkDataPath } from '../data/path-check';
import { RunStore } from '../store/run-store';
import { predictBackend, type BackendReport } from '../train/common/backend-probe';
import { removeDeadTemporaries } from '../store/temporaries';
import { fullSeries } from '../store/smoothed-series';
import type { ResumeFrom, TrainerEvent } from '../train/common/messages';
import { Scheduler } from '../train/host/scheduler';
import { SweepFollower } from '../cluster/sweep-follower';
import { ClusterSweeps } from '../cluster/sweep-service';
import { WatchedSources } from '../sources/sources-service';
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
} from '@shared/contract';
import { dataHomeLayout, resolveDataHome, type DataHomeLayout } from './data-home';
import { toApiError } from './errors';
import type { RunSummary } from '@shared/model-types';
import { ConfigError, describeIssues, parseRunConfig, setByPath, type RunConfig } from '@shared/run-config';
import { expandSweep, type SweepAxis } from '@shared/sweep-expand';
import { HeavyWork } from './heavy-work';
import { StoreWatcher } from './store-watcher';
import { RunPurger } from './run-purger';
import { peekImportShape } from '../data/import-file';
import { checkJsonValue } from '../os/untrusted';
import { capPageBytes, pageQuery } from './list-page';
import { confirmedMatching, deleteRuns } from './run-deletion';
import { LIMITS } from '@shared/limits';
import type { Handler, Handlers } from './handler-types';
import { sweepHandlers } from './sweep-handlers';
import { sourceHandlers } from './source-handlers';
import { evaluateHandler } from './evaluate-handler';
import { workspaceHandlers } from './workspace-handlers';
import { exportHandlers } from './export-handlers';
import { cancelLine, recordTrainerEvent, type TrainerEventContext } from './trainer-events';

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
  /**
   * Follow what other processes write to the same data home (store-watcher.ts) and emit it as events. Default: on
   * for the hosts that serve views (electron, web), off for one-shot CLI commands.
   */
  live?: boolean;
}

export class WorkbenchService {
  readonly layout: DataHomeLayout;
  readonly store: RunStore;
  readonly scheduler: Scheduler;
  private readonly listeners = new Set<(event: WorkbenchEvent) => void>();
  /** Trainers' metric points, written behind in one transaction per 100 ms (or per 2,000 points). */
  private readonly metrics: MetricWriter;
  private readonly lastProgressWrite = new Map<number, number>();
  /** The latest progress of each running run (its step and epoch when it ends), and who cancelled which run. */
  private readonly lastProgress = new Map<number, EventPayload<'run.progress'>>();
  private readonly cancelledBy = new Map<number, string>();
  /** What onTrainerEvent records into (trainer-events.ts). */
  private readonly trainerEvents: TrainerEventContext;
  private backend: Promise<BackendReport> | null = null;
  private readonly handlers: Handlers;
  private clusterSweeps: ClusterSweeps | null = null;
  private readonly heavy = new HeavyWork();
  private readonly watcher: StoreWatcher | null = null;
  /** Syncs unfinished cluster sweeps on a timer and pushes `sweep.updated` (the desktop and web hosts; the CLI
   *  follows a sweep itself with `sweep sync --wait`). */
  private readonly sweepFollower = new SweepFollower(
    () => this.cluster,
    (detail) => this.emit('sweep.updated', detail),
    { onError: (id, err) => console.error(`sweep ${id}: sync failed: ${(err as Error)?.message ?? err}`) },
  );
  /** Deletes the rows of deleted runs in the background (the CLI waits for it: `idle()`). */
  readonly purger: RunPurger;
  /** Folders of run folders logged by the vaewb Python client, followed live (src-main/sources/). */
  readonly sources: WatchedSources;

  constructor(readonly options: ServiceOptions) {
    this.layout = dataHomeLayout(options.dataHome ?? resolveDataHome());
    for (const dir of [this.layout.root, this.layout.runsDir, this.layout.cacheDir]) mkdirSync(dir, { recursive: true });
    this.store = RunStore.open(this.layout.database, options.nativeBinding ? { nativeBinding: options.nativeBinding } : undefined);
    this.metrics = new MetricWriter(this.store, {
      flushMs: 100,
      // The points of a run deleted meanwhile are dropped without a word; anything else is reported.
      onError: (error, runId, n) => {
        if (this.store.isOpen && this.store.getRun(runId)) console.error(`metrics: dropped ${n} points of run ${runId}:`, error);
      },
    });
    this.trainerEvents = {
      store: this.store,
      metrics: this.metrics,
      lastProgress: this.lastProgress,
      lastProgressWrite: this.lastProgressWrite,
      emit: (event, payload) => this.emit(event, payload),
    };
    this.store.markInterrupted();
    this.store.pruneDeletions(Date.now() - 24 * 3600 * 1000);
    this.purger = new RunPurger(this.store, { onError: (err) => console.error('deleting the rows of deleted runs:', err) });
    this.purger.kick(); // rows of runs deleted before a crash or an exit
    // At every start (not only after an interruption): temporaries whose writer died are removed.
    this.removeDeadWriters();
    this.scheduler = new Scheduler(
      {
        onStart: (runId) => this.onTrainerStart(runId),
        onEvent: (runId, event) => this.onTrainerEvent(runId, event),
        onExit: (runId, outcome) => this.onTrainerExit(runId, outcome),
      },
      options.concurrency,
    );
    if (options.live ?? options.host !== 'cli') {
      this.watcher = new StoreWatcher(this.store.changeFeed(), (e) => this.broadcast(e));
      this.watcher.start();
    }
    const { runsDir, root: dataHome } = this.layout;
    const emit = (e: WorkbenchEvent) => this.emit(e.event, e.payload);
    this.sources = new WatchedSources({ store: this.store, runsDir, dataHome, appVersion: APP_VERSION, emit });
    this.handlers = this.makeHandlers(); // last: the topic groups take the members built above (sources)
    // Hosts with a window follow sources live; the CLI imports them with `sources sync`.
    if (options.host !== 'cli') this.sources.start();
    this.followSweeps();
  }

  /** Follow the unfinished cluster sweeps (hosts with a window; the CLI follows one with `sweep sync --wait`). */
  private followSweeps(): void {
    if (this.options.host !== 'cli') this.sweepFollower.wake();
  }

  /** Call by name with unvalidated input; validates input and output against the contract. */
  async call<N extends CallName>(name: N, input: CallInput<N> | unknown): Promise<CallOutput<N>> {
    const spec = calls[name];
    if (!spec) throw new ApiError('invalid_input', `unknown call "${String(name)}"`);
    // Depth first: a body nested thousands deep must not reach recursive validators (the one rule, os/untrusted.ts).
    checkJsonValue(input, name, { maxDepth: LIMITS.UNTRUSTED_MAX_DEPTH, maxValues: 10_000_000, maxKeyChars: 100_000 });
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
      throw new ApiError(
        'internal',
        `${name} produced an invalid result: ${describeIssues(checked.error)
          .map((i) => `${i.path}: ${i.message}`)
          .join('; ')}`,
      );
    return checked.data as CallOutput<N>;
  }

  onEvent(listener: (event: WorkbenchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    if (event === 'run.created') this.watcher?.noteLocalRun((payload as EventPayload<'run.created'>).id);
    this.broadcast({ event, payload } as unknown as WorkbenchEvent);
  }

  private broadcast(event: WorkbenchEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a broken listener must not stop the others
      }
    }
  }

  /** Stop the scheduler (running trainers are killed and recorded as cancelled), flush, close the database. */
  async close(): Promise<void> {
    this.watcher?.stop();
    await this.sweepFollower.close();
    this.sources.stop();
    await this.scheduler.close();
    await this.heavy.close();
    this.purger.stop();
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

  /**
   * The backend for app.info without loading tfjs into this (host) process: the one already initialised
   * here, if any, else the one trainers choose (predicted from VAE_WORKBENCH_BACKEND and the tfjs-node probe).
   */
  private reportedBackend(): Promise<BackendReport> | BackendReport {
    return this.backend ?? predictBackend();
  }

  backendReport(): Promise<BackendReport> {
    if (!this.backend) this.backend = import('../train/compute/backend').then((m) => m.initBackend());
    return this.backend;
  }

  runDir(runId: number): string {
    return path.join(this.layout.runsDir, String(runId));
  }

  // ---------------------------------------------------------------- runs

  /** Validate and queue one run; returns its id. Nothing is written when the config is invalid. */
  startRun(configInput: unknown, extra: { parentId?: number; resumeFrom?: ResumeFrom } = {}): number {
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
    // The real example shape: an imported file's is read from its header (never the whole file, on this thread).
    const shape: [number, number, number] =
      config.data.dataset === 'ica-synthetic'
        ? [1, config.data.observedDim, 1]
        : descriptor.shape.every((n) => n > 0)
          ? descriptor.shape
          : (peekImportShape(config.data)?.shape ?? [1, 1, 1]);
    checkModelSize(config, shape, `the model (${config.model.kind} ${config.model.arch})`);
    if (!config.data.path && descriptor.needsPath && !descriptor.available)
      throw new ConfigError(`dataset "${descriptor.id}" needs data.path: ${descriptor.unavailableReason ?? 'no local copy found'}`, [
        { path: 'data.path', message: descriptor.unavailableReason ?? 'required for this dataset' },
      ]);
  }

  private sweep(input: CallParsedInput<'runs.sweep'>): { runIds: number[] } {
    const configs = this.validateSweep(input.config, input.axes);
    return { runIds: configs.map((c) => this.startRun(c)) };
  }

  /** Expand a sweep's grid and validate every combination (as a run would be), before anything is queued or submitted. */
  validateSweep(config: unknown, axes: readonly SweepAxis[]): Record<string, unknown>[] {
    if (config !== undefined && config !== null && (typeof config !== 'object' || Array.isArray(config)))
      throw new ConfigError(
        `config: the sweep's base config must be a JSON object, not ${Array.isArray(config) ? 'an array' : typeof config}`,
        [{ path: 'config', message: 'expected an object' }],
      );
    const configs = expandSweep(config, axes);
    for (const c of configs) this.checkDataset(parseRunConfig(c));
    return configs;
  }

  private resume(input: CallParsedInput<'runs.resume'>): { runId: number } {
    const parent = this.mustGetRun(input.runId);
    const checkpoint = pickCheckpoint('resume', this.store.listCheckpoints(parent.id), input.checkpointId);
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
    this.store.log(
      runId,
      'info',
      `${fork ? 'forked' : 'resumed'} from run ${parent.id}, checkpoint at epoch ${checkpoint.epoch}, step ${checkpoint.step}`,
    );
    return { runId };
  }

  /** Cluster sweeps (src-main/cluster/), on this service's store. */
  get cluster(): ClusterSweeps {
    this.clusterSweeps ??= new ClusterSweeps({
      store: this.store,
      layout: this.layout,
      appVersion: APP_VERSION,
      nativeBinding: this.options.nativeBinding,
      onImported: (runId) => this.emit('run.created', this.mustGetRun(runId)),
    });
    return this.clusterSweeps;
  }

  private mustGetRun(runId: number): RunSummary {
    const run = this.store.getRun(runId);
    if (!run) throw new ApiError('not_found', `no run with id ${runId}`);
    return run;
  }

  /** Delete runs with their folders, in batches (run-deletion.ts); their bulk rows go in the background (run-purger.ts). */
  private deleteRuns(runIds: number[]): Promise<{ deleted: number }> {
    return deleteRuns(
      {
        store: this.store,
        runDir: (id) => this.runDir(id),
        forget: (id) => {
          this.scheduler.cancel(id);
          this.metrics.discard(id);
        },
        deleted: (id) => this.emit('run.deleted', { runId: id }),
        purge: () => this.purger.kick(),
      },
      runIds,
    );
  }

  // ---------------------------------------------------------------- trainer events

  private onTrainerStart(runId: number): void {
    this.store.setStatus(runId, 'running', { startedAt: Date.now() });
    this.emit('run.status', { runId, status: 'running', error: null });
  }

  private onTrainerEvent(runId: number, event: TrainerEvent): void {
    recordTrainerEvent(this.trainerEvents, runId, event);
  }

  /** Remove the temporaries of writers that died (runs queued or running keep their pid-less ones). */
  private removeDeadWriters(): void {
    removeDeadTemporaries(this.layout, new Set(this.store.listRuns({ status: ['running', 'queued'] }).runs.map((r) => r.id)));
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
      // A killed trainer may have died mid-write (a dataset cache, a checkpoint): its temporaries go now, not at
      // the next start. Only dead writers' temporaries are removed; the other runs' writes in progress stay.
      this.removeDeadWriters();
    }
    const progress = this.lastProgress.get(runId);
    this.lastProgress.delete(runId);
    if (progress) this.store.updateProgress(runId, progress.step, progress.epoch);
    this.store.setStatus(runId, status, { error, finishedAt: Date.now() });
    if (error) this.store.log(runId, 'error', error);
    if (status === 'cancelled') this.logCancel(runId, progress);
    this.cancelledBy.delete(runId);
    this.emit('run.status', { runId, status, error });
  }

  /**
   * Cancel a queued or running run; `by` says who, for its log ("cancelled by the user at epoch 2 of 10, step 130 ...").
   * False when the run is neither queued nor running.
   */
  cancelRun(runId: number, by = 'the user'): boolean {
    if (!this.scheduler.isActive(runId)) return false;
    if (!this.cancelledBy.has(runId)) this.cancelledBy.set(runId, by);
    return this.scheduler.cancel(runId);
  }

  /** The log line of a cancelled run: who, where it stopped, and what was completed (epochs, evaluation, checkpoint). */
  private logCancel(runId: number, progress: EventPayload<'run.progress'> | undefined): void {
    const by = this.cancelledBy.get(runId) ?? 'the host shutting down';
    const message = cancelLine(by, progress, this.store.listCheckpoints(runId), this.store.getRun(runId)?.final ?? {});
    this.store.log(runId, 'warn', message);
    this.emit('run.log', { runId, time: Date.now(), level: 'warn', message });
  }

  private flushMetrics(): void {
    this.metrics.flush();
  }

  // ---------------------------------------------------------------- handlers

  // eslint-disable-next-line max-lines-per-function -- the table of every contract call and its handler, one short entry each
  private makeHandlers(): Handlers {
    return {
      ...sweepHandlers({
        cluster: () => this.cluster,
        validateSweep: (config, axes) => this.validateSweep(config, axes),
        followSweeps: () => this.followSweeps(),
      }),
      ...sourceHandlers(this.sources),
      ...workspaceHandlers(this.store),
      ...exportHandlers({
        store: this.store,
        layout: this.layout,
        heavy: this.heavy,
        appVersion: APP_VERSION,
        nativeBinding: this.options.nativeBinding,
        flushMetrics: () => this.flushMetrics(),
        onImported: (runId) => this.emit('run.created', this.mustGetRun(runId)),
      }),
      'app.info': async () => {
        const report = await this.reportedBackend();
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
      'runs.cancel': (input) => ({ cancelled: this.cancelRun(input.runId) }),
      'runs.resume': (input) => this.resume(input),
      'runs.list': (input) => capPageBytes(this.store.listRuns(pageQuery(input))),
      'runs.get': (input) => this.mustGetRun(input.runId),
      'runs.update': (input) => {
        this.mustGetRun(input.runId);
        if (input.name !== undefined) this.store.rename(input.runId, input.name);
        if (input.tags !== undefined) this.store.setTags(input.runId, input.tags);
        if (input.notes !== undefined) this.store.setNotes(input.runId, input.notes);
        const run = this.mustGetRun(input.runId);
        this.emit('run.updated', run);
        return run;
      },
      'runs.delete': (input) => this.deleteRuns(input.runIds ?? confirmedMatching(this.store, input.matching ?? {}, input.count ?? 0)),
      'runs.metricNames': (input) => this.store.metricNames(input.runIds),
      'runs.series': (input) => {
        this.flushMetrics();
        if (input.smoothing || input.xMetric) return fullSeries(this.store, input.runIds, input.metric, input);
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
      'runs.generate': async (input) => {
        const run = this.mustGetRun(input.runId);
        const checkpoint = pickCheckpoint('generate', this.store.listCheckpoints(run.id), input.checkpointId);
        if (!checkpoint) throw new ApiError('not_found', `run ${run.id} has no checkpoint to generate from`);
        // On the heavy worker: a reconstruction loads the dataset, which must never be parsed on this thread.
        return this.heavy.generate(checkpoint.path, {
          kind: input.kind,
          n: input.n,
          seed: input.seed,
          indices: input.indices,
          dataHome: this.layout.root,
        });
      },
      'runs.evaluate': (input) =>
        evaluateHandler(input, {
          store: this.store,
          heavy: this.heavy,
          dataHome: this.layout.root,
          emit: (e) => this.emit(e.event, e.payload),
        }),
    };
  }
}

function defaultRunName(config: RunConfig): string {
  const m = config.model;
  const arch = m.kind === 'gmm' ? `K=${m.components}` : `${m.arch} ${m.hidden.join('-')} z=${m.latentDim}`;
  return `${m.kind} ${arch} ${config.data.dataset}`;
}

export { toApiError } from './errors';
