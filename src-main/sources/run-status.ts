// A Python run's state as the workbench records it, from its status.json: the client writes "running" with a
// heartbeat every few seconds while the script lives, and its final state at exit (completed, failed, or
// interrupted on SIGTERM/SIGHUP/Ctrl-C). A script killed outright (SIGKILL, OOM killer, node lost) leaves "running":
// it is called interrupted when its pid is gone on this machine, or when its heartbeat is overdue by far.
import os from 'node:os';
import type { RunStatus } from '@shared/model-types';
import type { StatusJson } from './run-folder-format';

/** Heartbeats missed before a run on another machine counts as interrupted (and never less than 60 s). */
const MISSED_HEARTBEATS = 6;

function pidAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function effectiveStatus(status: StatusJson, now: number = Date.now()): { status: RunStatus; error: string | null } {
  if (status.state !== 'running') return { status: status.state, error: status.error ?? null };
  if (status.host === os.hostname() && !pidAlive(status.pid))
    return { status: 'interrupted', error: `interrupted: the logging process (pid ${status.pid}) ended without finishing the run` };
  const overdue = Math.max(60_000, status.heartbeatSeconds * 1000 * MISSED_HEARTBEATS);
  if (now - status.updatedAt > overdue)
    return {
      status: 'interrupted',
      error: `interrupted: no heartbeat from the logging process (pid ${status.pid} on ${status.host}) for ${Math.round((now - status.updatedAt) / 1000)} s`,
    };
  return { status: 'running', error: null };
}
