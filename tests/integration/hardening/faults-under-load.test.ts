// Issue 11: faults under load. Two runs train while bundles are imported and exported and the UI is served over
// the web host; trainers are SIGKILLed at seeded random moments (bounded count). Then: integrity_check passes,
// every run's final status tells the truth (killed -> failed with the reason, others completed with a checkpoint
// on disk), and no temporary file remains. A second part SIGKILLs the whole `serve` process (and its trainer)
// in the middle of imports: the next start marks its run interrupted and leaves no temporary behind.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../../../src-main/hosts/web/server';
import { smallBundle } from './bundle-fixture';
import { WorkbenchService, startWebHost } from '../../built';

const ROOT = path.resolve(__dirname, '../../..');
let home: string;

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-faults-'));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pids of trainer processes whose parent is `parent`. */
function trainers(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('trainer.js')) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}

function temporaries(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name.startsWith('.tmp-') || /\.tmp(-|$)/.test(e.name)) found.push(p);
      else if (e.isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return found;
}

function integrity(service: WorkbenchService): unknown {
  return (service.store as unknown as { db: { pragma(s: string, o: { simple: boolean }): unknown } }).db.pragma('integrity_check', {
    simple: true,
  });
}

const RUN = {
  data: { dataset: 'mnist', trainLimit: 1000, testLimit: 200 },
  model: { hidden: [32], latentDim: 2 },
  training: { batchSize: 100, epochs: 6, logEverySteps: 5 },
  eval: { iwSamples: 5, fid: false },
  snapshots: { everyEpochs: 3 },
};

describe('faults under load', () => {
  it('trainers SIGKILLed at random while runs train, bundles move and the UI is served: statuses true, store intact, nothing left', async () => {
    const random = rng(20261202);
    const dataHome = path.join(home, 'load');
    const rendererDir = path.join(home, 'renderer');
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>VAE Workbench</title>');
    const service = new WorkbenchService({ host: 'web', dataHome, concurrency: 2 });
    const host: WebHost = await startWebHost({ service, rendererDir, port: 0 });
    const api = async (name: string, body: unknown) => {
      const r = await fetch(`http://127.0.0.1:${host.port}/api/${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${host.token}` },
        body: JSON.stringify(body),
      });
      return (await r.json()) as { ok: boolean; result: any; error?: { message: string } };
    };
    const killed = new Set<number>();
    try {
      const ids: number[] = [];
      for (let i = 0; i < 4; i++) ids.push((await api('runs.start', { config: { ...RUN, name: `load ${i}`, seed: i + 1 } })).result.runId);
      const bundle = Buffer.from(smallBundle()).toString('base64');
      let traffic = true;
      const load = (async () => {
        let n = 0;
        while (traffic) {
          const imported = await api('bundles.import', { filename: 'b.zip', dataBase64: bundle, again: true });
          expect(imported.ok, imported.error?.message).toBe(true);
          const exported = await api('bundles.export', { runId: imported.result.runId });
          expect(exported.ok, exported.error?.message).toBe(true);
          expect((await fetch(`http://127.0.0.1:${host.port}/`)).status).toBe(200);
          await api('runs.list', {});
          if (++n % 3 === 0) await api('runs.delete', { runIds: [imported.result.runId] });
        }
      })();
      // Up to 2 kills, each at a seeded moment while some trainer runs.
      for (let k = 0; k < 2; k++) {
        await new Promise((r) => setTimeout(r, 500 + random() * 2500));
        const pids = trainers(process.pid);
        if (!pids.length) continue;
        const pid = pids[Math.floor(random() * pids.length)]!;
        process.kill(pid, 'SIGKILL');
        killed.add(pid);
      }
      const deadline = Date.now() + 240_000;
      while (Date.now() < deadline && service.store.listRuns({ status: ['queued', 'running'] }).total > 0)
        await new Promise((r) => setTimeout(r, 200));
      traffic = false;
      await load;
      expect(killed.size).toBeGreaterThan(0);
      const runs = ids.map((id) => service.store.getRun(id)!);
      const failed = runs.filter((r) => r.status === 'failed');
      expect(failed.length, 'one failed run per kill').toBe(killed.size);
      for (const r of failed) expect(r.error).toMatch(/the trainer process ended unexpectedly \(killed by SIGKILL\)/);
      for (const r of runs.filter((x) => x.status !== 'failed')) {
        expect(r.status).toBe('completed');
        const checkpoints = service.store.listCheckpoints(r.id);
        expect(checkpoints.length).toBeGreaterThan(0);
        for (const c of checkpoints) expect(existsSync(c.path)).toBe(true);
      }
      expect(integrity(service)).toBe('ok');
    } finally {
      await host.close();
      await service.close();
    }
    expect(temporaries(dataHome)).toEqual([]);
    const again = new WorkbenchService({ host: 'cli', dataHome });
    expect(integrity(again)).toBe('ok');
    await again.close();
  }, 300_000);

  it('a trainer killed mid-write: its temporaries go when the host hears of its end, not at the next start', async () => {
    // Where a SIGKILL lands is chance; what a killed trainer leaves is not: a temporary named with its pid. One is
    // planted (a dataset cache being written, as the first test once caught), the trainer killed, and the host that
    // keeps running must remove it while it serves (the next start would be too late: the file sits in the cache).
    const dataHome = path.join(home, 'mid-write');
    const service = new WorkbenchService({ host: 'cli', dataHome });
    try {
      const runId = service.startRun({ ...RUN, name: 'killed mid-write', training: { ...RUN.training, epochs: 50 } });
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && !trainers(process.pid).length) await new Promise((r) => setTimeout(r, 100));
      const [pid] = trainers(process.pid);
      expect(pid).toBeDefined();
      const planted = path.join(dataHome, 'cache', `mnist-bundled.f32.${pid}.${Date.now()}.tmp`);
      writeFileSync(planted, 'half a cache');
      process.kill(pid!, 'SIGKILL');
      while (Date.now() < deadline && service.store.getRun(runId)!.status === 'running') await new Promise((r) => setTimeout(r, 100));
      expect(service.store.getRun(runId)!.status).toBe('failed');
      expect(existsSync(planted)).toBe(false);
      expect(temporaries(dataHome)).toEqual([]);
    } finally {
      await service.close();
    }
  }, 120_000);

  it('SIGKILL of the whole serve process mid-import: the next start marks its run interrupted and leaves no temporary', async () => {
    const dataHome = path.join(home, 'serve-kill');
    const child = spawn(process.execPath, ['bin/vae-workbench.js', 'serve', '--json'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: home, VAE_WORKBENCH_HOME: dataHome },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const { port, token } = await new Promise<{ port: number; token: string }>((resolve) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
      });
    });
    const api = (name: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}/api/${name}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      })
        .then((r) => r.json() as Promise<{ ok: boolean; result: any }>)
        .catch(() => null);
    const started = await api('runs.start', { config: { ...RUN, training: { ...RUN.training, epochs: 50 } } });
    const runId = started!.result.runId as number;
    const bundle = Buffer.from(smallBundle()).toString('base64');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !trainers(child.pid!).length) await new Promise((r) => setTimeout(r, 100));
    const imports = Array.from({ length: 4 }, () => api('bundles.import', { filename: 'b.zip', dataBase64: bundle, again: true }));
    await new Promise((r) => setTimeout(r, 150));
    const trainerPids = trainers(child.pid!);
    child.kill('SIGKILL');
    for (const pid of trainerPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone (it exits when its parent disconnects) */
      }
    }
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
    await Promise.all(imports);
    await exited;
    const service = new WorkbenchService({ host: 'cli', dataHome });
    try {
      expect(service.store.getRun(runId)!.status).toBe('interrupted');
      expect(integrity(service)).toBe('ok');
    } finally {
      await service.close();
    }
    expect(temporaries(dataHome)).toEqual([]);
  }, 120_000);
});
