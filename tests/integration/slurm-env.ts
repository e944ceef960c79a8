// The local one-node Slurm cluster for the cluster tests: started with scripts/slurm-local.sh when Slurm is
// installed (or when CI is set: then it is installed too). Without Slurm outside CI the tests skip, saying why.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function nodeIdle(): boolean {
  const r = spawnSync('sinfo', ['-h', '-N', '-o', '%t', '-n', 'localhost'], { encoding: 'utf8' });
  return r.status === 0 && /^(idle|mix|alloc)/m.test(r.stdout);
}

/** null when the local Slurm is up; otherwise why it is not (and the tests skip). In CI a missing Slurm is an error. */
export function ensureLocalSlurm(): string | null {
  if (has('sinfo') && nodeIdle()) return null;
  const root_ = process.getuid?.() === 0;
  if (!has('sbatch') && !process.env.CI)
    return 'Slurm is not installed (apt-get install slurm-wlm munge, or run scripts/slurm-local.sh as root)';
  if (!root_ && !process.env.CI)
    return 'Slurm is installed but not running, and starting it needs root (run scripts/slurm-local.sh as root)';
  const r = spawnSync(path.join(root, 'scripts', 'slurm-local.sh'), [], { stdio: 'inherit', timeout: 600_000 });
  if (r.status === 0 && nodeIdle()) return null;
  const reason = `scripts/slurm-local.sh failed (exit ${r.status ?? r.signal})`;
  if (process.env.CI) throw new Error(`${reason}: the cluster tests must run in CI`);
  return reason;
}
