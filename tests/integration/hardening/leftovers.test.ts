// Issue 11: nothing lost, nothing left. Run owners are judged by pid + start time (a zombie or a reused pid is not
// the owner), dead writers' temporaries are removed at every start, files are written via temp + rename.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkbenchService, writeFileAtomic, ownerAlive, processStartToken } from '../../built';

const ROOT = path.resolve(__dirname, '../../..');
let home: string;
beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-leftovers-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const runDb = (dataHome: string) => path.join(dataHome, 'workbench.sqlite');

describe('run owner liveness', () => {
  it('a live process is alive; a reused pid (other start time) and a missing pid are not', () => {
    expect(ownerAlive(process.pid, processStartToken())).toBe(true);
    expect(ownerAlive(process.pid, 'not-my-start-time')).toBe(process.platform !== 'linux');
    expect(ownerAlive(2 ** 22 + 12345, null)).toBe(false);
  });

  it('a killed owner that is still an unreaped zombie has its run marked interrupted on the very next look', async () => {
    const dataHome = path.join(home, 'zombie');
    // The owner is a child of a shell that exec's into `sleep` and never reaps it: after SIGKILL it stays a zombie.
    const script = `
      const { RunStore } = await import(${JSON.stringify(path.join(ROOT, 'src-main/store/run-store.ts'))});
      const s = RunStore.open(${JSON.stringify(runDb(dataHome))});
      const r = s.createRun({ name: 'owned', configText: '{}', config: {}, dataset: 'mnist', seed: 1, appVersion: 't', status: 'queued' });
      s.setStatus(r.id, 'running', { startedAt: Date.now() });
      process.stdout.write('ready ' + process.pid + '\\n');
      setInterval(() => {}, 1000);`;
    mkdirSync(dataHome, { recursive: true });
    const file = path.join(home, 'owner.mts');
    writeFileSync(file, script);
    const sh = spawn('sh', ['-c', `"${process.execPath}" --import tsx "${file}" & exec sleep 60`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const pid = await new Promise<number>((resolve) => {
        let out = '';
        sh.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /ready (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
      });
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0];
      expect(state, 'the killed owner is a zombie (not reaped), which kill(pid, 0) reports as alive').toBe('Z');
      const env = { PATH: process.env.PATH, HOME: home, VAE_WORKBENCH_HOME: dataHome };
      const r = spawnSync(process.execPath, ['bin/vae-workbench.js', 'runs', '--json'], { cwd: ROOT, env, encoding: 'utf8' });
      const runs = JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; error: string }[];
      expect(runs.map((x) => x.status)).toEqual(['interrupted']);
    } finally {
      sh.kill('SIGKILL');
    }
  }, 60_000);
});

describe('temporaries of dead processes', () => {
  it('are removed at every start, those of live writers are kept', async () => {
    const dataHome = path.join(home, 'temps');
    const ckpt = path.join(dataHome, 'runs', '7', 'checkpoints');
    const dead = path.join(ckpt, '.tmp-last-p4194000-0a0b0c0d');
    const live = path.join(ckpt, `.tmp-last-p${process.ppid}-0a0b0c0d`);
    const liveSame = path.join(ckpt, `.tmp-epoch-3-p${process.ppid}.${processStartToken(process.ppid)}-0a0b0c0d`);
    const reused = path.join(ckpt, `.tmp-epoch-4-p${process.ppid}.12345-0a0b0c0d`); // that pid now belongs to another process
    const old = path.join(ckpt, '.tmp-best-1a2b3c4d'); // no pid (older version), run 7 is not active
    const cache = path.join(dataHome, 'cache', 'mnist', `x.bin.4194001.${Date.now()}.tmp`);
    const atomic = path.join(dataHome, '.export.json.tmp-4194002-abcd1234');
    for (const d of [dead, live, liveSame, reused, old]) {
      mkdirSync(d, { recursive: true });
      writeFileSync(path.join(d, 'tensors.bin'), Buffer.alloc(1024));
    }
    mkdirSync(path.dirname(cache), { recursive: true });
    writeFileSync(cache, 'partial');
    writeFileSync(atomic, 'partial');
    // A start without any interrupted run still cleans (it used to clean only after an interruption).
    const service = new WorkbenchService({ host: 'cli', dataHome });
    await service.close();
    expect([dead, old, cache, atomic, ...(process.platform === 'linux' ? [reused] : [])].filter(existsSync)).toEqual([]);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(liveSame)).toBe(true);
  });
});

describe('atomic writes', () => {
  it('replace the file only when complete; a failed write leaves the old file and no temporary', () => {
    const dir = path.join(home, 'atomic');
    mkdirSync(dir);
    const file = path.join(dir, 'out.json');
    writeFileAtomic(file, 'good');
    writeFileSync(path.join(dir, '.out.json.tmp-4194003-deadbeef'), 'left by a killed export');
    writeFileAtomic(file, 'better');
    expect(readFileSync(file, 'utf8')).toBe('better');
    expect(readdirSync(dir)).toEqual(['out.json']);
    const blocked = path.join(dir, 'blocked');
    mkdirSync(path.join(blocked, 'inside'), { recursive: true });
    expect(() => writeFileAtomic(blocked, 'x')).toThrow();
    expect(readdirSync(dir).sort()).toEqual(['blocked', 'out.json']);
  });
});
