// Runs logged from Python (clients/python, the vaewb client) followed live by the service: a real Python process
// writes a run folder in a watched source while the service (host "web": its watcher scans twice a second) turns
// each new line into rows and the events the UI follows, within 2 s; a script killed with SIGKILL becomes an
// interrupted run with every point logged before the kill; a restart imports nothing twice and picks up appended
// lines from their byte offset; hostile folders (symbolic links out, FIFOs, over-long lines, junk) are refused
// or skipped without blocking, and the other runs go on.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '@shared/contract';
import { ROOT, WorkbenchService } from '../built';

const PYTHON = process.env.VAE_WORKBENCH_PYTHON ?? '/usr/bin/python3';
const CLIENT = path.join(ROOT, 'clients', 'python');
const havePython = existsSync(PYTHON);
if (!havePython) console.warn(`sources tests skipped: ${PYTHON} does not exist (set VAE_WORKBENCH_PYTHON)`);

const home = mkdtempSync(path.join(os.tmpdir(), 'vaewb-sources-'));
const source = path.join(home, 'runs');
mkdirSync(source);
const children: ChildProcess[] = [];
let service: WorkbenchService | null = null;

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await service?.close();
});

function python(code: string): ChildProcess {
  const child = spawn(PYTHON, ['-u', '-c', `import sys, time; sys.path.insert(0, ${JSON.stringify(CLIENT)}); import vaewb\n${code}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return child;
}

function line(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(text)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`python exited (${code}) before printing ${text}`)));
  });
}

async function until<T>(what: string, fn: () => T | null | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function runNamed(s: WorkbenchService, name: string) {
  return s.store.listRuns({}).runs.find((r) => r.name === name);
}

describe.skipIf(!havePython)('runs logged from Python in a watched source', () => {
  const events: { at: number; e: WorkbenchEvent }[] = [];

  it('follows a live run: every point reaches the events within 2 s, the status follows the script', async () => {
    service = new WorkbenchService({ host: 'web', dataHome: path.join(home, 'data') });
    service.onEvent((e) => events.push({ at: Date.now(), e }));
    const added = await service.call('sources.add', { path: source });
    expect(added).toMatchObject({ path: source, runs: 0, kind: 'python' });
    const child = python(
      `run = vaewb.init(project='live', name='live run', config={'lr': 0.001, 'dataset': 'mnist', 'batch_size': 32}, dir=${JSON.stringify(source)}, total_steps=80)
for i in range(8):
    run.log({'train/loss': 100.0 - i, 'test/loss': 90.0 - i, 'test/recon': 70.0 - i, 'test/kl': 20.0,
             'test/klPerDim': [2.0] * 10, 'test/activeUnits': 10}, step=(i + 1) * 10, epoch=i + 1)
    run.log_images('samples/prior', [[[j / 8.0] * 8 for j in range(8)]] * 4, step=(i + 1) * 10, epoch=i + 1)
    time.sleep(0.3)
print('logged', flush=True)
time.sleep(1.0)
run.finish()`,
    );
    await line(child, 'logged');
    const run = await until('the run', () => runNamed(service!, 'live run'));
    expect(run.tags).toEqual(['python', 'live']);
    expect(events.find((x) => x.e.event === 'run.created' && x.e.payload.id === run.id)).toBeTruthy();
    await until('completed', () => service!.store.getRun(run.id)?.status === 'completed', 6000);
    // every point arrived as an event within 2 s of being written by the script (its line's time)
    const points = events.flatMap((x) =>
      x.e.event === 'run.metrics' && x.e.payload.runId === run.id ? x.e.payload.points.map((p) => ({ p, at: x.at })) : [],
    );
    expect(points.filter((x) => x.p.name === 'test/loss').map((x) => x.p.value)).toEqual([90, 89, 88, 87, 86, 85, 84, 83]);
    for (const x of points) expect(x.at - x.p.time).toBeLessThan(2000);
    const final = service.store.getRun(run.id)!;
    expect(final.final).toMatchObject({ 'test/loss': 83, 'test/recon': 63, 'test/kl': 20, 'test/activeUnits': 10 });
    expect(final.epoch).toBe(8);
    const artifacts = service.store.listArtifacts(run.id);
    expect(artifacts.filter((a) => a.kind === 'prior-samples')).toHaveLength(8);
    expect(artifacts.filter((a) => a.kind === 'kl-per-dim')).toHaveLength(8);
    expect(events.some((x) => x.e.event === 'run.artifact' && x.e.payload.runId === run.id)).toBe(true);
    expect(events.some((x) => x.e.event === 'run.status' && x.e.payload.runId === run.id && x.e.payload.status === 'completed')).toBe(true);
    // live progress, as a workbench run sends it: step and epoch of the newest line, the total the script gave,
    // its pace (32 a batch) and an ETA; each within 2 s of its line
    const progress = events.flatMap((x) =>
      x.e.event === 'run.progress' && x.e.payload.runId === run.id ? [{ p: x.e.payload, at: x.at }] : [],
    );
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.map((x) => x.p.step)).toEqual([...progress.map((x) => x.p.step)].sort((a, b) => a - b));
    expect(progress.at(-1)!.p).toMatchObject({ step: 80, epoch: 8, totalSteps: 80, phase: 'training (logged from Python)' });
    for (const { p } of progress) {
      expect(p.totalSteps).toBe(80);
      expect(p.epoch).toBe(p.step / 10);
      expect(p.samplesPerSec).toBeGreaterThan(0);
      expect(p.etaSeconds).not.toBeNull();
      // the script logs a step every 0.03 s (10 steps per 0.3 s): the ETA is the steps left at that pace, give or take
      expect(p.etaSeconds!).toBeLessThan(((80 - p.step) / 10) * 0.3 * 3 + 1);
    }
    const lineTime = (step: number) => points.find((x) => x.p.step === step)!.p.time;
    for (const { p, at } of progress) expect(at - lineTime(p.step)).toBeLessThan(2000);
    const statusAt = events.findIndex(
      (x) => x.e.event === 'run.status' && x.e.payload.runId === run.id && x.e.payload.status === 'completed',
    );
    expect(events.slice(statusAt).some((x) => x.e.event === 'run.progress' && x.e.payload.runId === run.id)).toBe(false);
  });

  it('a script killed with SIGKILL becomes an interrupted run with every point logged before the kill', async () => {
    const child = python(
      `run = vaewb.init(project='kill', name='killed run', dir=${JSON.stringify(source)})
for i in range(40):
    run.log({'train/loss': float(i)}, step=i + 1)
print('ready', flush=True)
time.sleep(60)`,
    );
    await line(child, 'ready');
    const run = await until('the run', () => runNamed(service!, 'killed run'));
    await until('running', () => service!.store.getRun(run.id)?.status === 'running');
    // another process opening the same data home (the CLI) leaves a followed run's status to its status.json
    const other = new WorkbenchService({ host: 'cli', dataHome: path.join(home, 'data') });
    await other.close();
    expect(service!.store.getRun(run.id)!.status).toBe('running');
    child.kill('SIGKILL');
    await until('interrupted', () => service!.store.getRun(run.id)?.status === 'interrupted', 5000);
    const [series] = service!.store.series([run.id], 'train/loss', { x: 'step', maxPoints: 1000 });
    expect(series!.points.map((p) => p.y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(service!.store.getRun(run.id)!.error).toMatch(/ended without finishing/);
  });

  it('a restart imports nothing twice and picks up appended lines from their byte offset', async () => {
    const before = service!.store.listRuns({}).runs.map((r) => [r.id, r.name]);
    const killed = runNamed(service!, 'killed run')!;
    await service!.close();
    service = new WorkbenchService({ host: 'cli', dataHome: path.join(home, 'data') });
    expect(await service.call('sources.scan', {})).toEqual({ changed: 0 });
    expect(service.store.listRuns({}).runs.map((r) => [r.id, r.name])).toEqual(before);
    const folder = path.join(source, 'kill', (await import('node:fs')).readdirSync(path.join(source, 'kill'))[0]!);
    appendFileSync(
      path.join(folder, 'metrics.jsonl'),
      `${JSON.stringify({ step: 41, time: Date.now(), values: { 'train/loss': 40 } })}\n{"step": 42, "ti`,
    );
    expect(await service.call('sources.scan', {})).toEqual({ changed: 1 });
    const [series] = service.store.series([killed.id], 'train/loss', { x: 'step', maxPoints: 1000 });
    expect(series!.points).toHaveLength(41); // the half-written last line waits for its newline
    expect(await service.call('sources.list', {})).toEqual([expect.objectContaining({ path: source, runs: 2, lastError: null })]);
  });

  it('refuses hostile folders without blocking and goes on with the others', async () => {
    const s = service!;
    const make = (name: string) => {
      const dir = path.join(source, 'hostile', name);
      mkdirSync(path.join(dir, 'images'), { recursive: true });
      const meta = { format: 'vaewb-run', formatVersion: 1, id: name, project: 'hostile', name, config: {}, createdAt: Date.now() };
      writeFileSync(path.join(dir, 'run.json'), JSON.stringify(meta));
      const st = { state: 'completed', pid: 1, host: 'elsewhere', startedAt: Date.now(), updatedAt: Date.now(), finishedAt: Date.now() };
      writeFileSync(path.join(dir, 'status.json'), JSON.stringify(st));
      return dir;
    };
    const secret = path.join(home, 'secret.txt');
    writeFileSync(secret, '{"step": 1, "time": 1, "values": {"leak": 1}}\n');
    symlinkSync(secret, path.join(make('symlinked-metrics'), 'metrics.jsonl'));
    execFileSync('mkfifo', [path.join(make('fifo-images'), 'images.jsonl')]);
    writeFileSync(path.join(make('long-line'), 'metrics.jsonl'), 'x'.repeat(5 * 1024 * 1024));
    const junk = make('junk-lines');
    writeFileSync(
      path.join(junk, 'metrics.jsonl'),
      [
        'not json',
        '{"step": -1, "time": 1, "values": {}}',
        '{"step": 3, "time": 1, "values": {"ok": 2}}',
        '{"step": 3, "time": 1, "values": {"__proto__": 1, "ok": 9}}',
        '{"step": 4, "time": 1, "values": {"ok": 3}}',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(junk, 'images.jsonl'),
      `${JSON.stringify({ key: 'samples/prior', step: 1, time: 1, file: '../../../secret.txt', width: 1, height: 1 })}\n`,
    );
    symlinkSync(path.join(source, 'kill'), path.join(source, 'hostile', 'linked-run'));
    const t0 = Date.now();
    await s.call('sources.scan', {});
    await s.call('sources.scan', {});
    expect(Date.now() - t0).toBeLessThan(5000);
    const log = (name: string) =>
      s.store
        .getLog(runNamed(s, name)!.id, 100)
        .map((e) => e.message)
        .join('\n');
    expect(log('symlinked-metrics')).toMatch(/symbolic link/);
    expect(log('fifo-images')).toMatch(/not a regular file/);
    expect(log('long-line')).toMatch(/SOURCE_MAX_LINE_BYTES/);
    expect(s.store.metricNames([runNamed(s, 'symlinked-metrics')!.id])).toEqual([]);
    const junkRun = runNamed(s, 'junk-lines')!;
    expect(log('junk-lines')).toMatch(/3 line\(s\) that are not valid were skipped/);
    expect(log('junk-lines')).toMatch(/skipped an image/);
    expect(s.store.series([junkRun.id], 'ok', { x: 'step', maxPoints: 10 })[0]!.points.map((p) => p.y)).toEqual([2, 3]);
    expect(s.store.metricNames([junkRun.id])).toEqual(['ok']);
    expect(s.store.getRun(junkRun.id)!.status).toBe('completed');
    expect(s.store.listRuns({}).runs.filter((r) => r.name === 'killed run')).toHaveLength(1); // the linked folder is not a run
  });
});
