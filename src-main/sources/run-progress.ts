// The live progress of a run logged from Python, as the run.progress event a workbench run sends: its step and
// epoch from the newest metric line, the total when the script said it (status.json: totalSteps / totalEpochs,
// from vaewb.init(total_steps=, total_epochs=) or config["epochs"]), the pace from the steps logged since the run
// started, and the ETA from both. Unknown totals are 0 and an unknown ETA is null, as the contract has them.
import type { EventPayload } from '@shared/contract';
import type { RunSummary } from '@shared/model-types';
import type { StatusJson } from './run-folder-format';

/** Config keys a script's batch size is found under (samples per second = steps per second x batch). */
const BATCH_KEYS = ['batch_size', 'batchSize', 'batch', 'training.batchSize'];

export const PYTHON_PHASE = 'training (logged from Python)';

export interface LoggedPosition {
  step: number;
  epoch: number;
  /** When the newest metric line was written (ms, the script's clock). */
  time: number;
}

function batchSize(params: RunSummary['params']): number {
  for (const k of BATCH_KEYS) {
    const v = params[k];
    if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  }
  return 0;
}

export function pythonProgress(run: RunSummary, at: LoggedPosition, status: StatusJson | null): EventPayload<'run.progress'> {
  const totalEpochs = status?.totalEpochs ?? 0;
  let totalSteps = status?.totalSteps ?? 0;
  // the total in epochs only: steps per epoch so far times the epochs (as the runs table estimates another process's)
  if (!totalSteps && totalEpochs && at.epoch > 0) totalSteps = Math.round((at.step / at.epoch) * totalEpochs);
  const started = status?.startedAt ?? run.startedAt ?? run.createdAt;
  const seconds = (at.time - started) / 1000;
  const stepsPerSec = seconds > 0 && at.step > 0 ? at.step / seconds : 0;
  const left = Math.max(0, totalSteps - at.step);
  return {
    runId: run.id,
    step: at.step,
    totalSteps,
    epoch: at.epoch,
    totalEpochs,
    samplesPerSec: stepsPerSec * batchSize(run.params),
    etaSeconds: totalSteps > 0 && stepsPerSec > 0 ? left / stepsPerSec : null,
    phase: PYTHON_PHASE,
  };
}
