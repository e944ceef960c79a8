// Slurm as it is: sbatch, squeue, scontrol, sacct and scancel, run as commands, their output parsed here.
// Parsing is separate from running so it can be tested on captured output.
import { ApiError } from '@shared/errors';
import { execFile } from 'node:child_process';
import type { TaskState } from '@shared/cluster-types';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type CommandRunner = (cmd: string, args: string[]) => Promise<CommandResult>;

export const runCommand: CommandRunner = (cmd, args) =>
  new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = !e ? 0 : typeof e.code === 'number' ? e.code : e.code === 'ENOENT' ? 127 : 1;
      resolve({ code, stdout: String(stdout), stderr: e && e.code === 'ENOENT' ? `${cmd}: command not found` : String(stderr) });
    });
  });

export class SlurmError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'SlurmError';
  }
}

/** `sbatch --parsable` prints "<jobid>" or "<jobid>;<cluster>". */
export function parseSbatchOutput(stdout: string): string {
  const first = stdout.trim().split(/\r?\n/).pop() ?? '';
  const id = first.split(';')[0]!.trim();
  if (!/^\d+$/.test(id)) throw new SlurmError(`sbatch printed no job id: "${stdout.trim()}"`);
  return id;
}

/** Slurm's job states, reduced to the workbench's six; null for a state that says nothing final or live. */
export function mapSlurmState(raw: string): TaskState | null {
  const s = raw.trim().toUpperCase().split(/\s+/)[0]!.replace(/\+$/, '');
  if (['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'SUSPENDED', 'STOPPED', 'RESIZING'].includes(s))
    return 'pending';
  if (['RUNNING', 'CONFIGURING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT'].includes(s)) return 'running';
  if (s === 'COMPLETED') return 'completed';
  if (s === 'TIMEOUT' || s === 'DEADLINE') return 'timeout';
  if (s === 'CANCELLED') return 'cancelled';
  if (['FAILED', 'NODE_FAIL', 'OUT_OF_MEMORY', 'BOOT_FAIL', 'PREEMPTED', 'SPECIAL_EXIT', 'REVOKED'].includes(s)) return 'failed';
  return null;
}

/** "3", "0-3", "1,4-6", "0-7%2" → the task indices. */
export function expandTaskRange(text: string): number[] {
  const body = text.replace(/^\[|\]$/g, '').split('%')[0]!;
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const step = m[3] !== undefined ? Math.max(1, Number(m[3])) : 1;
    for (let i = a; i <= b && out.length < 100_000; i += step) out.push(i);
  }
  return out;
}

export interface SlurmTaskInfo {
  state: TaskState;
  raw: string;
  exitCode: number | null;
  reason: string | null;
}

/** `squeue -h -r -j JOB -o '%i|%T|%r'`: "123_4|RUNNING|None", or "123_[2-3]|PENDING|Resources" without -r. */
export function parseSqueue(stdout: string, jobId: string): Map<number, SlurmTaskInfo> {
  const out = new Map<number, SlurmTaskInfo>();
  for (const line of stdout.split(/\r?\n/)) {
    const [id, raw, reason] = line.trim().split('|');
    if (!id || !raw || !id.startsWith(`${jobId}_`)) continue;
    const state = mapSlurmState(raw);
    if (!state) continue;
    const why = reason && reason !== 'None' && reason !== '(null)' ? reason : null;
    for (const i of expandTaskRange(id.slice(jobId.length + 1))) out.set(i, { state, raw, exitCode: null, reason: why });
  }
  return out;
}

/** `scontrol show job -o JOB`: one line per array task still known to slurmctld (MinJobAge after its end). */
export function parseScontrol(stdout: string, jobId: string): Map<number, SlurmTaskInfo> {
  const out = new Map<number, SlurmTaskInfo>();
  for (const line of stdout.split(/\r?\n/)) {
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(\w+)=(\S*)/g)) if (!fields.has(m[1]!)) fields.set(m[1]!, m[2]!);
    if (fields.get('ArrayJobId') !== jobId) continue;
    const raw = fields.get('JobState') ?? '';
    const state = mapSlurmState(raw);
    const tasks = fields.get('ArrayTaskId');
    if (!state || !tasks) continue;
    const exit = /^(\d+):(\d+)$/.exec(fields.get('ExitCode') ?? '');
    const reason = fields.get('Reason');
    for (const i of expandTaskRange(tasks))
      out.set(i, { state, raw, exitCode: exit ? Number(exit[1]) : null, reason: reason && reason !== 'None' ? reason : null });
  }
  return out;
}

/** `sacct -n -P -X -j JOB -o JobID,State,ExitCode`: "123_0|COMPLETED|0:0", "123_[2-3]|PENDING|0:0", "123_1|CANCELLED by 0|0:15". */
export function parseSacct(stdout: string, jobId: string): Map<number, SlurmTaskInfo> {
  const out = new Map<number, SlurmTaskInfo>();
  for (const line of stdout.split(/\r?\n/)) {
    const [id, raw, exit] = line.trim().split('|');
    if (!id || !raw || !id.startsWith(`${jobId}_`)) continue;
    const state = mapSlurmState(raw);
    if (!state) continue;
    const m = /^(\d+):(\d+)$/.exec(exit ?? '');
    for (const i of expandTaskRange(id.slice(jobId.length + 1)))
      out.set(i, { state, raw, exitCode: m ? Number(m[1]) : null, reason: null });
  }
  return out;
}

export interface SlurmView {
  /** Tasks squeue lists (pending or running); null when squeue could not be asked. */
  queue: Map<number, SlurmTaskInfo> | null;
  /** Tasks slurmctld or the accounting database still remembers (including ended ones). */
  known: Map<number, SlurmTaskInfo>;
  warning: string | null;
}

export class Slurm {
  constructor(private readonly run: CommandRunner = runCommand) {}

  async submit(script: string, args: string[], cwd: string): Promise<string> {
    const r = await this.run('sbatch', [...args, `--chdir=${cwd}`, script]);
    if (r.code !== 0) throw new SlurmError(`sbatch failed (exit ${r.code}): ${(r.stderr || r.stdout).trim() || 'no message'}`);
    return parseSbatchOutput(r.stdout);
  }

  /** What Slurm knows about the job's tasks: squeue for the live ones, then scontrol and sacct for ended ones. */
  async view(jobId: string): Promise<SlurmView> {
    const q = await this.run('squeue', ['-h', '-r', '-j', jobId, '-o', '%i|%T|%r']);
    // squeue exits non-zero with "Invalid job id specified" once every task of the job has left slurmctld.
    const gone = /invalid job id/i.test(q.stderr);
    const queue = q.code === 0 ? parseSqueue(q.stdout, jobId) : gone ? new Map<number, SlurmTaskInfo>() : null;
    const known = new Map<number, SlurmTaskInfo>();
    const s = await this.run('scontrol', ['show', 'job', '-o', jobId]);
    if (s.code === 0) for (const [i, info] of parseScontrol(s.stdout, jobId)) known.set(i, info);
    const a = await this.run('sacct', ['-n', '-P', '-X', '-j', jobId, '-o', 'JobID,State,ExitCode']);
    if (a.code === 0)
      for (const [i, info] of parseSacct(a.stdout, jobId)) if (!known.has(i) || known.get(i)!.state === 'pending') known.set(i, info);
    const warning = queue === null ? `squeue failed (exit ${q.code}): ${(q.stderr || q.stdout).trim()}` : null;
    return { queue, known, warning };
  }

  async cancel(jobId: string, tasks?: number[]): Promise<void> {
    const targets = tasks?.length ? tasks.map((i) => `${jobId}_${i}`) : [jobId];
    const r = await this.run('scancel', targets);
    if (r.code !== 0) throw new SlurmError(`scancel failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }
}
