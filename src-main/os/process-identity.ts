// Who owns a run: a pid alone is not enough (a killed process stays a zombie until reaped, and a pid is reused).
// On Linux a process is identified by its pid plus its start time (field 22 of /proc/<pid>/stat, clock ticks since
// boot), which no later process with the same pid can share; a zombie (state Z/X) counts as dead. Elsewhere the
// identity is null and liveness falls back to kill(pid, 0).
import { readFileSync } from 'node:fs';

interface ProcStat {
  state: string;
  start: string;
}

function procStat(pid: number): ProcStat | null | undefined {
  if (process.platform !== 'linux') return undefined; // no /proc: unknown
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null; // no such process
  }
  // "pid (comm) state ppid ... starttime ..."; comm may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', start: fields[19] ?? '' };
}

/** This (or another) process's identity token: "<start ticks>" on Linux, null where it cannot be known. */
export function processStartToken(pid: number = process.pid): string | null {
  const stat = procStat(pid);
  return stat ? stat.start : null;
}

/** Whether the process that recorded (`pid`, `token`) is still alive and still the same process. */
export function ownerAlive(pid: number, token: string | null): boolean {
  const stat = procStat(pid);
  if (stat === null) return false;
  if (stat !== undefined) {
    if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
    if (token !== null && stat.start !== token) return false; // the pid was reused by another process
    return true;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
