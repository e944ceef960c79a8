// One task's state from everything there is to know: Slurm's queue, what slurmctld or sacct remember, the
// completion marker the task script writes last, and the task's log. Pure, so every case is tested.
import type { SlurmTaskInfo } from './slurm';
import { FINAL_TASK_STATES, type TaskState } from '@shared/cluster-types';

export interface TaskEvidence {
  previous: TaskState;
  /** null when squeue could not be asked; then the queue says nothing. */
  queued: SlurmTaskInfo | null | undefined;
  queueKnown: boolean;
  remembered: SlurmTaskInfo | undefined;
  /** The exit code in tasks/<i>/exit, or null when the marker does not exist (yet). */
  marker: number | null;
  log: string;
  cancelRequested: boolean;
  /** The job left the queue long enough ago that a task without any trace cannot still be starting. */
  settled: boolean;
}

export interface ResolvedState {
  state: TaskState;
  exitCode: number | null;
  reason: string | null;
}

const TIME_LIMIT = /DUE TO TIME LIMIT/;
const CANCELLED = /\*\*\* (JOB|STEP) \S+ ON \S+ CANCELLED/;

export function resolveTaskState(e: TaskEvidence): ResolvedState {
  const slurmFinal = e.remembered && FINAL_TASK_STATES.includes(e.remembered.state) ? e.remembered : undefined;
  if (e.marker !== null) {
    // train exited 0: the run completed, even if a cancel reached the script while it wrote the marker.
    if (e.marker === 0) return { state: 'completed', exitCode: 0, reason: null };
    if (slurmFinal) return { state: slurmFinal.state, exitCode: e.marker, reason: reasonOf(slurmFinal, e.log) };
    if (TIME_LIMIT.test(e.log)) return { state: 'timeout', exitCode: e.marker, reason: 'DUE TO TIME LIMIT' };
    if (e.marker === 130 || e.marker === 143 || CANCELLED.test(e.log)) return { state: 'cancelled', exitCode: e.marker, reason: null };
    return { state: 'failed', exitCode: e.marker, reason: null };
  }
  if (e.queued) return { state: e.queued.state, exitCode: null, reason: e.queued.reason };
  if (slurmFinal)
    return {
      state: slurmFinal.state,
      exitCode: slurmFinal.exitCode,
      reason: reasonOf(slurmFinal, e.log) ?? (slurmFinal.state === 'failed' ? 'ended without a completion marker' : null),
    };
  if (!e.queueKnown) return { state: e.previous, exitCode: null, reason: null };
  if (TIME_LIMIT.test(e.log)) return { state: 'timeout', exitCode: null, reason: 'DUE TO TIME LIMIT' };
  if (CANCELLED.test(e.log) || e.cancelRequested) return { state: 'cancelled', exitCode: null, reason: null };
  if (FINAL_TASK_STATES.includes(e.previous)) return { state: e.previous, exitCode: null, reason: null };
  if (!e.settled) return { state: e.previous, exitCode: null, reason: null };
  return { state: 'failed', exitCode: null, reason: 'left the queue without a completion marker (killed, or its node failed)' };
}

function reasonOf(info: SlurmTaskInfo, log: string): string | null {
  if (info.state === 'timeout' || TIME_LIMIT.test(log)) return 'DUE TO TIME LIMIT';
  if (/OUT_OF_MEMORY/.test(info.raw)) return 'out of memory';
  if (/NODE_FAIL/.test(info.raw)) return 'node failure';
  if (info.state === 'failed' && info.reason && info.reason !== 'NonZeroExitCode') return info.reason;
  return null;
}
