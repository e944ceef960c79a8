// The shared sweep folder: everything a cluster task reads or writes, and nothing else. It must be visible under
// the same path from the machine that submits and from every compute node (a shared file system). The local
// database is not in it: results come home by import.
//
//   <dir>/sweep.json            what was submitted (name, app version, number of tasks)
//   <dir>/job.sh                the sbatch job-array script
//   <dir>/configs/<i>.json      task i's run config, validated before submission
//   <dir>/logs/<i>.log          task i's stdout and stderr (Slurm's --output)
//   <dir>/tasks/<i>/home/       task i's own VAE_WORKBENCH_HOME (its database, run files, dataset cache)
//   <dir>/tasks/<i>/result.json the `train --json` summary
//   <dir>/tasks/<i>/exit        the completion marker: the train command's exit code, written last (atomically)
import path from 'node:path';

export interface SweepLayout {
  root: string;
  manifest: string;
  script: string;
  configsDir: string;
  logsDir: string;
  tasksDir: string;
  config(i: number): string;
  log(i: number): string;
  taskDir(i: number): string;
  taskHome(i: number): string;
  result(i: number): string;
  exitMarker(i: number): string;
}

export function sweepLayout(root: string): SweepLayout {
  const tasksDir = path.join(root, 'tasks');
  return {
    root,
    manifest: path.join(root, 'sweep.json'),
    script: path.join(root, 'job.sh'),
    configsDir: path.join(root, 'configs'),
    logsDir: path.join(root, 'logs'),
    tasksDir,
    config: (i) => path.join(root, 'configs', `${i}.json`),
    log: (i) => path.join(root, 'logs', `${i}.log`),
    taskDir: (i) => path.join(tasksDir, String(i)),
    taskHome: (i) => path.join(tasksDir, String(i), 'home'),
    result: (i) => path.join(tasksDir, String(i), 'result.json'),
    exitMarker: (i) => path.join(tasksDir, String(i), 'exit'),
  };
}

/** A folder name for a sweep: unique across databases sharing one base folder (time stamp) and readable. */
export function sweepFolderName(id: number, name: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const slug =
    name
      .normalize('NFKD')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'sweep';
  return `sweep-${stamp}-${id}-${slug}`;
}
