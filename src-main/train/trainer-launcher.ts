// How to start a trainer process. Trainers always run the built entry (out/main/trainer.js), the one the
// desktop app, the CLI and the web host ship: from the bundle it is this module's sibling; from the
// TypeScript sources (unit tests) it is the project's own build, which `npm test` makes first.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface TrainerLaunch {
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
}

/** The built trainer entry: `<build>/trainer.js` beside the entry this code was bundled into, or `<root>/out/main/trainer.js` from the sources. */
export function trainerEntry(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (path.basename(dir) === 'main' && existsSync(path.join(dir, 'trainer.js'))) return path.join(dir, 'trainer.js');
    const fromRoot = path.join(dir, 'out', 'main', 'trainer.js');
    if (existsSync(path.join(dir, 'package.json')) && existsSync(fromRoot)) return fromRoot;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('the trainer entry out/main/trainer.js is not built (run `npm run build`)');
    dir = parent;
  }
}

export function trainerLaunch(): TrainerLaunch {
  return { script: trainerEntry(), execArgv: [], env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} };
}

export function spawnTrainer(launch: TrainerLaunch = trainerLaunch()): ChildProcess {
  return fork(launch.script, [], {
    execArgv: launch.execArgv,
    env: { ...process.env, ...launch.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
}
