// How to start a trainer process from wherever this code runs: TypeScript sources (CLI, web host, tests:
// run through tsx) or the electron-vite bundle (out/main/trainer.js, run by Electron as plain Node).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TrainerLaunch {
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
}

export function trainerLaunch(): TrainerLaunch {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  if (here.endsWith('.ts')) {
    return {
      script: path.join(dir, 'trainer-process.ts'),
      execArgv: ['--import', import.meta.resolve('tsx')],
      env: {},
    };
  }
  // Bundled: this module is inlined into out/main/index.js; the trainer is its sibling entry.
  const bundled = path.join(dir, 'trainer.js');
  if (!existsSync(bundled)) throw new Error(`trainer entry not found at ${bundled}`);
  return { script: bundled, execArgv: [], env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} };
}

export function spawnTrainer(launch: TrainerLaunch = trainerLaunch()): ChildProcess {
  return fork(launch.script, [], {
    execArgv: launch.execArgv,
    env: { ...process.env, ...launch.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
}
