// The files the CLI reads because the user named them (train --config, sweep --config, import FILE) go through the
// one rule for untrusted files (src-main/hosts/cli/input-files.ts): a FIFO, /dev/zero, a 10 GB (sparse) file and
// JSON nested 100,000 deep are each refused within seconds with a message naming the file and the limit, exit 2,
// and nothing is written (no run). Before, a FIFO hung the CLI in readFileSync and deep JSON blew its stack.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../../built';

const ROOT = path.resolve(__dirname, '../../..');
let home: string;
let env: NodeJS.ProcessEnv;

/** The built CLI, killed after 20 s (status null then): a hang shows as a failure, not a stuck suite. */
function cli(args: string[]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['bin/vae-workbench.js', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr, ms: performance.now() - t0 };
}

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-cli-in-'));
  env = { PATH: process.env.PATH, HOME: home, VAE_WORKBENCH_HOME: path.join(home, 'data') };
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const COMMANDS: [string, (file: string) => string[], string][] = [
  ['train --config', (f) => ['train', '--config', f], 'config file'],
  ['sweep --config', (f) => ['sweep', '--config', f, '--on', 'slurm'], 'sweep file'],
  ['import', (f) => ['import', f], 'bundle'],
];

function expectRefused(r: ReturnType<typeof cli>, ...parts: string[]): void {
  expect(r.status, `exit code; stderr: ${r.stderr}`).toBe(2);
  for (const p of parts) expect(r.stderr).toContain(p);
  expect(r.ms, 'answer time (ms)').toBeLessThan(10_000);
}

function runsInStore(): number {
  const store = RunStore.open(path.join(home, 'data', 'workbench.sqlite'));
  try {
    return store.listRuns({}).total;
  } finally {
    store.close();
  }
}

describe('CLI input files under the one rule', () => {
  it.each(COMMANDS)('%s on a FIFO answers at once (no writer ever opens it)', (_name, args, what) => {
    const fifo = path.join(home, `in-${what.replace(' ', '-')}.fifo`);
    execFileSync('mkfifo', [fifo]);
    expectRefused(cli(args(fifo)), `${what}: ${fifo} is a FIFO (named pipe), not a regular file`);
  });

  it.each(COMMANDS)('%s on /dev/zero is refused as a character device (never read)', (_name, args, what) => {
    expectRefused(cli(args('/dev/zero')), `${what}: /dev/zero is a character device, not a regular file`);
  });

  it.each(COMMANDS)('%s on a 10 GB sparse file is refused by its size, naming the limit', (_name, args, what) => {
    const big = path.join(home, `big-${what.replace(' ', '-')}.json`);
    execFileSync('truncate', ['-s', '10G', big]);
    const limit = what === 'bundle' ? 'BUNDLE_MAX_FILE_BYTES' : 'UNTRUSTED_MAX_SMALL_FILE_BYTES';
    expectRefused(cli(args(big)), `${what}: ${big} is 10240 MiB, more than the limit`, limit);
  });

  it.each(COMMANDS.slice(0, 2))('%s with JSON nested 100,000 deep is refused naming UNTRUSTED_MAX_DEPTH', (_name, args, what) => {
    const deep = path.join(home, `deep-${what.replace(' ', '-')}.json`);
    writeFileSync(deep, '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000));
    expectRefused(cli(args(deep)), `${what} ${deep}: nested more than 64 levels deep`, 'UNTRUSTED_MAX_DEPTH');
  });

  it('a config file whose top level is not an object is refused naming it', () => {
    const list = path.join(home, 'list.json');
    writeFileSync(list, '[1, 2]');
    expectRefused(cli(['train', '--config', list]), `config file ${list}: the top level must be a JSON object`);
    expect(runsInStore()).toBe(0);
  });
});
