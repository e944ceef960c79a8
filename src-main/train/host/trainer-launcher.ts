// How to start a trainer process. Trainers always run the built entry (out/main/trainer.js), the one the
// desktop app, the CLI and the web host ship: from the bundle it is this module's sibling; from the
// TypeScript sources (unit tests) it is the project's own build, which `npm test` makes first.
import { fork, type ChildProcess } from 'node:child_process';
import { builtEntry } from '../../os/built-entry';

export interface TrainerLaunch {
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
}

/** The built trainer entry: `<build>/trainer.js` beside the entry this code was bundled into, or `<root>/out/main/trainer.js` from the sources. */
export function trainerEntry(): string {
  const entry = builtEntry('trainer.js');
  if (!entry) throw new Error('the trainer entry out/main/trainer.js is not built (run `npm run build`)');
  return entry;
}

/**
 * V8 flags a trainer needs: relaxed SIMD (the FMA variant of our wasm GEMM, kernels/wasm-gemm.ts) is on by default
 * in Electron 40 and Node >= 22; Node 20 has it behind --experimental-wasm-relaxed-simd.
 */
export function trainerExecArgv(versions: NodeJS.ProcessVersions = process.versions): string[] {
  const major = Number(versions.node.split('.')[0]);
  return !versions.electron && major < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
}

export function trainerLaunch(): TrainerLaunch {
  return { script: trainerEntry(), execArgv: trainerExecArgv(), env: process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {} };
}

/** Variables a trainer may inherit by exact name; plus every VAE_WORKBENCH_* one. Nothing else (no NODE_OPTIONS). */
const INHERITED = [
  'PATH',
  'HOME',
  'USERPROFILE',
  'TMPDIR',
  'TEMP',
  'TMP',
  'LANG',
  'LC_ALL',
  'TZ',
  'SYSTEMROOT',
  'APPDATA',
  'LOCALAPPDATA',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
];
const NEVER = new Set([
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'NODE_REPL_EXTERNAL_MODULE',
  'LD_PRELOAD',
  'LD_LIBRARY_PATH',
  'DYLD_INSERT_LIBRARIES',
]);

/**
 * The trainer's environment, built from an allowlist into a null-prototype object: only own, string values of
 * the listed names and of VAE_WORKBENCH_*, then the launch's own variables. Never a copy of process.env (or of
 * any object whose prototype might carry injected keys), never NODE_OPTIONS.
 */
export function trainerEnv(source: NodeJS.ProcessEnv = process.env, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.create(null) as NodeJS.ProcessEnv;
  const take = (name: string, from: NodeJS.ProcessEnv) => {
    const value = Object.hasOwn(from, name) ? from[name] : undefined;
    if (typeof value === 'string' && !NEVER.has(name.toUpperCase())) env[name] = value;
  };
  for (const name of INHERITED) take(name, source);
  for (const name of Object.keys(source)) if (name.startsWith('VAE_WORKBENCH_')) take(name, source);
  for (const name of Object.keys(extra)) if (name === 'ELECTRON_RUN_AS_NODE' || name.startsWith('VAE_WORKBENCH_')) take(name, extra);
  return env;
}

export function spawnTrainer(launch: TrainerLaunch = trainerLaunch()): ChildProcess {
  return fork(launch.script, [], {
    execArgv: launch.execArgv,
    env: trainerEnv(process.env, launch.env),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
}
