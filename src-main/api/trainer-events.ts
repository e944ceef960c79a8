// What the service records of each event a trainer process reports (progress, metrics, artifacts, checkpoints,
// log lines) and re-emits to the hosts; and the log line written when a run is cancelled (cancelLine).
import type { EventName, EventPayload } from '@shared/contract';
import { supersededCheckpoints } from '../checkpoints/checkpoint-rules';
import type { MetricWriter } from '../store/metric-writer';
import type { RunStore } from '../store/run-store';
import type { TrainerEvent } from '../train/common/messages';

export interface TrainerEventContext {
  store: RunStore;
  /** Trainers' metric points, written behind in batches. */
  metrics: MetricWriter;
  /** The latest progress of each running run, and when it was last written to the store. */
  lastProgress: Map<number, EventPayload<'run.progress'>>;
  lastProgressWrite: Map<number, number>;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
}

/** Record one trainer event of run `runId` and emit it; `done` is recorded when the process exits, not here. */
export function recordTrainerEvent(ctx: TrainerEventContext, runId: number, event: TrainerEvent): void {
  const { store } = ctx;
  switch (event.type) {
    case 'started':
      store.setStatus(runId, 'running', { backend: event.backend });
      ctx.emit('run.status', { runId, status: 'running', error: null });
      break;
    case 'progress': {
      ctx.lastProgress.set(runId, { runId, ...event.progress });
      const now = Date.now();
      if (now - (ctx.lastProgressWrite.get(runId) ?? 0) > 1000) {
        ctx.lastProgressWrite.set(runId, now);
        store.updateProgress(runId, event.progress.step, event.progress.epoch);
      }
      ctx.emit('run.progress', { runId, ...event.progress });
      break;
    }
    case 'metrics':
      ctx.metrics.add(runId, event.points);
      ctx.emit('run.metrics', { runId, points: event.points });
      break;
    case 'artifact': {
      const { kind, epoch, step, mime, width, height, meta } = event;
      const data = Buffer.from(event.dataBase64, 'base64');
      ctx.emit('run.artifact', store.addArtifact(runId, { kind, epoch, step, mime, width, height, meta, data }));
      break;
    }
    case 'checkpoint': {
      for (const old of supersededCheckpoints(store.listCheckpoints(runId), event.dir)) store.removeCheckpoint(old.id);
      const { epoch, step, tag, bytes, metrics } = event;
      ctx.emit('run.checkpoint', store.addCheckpoint(runId, { epoch, step, tag, path: event.dir, bytes, metrics }));
      break;
    }
    case 'log':
      store.log(runId, event.level, event.message);
      ctx.emit('run.log', { runId, time: Date.now(), level: event.level, message: event.message });
      break;
    case 'done':
      break; // recorded when the process exits
  }
}

/** "cancelled by the user at epoch 2 of 10, step 130 of 630: 1 epoch completed; ..." (WorkbenchService.logCancel). */
export function cancelLine(
  by: string,
  p: EventPayload<'run.progress'> | undefined,
  checkpoints: { epoch: number; tag: string }[],
  final: Record<string, number>,
): string {
  if (!p) return `cancelled by ${by} before training started: nothing was trained`;
  const stepsPerEpoch = p.totalEpochs > 0 && p.totalSteps > 0 ? p.totalSteps / p.totalEpochs : 0;
  const done = stepsPerEpoch > 0 ? Math.floor(p.step / stepsPerEpoch + 1e-9) : Math.floor(p.epoch);
  const current = Math.min(done + 1, Math.max(1, p.totalEpochs));
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const parts = [`${plural(done, 'epoch')} of ${p.totalEpochs} completed`];
  const last = [...checkpoints].sort((a, b) => b.epoch - a.epoch)[0];
  parts.push(last ? `the last checkpoint is at epoch ${last.epoch} (${last.tag})` : 'no checkpoint was written');
  if (final['test/loss'] === undefined) parts.push('no test evaluation');
  return `cancelled by ${by} at epoch ${current} of ${p.totalEpochs}, step ${p.step} of ${p.totalSteps}: ${parts.join('; ')}`;
}
