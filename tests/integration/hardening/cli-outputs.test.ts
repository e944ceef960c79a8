// Issue 23 cases 8, 9 and 12 (delete): the CLI's output reaches a slow pipe whole; an output path that is not a
// regular file (FIFO, directory, symbolic link) is refused and left as it was; `runs delete` on a read-only runs/
// (as a user who cannot write it) fails naming the folder and keeps both the row and the files.
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallBundle } from './bundle-fixture';
import { spawnServe } from './web-host-fixture';
import { RunStore } from '../../built';

const ROOT = path.resolve(__dirname, '../../..');
let home: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[], opts: { uid?: number } = {}) =>
  spawnSync(process.execPath, ['bin/vae-workbench.js', ...args], { cwd: ROOT, env, encoding: 'utf8', ...opts });

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-cli-out-'));
  env = { PATH: process.env.PATH, HOME: home, VAE_WORKBENCH_HOME: path.join(home, 'data') };
  writeFileSync(path.join(home, 'b.zip'), smallBundle());
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('CLI outputs', () => {
  it('runs --json into a pipe read late is whole (more than the 128 KiB once cut)', () => {
    const store = RunStore.open(path.join(home, 'data', 'workbench.sqlite'));
    for (let i = 0; i < 120; i++)
      store.createRun({ name: `r${i}`, configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't', notes: 'n'.repeat(2000) });
    store.close();
    const r = spawnSync('sh', ['-c', `"${process.execPath}" bin/vae-workbench.js runs --json | (sleep 1; cat)`], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.stdout.length).toBeGreaterThan(200_000);
    const runs = JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown[];
    expect(runs).toHaveLength(120);
  });

  it('export --out refuses a FIFO, a directory and a symbolic link, and leaves each as it was', () => {
    const imported = cli(['import', path.join(home, 'b.zip'), '--json']);
    expect(imported.status).toBe(0);
    const runId = String(JSON.parse(imported.stdout.trim().split('\n').pop()!).runId);
    const fifo = path.join(home, 'out.fifo');
    spawnSync('mkfifo', [fifo]);
    const dir = path.join(home, 'out.dir');
    mkdirSync(dir);
    const link = path.join(home, 'out.link');
    symlinkSync('/etc/hostname', link);
    for (const [target, kind] of [
      [fifo, 'a FIFO (named pipe)'],
      [dir, 'a directory'],
      [link, 'a symbolic link'],
    ] as const) {
      const r = cli(['export', runId, '--out', target]);
      expect(r.status, r.stderr).not.toBe(0);
      expect(r.stderr).toContain(`${target} is ${kind}; only a regular file is replaced`);
    }
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(lstatSync(dir).isDirectory()).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(home).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const ok = cli(['export', runId, '--out', path.join(home, 'fine.zip')]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(statSync(path.join(home, 'fine.zip')).size).toBeGreaterThan(1000);
  });

  it('runs delete by a user who cannot write runs/ fails naming the folder and keeps the row and the files', () => {
    const imported = cli(['import', path.join(home, 'b.zip'), '--again', '--json']);
    const runId = Number(JSON.parse(imported.stdout.trim().split('\n').pop()!).runId);
    const runDir = path.join(home, 'data', 'runs', String(runId));
    expect(existsSync(runDir)).toBe(true);
    // Everyone may write the database and its folder; nobody but root may write runs/.
    for (const p of [home, path.join(home, 'data')]) chmodSync(p, 0o777);
    for (const f of readdirSync(path.join(home, 'data')))
      if (f.startsWith('workbench.sqlite')) chmodSync(path.join(home, 'data', f), 0o666);
    chmodSync(path.join(home, 'data', 'runs'), 0o755);
    const r = cli(['runs', 'delete', String(runId)], { uid: 65534 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`run ${runId} was not deleted: its folder ${runDir} cannot be removed (EACCES)`);
    expect(existsSync(runDir)).toBe(true);
    const list = JSON.parse(cli(['runs', '--json']).stdout.trim().split('\n').pop()!) as { id: number }[];
    expect(list.map((x) => x.id)).toContain(runId);
    expect(cli(['runs', 'delete', String(runId)]).status).toBe(0); // as root it goes, row and files
    expect(existsSync(runDir)).toBe(false);
  });

  it('serve stops on the first SIGTERM even while an upload holds a connection open', async () => {
    const { child, ...info } = await spawnServe(env);
    const socket = connect({ host: '127.0.0.1', port: info.port });
    socket.on('error', () => {});
    socket.write(
      `POST /api/bundles.import HTTP/1.1\r\nHost: 127.0.0.1:${info.port}\r\nAuthorization: Bearer ${info.token}\r\nContent-Length: 100000\r\n\r\n{"filename":"x.zip",`,
    );
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => (child.kill('SIGKILL'), resolve(-1)), 15_000);
      child.on('exit', (c) => (clearTimeout(timer), resolve(c)));
    });
    socket.destroy();
    expect(code, 'exit code (-1: still running 15 s after one SIGTERM)').toBe(0);
    expect(performance.now() - t0).toBeLessThan(7000);
  }, 60_000);
});
