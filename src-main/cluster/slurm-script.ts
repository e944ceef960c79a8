// The sbatch job-array script of a sweep: task i runs the workbench's own `train --config configs/i.json --json`
// with the built CLI, into its own data home tasks/i/home, with an explicit environment, then writes its exit code
// to tasks/i/exit (the completion marker, written last and atomically). SIGTERM (scancel, the time limit) goes to
// the train command, which cancels its run cleanly; the script itself ignores it so the marker is still written.
import type { SweepLayout } from './layout';
import type { SlurmOptions } from '@shared/cluster-types';

export interface TaskCommand {
  /** The node binary on the compute nodes. */
  node: string;
  /** bin/vae-workbench.js of a built workbench, visible from the compute nodes. */
  cli: string;
  /** Extra environment for every task (e.g. VAE_WORKBENCH_BACKEND). */
  env?: Record<string, string>;
}

/** Single-quote for bash. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function renderSlurmScript(layout: SweepLayout, jobName: string, tasks: number, cmd: TaskCommand): string {
  const env = Object.entries({ PATH: '/usr/local/bin:/usr/bin:/bin', ...(cmd.env ?? {}) })
    .filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  return `#!/bin/bash
#SBATCH --job-name=${shellQuote(jobName)}
#SBATCH --output=${shellQuote(layout.logsDir)}/%a.log
#SBATCH --array=0-${tasks - 1}
# Written by VAE Workbench: one array task per configuration of the sweep (see sweep.json beside this file).
set -u
i="\${SLURM_ARRAY_TASK_ID:?not run as a Slurm array task}"
root=${shellQuote(layout.root)}
task="$root/tasks/$i"
mkdir -p "$task/home"
rm -f "$task/exit" "$task/exit.tmp"
echo "vae-workbench: task $i of job \${SLURM_ARRAY_JOB_ID:-?} on $(hostname) at $(date -u +%FT%TZ)"
trap '' TERM
env -i HOME="$task/home" VAE_WORKBENCH_HOME="$task/home" ${env} \\
  SLURM_JOB_ID="\${SLURM_JOB_ID:-}" SLURM_ARRAY_JOB_ID="\${SLURM_ARRAY_JOB_ID:-}" SLURM_ARRAY_TASK_ID="$i" \\
  ${shellQuote(cmd.node)} ${shellQuote(cmd.cli)} train --config "$root/configs/$i.json" --json >"$task/result.json" &
child=$!
trap 'kill -TERM $child 2>/dev/null' TERM
wait $child; rc=$?
# wait returns early (>128) when a trapped signal arrives: keep waiting for the train command itself.
while kill -0 $child 2>/dev/null; do wait $child; rc=$?; done
echo "$rc" >"$task/exit.tmp" && mv -f "$task/exit.tmp" "$task/exit"
echo "vae-workbench: task $i ended with exit code $rc at $(date -u +%FT%TZ)"
exit "$rc"
`;
}

/** sbatch's command line options for the sweep's resources (the script carries name, output and array). */
export function sbatchArgs(opts: SlurmOptions, tasks: number): string[] {
  const args = ['--parsable'];
  if (opts.partition) args.push(`--partition=${opts.partition}`);
  if (opts.time) args.push(`--time=${opts.time}`);
  args.push(`--cpus-per-task=${opts.cpus ?? 1}`);
  if (opts.mem) args.push(`--mem=${opts.mem}`);
  if (opts.gpus) args.push(`--gpus=${opts.gpus}`);
  if (opts.maxParallel) args.push(`--array=0-${tasks - 1}%${opts.maxParallel}`);
  return args;
}
