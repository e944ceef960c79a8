// The steps every kind of run shares (the VAE Trainer and the GMM fit): reporting metrics and log lines
// as TrainerEvents (with the health monitor's warnings), the Frechet distance of generated images, and
// writing a checkpoint directory. Also the result type and the errors that end a run early.
import path from 'node:path';
import type { MetricPoint } from '@shared/model-types';
import { writeCheckpointDir, type CheckpointContents, type NamedTensor } from '../../checkpoints/checkpoint-dir';
import { existsSync } from 'node:fs';
import { FD_CLASSIFIER_SEED, featureCachePaths, frechetDistanceFor } from '../../vae/fid';
import { fdFitSplit } from './fd-fit-split';
import type { FinalStatus, TrainerEvent, TrainingContext } from '../common/messages';
import { type HealthMonitor, healthLogLine } from './health';
import type { PreparedData } from './prepare-data';

/** Where the classifier FD's feature classifiers are cached in the data home (one per dataset and input size). */
export function fidCacheDir(dataHome: string): string {
  return path.join(dataHome, 'fid-cache');
}

export interface TrainingResult {
  status: FinalStatus;
  error?: string;
  final: Record<string, number>;
  samplesPerSec: number;
}

/** Minimum interval between 'progress' events. */
export const PROGRESS_INTERVAL_MS = 250;
/** Real and generated images used for the Frechet distance. */
export const FID_EXAMPLES = 2000;

export class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

export class Diverged extends Error {}

export type LogLevel = 'info' | 'warn' | 'error';
export type CheckpointTag = 'interval' | 'best' | 'last';

function finite(v: number): boolean {
  return Number.isFinite(v);
}

/** Reporting, FID and checkpoint writing for one run; `final` collects the last value of every metric. */
export class RunSteps {
  readonly final: Record<string, number> = {};
  health: HealthMonitor | null = null;

  constructor(readonly ctx: TrainingContext) {}

  emit(event: TrainerEvent): void {
    this.ctx.emit(event);
  }

  log(level: LogLevel, message: string): void {
    this.emit({ type: 'log', level, message });
  }

  /** Emit the finite points (and any health warning they raise or clear) and remember them in `final`. */
  emitMetrics(points: MetricPoint[]): void {
    const final = this.final;
    const good = points.filter((p) => finite(p.value));
    if (!good.length) return;
    for (const p of good) final[p.name] = p.value;
    this.emit({ type: 'metrics', points: good });
    for (const change of this.health?.observe(good) ?? []) {
      this.log(change.active ? 'warn' : 'info', healthLogLine(change));
      const last = good[good.length - 1]!;
      final[change.metric] = change.active ? 1 : 0;
      this.emit({
        type: 'metrics',
        points: [{ name: change.metric, step: last.step, epoch: last.epoch, time: last.time, value: final[change.metric]! }],
      });
    }
  }

  /**
   * The Frechet distance between the first n test images and n generated ones; null (and a warning) when
   * it fails. Throws Cancelled when the run was cancelled meanwhile.
   */
  async fid(data: PreparedData, fake: Float32Array, n: number, onProgress?: (fraction: number) => void): Promise<number | null> {
    const { ctx } = this;
    const opts = { cacheDir: fidCacheDir(ctx.dataHome), seed: FD_CLASSIFIER_SEED, signal: ctx.signal };
    try {
      const shape = data.dataset.descriptor.shape;
      const real = data.test.x.subarray(0, n * data.d);
      const cached = existsSync(featureCachePaths(opts.cacheDir, data.dataset.descriptor.id, data.d).json);
      return await frechetDistanceFor(
        data.dataset.descriptor.id,
        cached ? data.train : await fdFitSplit(data, ctx.config, ctx.dataHome),
        shape,
        real,
        fake,
        n,
        onProgress ? { ...opts, onProgress } : opts,
      );
    } catch (err) {
      if (ctx.signal.aborted) throw new Cancelled();
      this.log('warn', `test/fdClassifier failed: ${(err as Error).message}`);
      return null;
    }
  }

  /** Write checkpoints/<name> (the metrics so far plus `metrics`) and report it; returns its directory. */
  writeCheckpoint(
    tag: CheckpointTag,
    name: string,
    at: { epoch: number; step: number },
    weights: NamedTensor[],
    optimizer: CheckpointContents['optimizer'],
    metrics: Record<string, number>,
  ): string {
    const { ctx } = this;
    const dir = path.join(ctx.runDir, 'checkpoints', name);
    const contents: CheckpointContents = {
      runId: ctx.runId,
      epoch: at.epoch,
      step: at.step,
      config: ctx.config,
      weights,
      optimizer,
      metrics: { ...this.final, ...metrics },
      backend: ctx.backend,
      createdAt: Date.now(),
    };
    const bytes = writeCheckpointDir(dir, contents);
    this.emit({ type: 'checkpoint', epoch: at.epoch, step: at.step, tag, dir, bytes, metrics: contents.metrics });
    return dir;
  }
}
