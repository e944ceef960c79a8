// The command line as a user runs it: real processes, a real data home, real training on the bundled MNIST.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const bin = path.join(root, 'bin', 'vae-workbench.js');
let home: string;
let work: string;

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...process.env, VAE_WORKBENCH_HOME: home, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const QUICK = {
  name: 'cli quick',
  seed: 3,
  data: { dataset: 'mnist', trainLimit: 1024, testLimit: 256 },
  model: { hidden: [64], latentDim: 4 },
  training: { batchSize: 64, epochs: 2 },
  eval: { iwSamples: 8, fid: false },
};

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vae-cli-'));
  home = path.join(work, 'home');
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('vae-workbench CLI', () => {
  it('answers --help and -h for every command from the command table (exit 0), and names the valid flags of an unknown one (exit 2)', () => {
    const main = cli(['--help']);
    const commands = [...main.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!);
    expect(new Set(commands)).toEqual(
      new Set([
        'info',
        'serve',
        'train',
        'resume',
        'runs',
        'export',
        'import',
        'generate',
        'datasets',
        'presets',
        'bench',
        'sweep',
        'sources',
        'help',
      ]),
    );
    for (const command of new Set(commands))
      for (const flag of ['--help', '-h']) {
        const r = cli([command, flag]);
        expect(r.code, `${command} ${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(new RegExp(`^vae-workbench ${command} — `));
        expect(r.stdout).toMatch(/Options:\n/);
      }
    expect(cli(['runs', 'show', '--help']).stdout).toMatch(/--metric EXPR/);
    const unknown = cli(['train', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("train: unknown option '--bogus'; its options are --config, --set, --preset, --json, --help");
    const sweep = cli(['sweep', '--nope']);
    expect(sweep.code).toBe(2);
    expect(sweep.stderr).toMatch(/sweep: unknown option '--nope'; its options are --config, --on, .*--task, --help/);
    expect(cli(['train', '--config']).stderr).toMatch(/train: .*--config.*its options are/);
  });

  it("README's command list is the command table's", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const block = /<!-- cli-commands:[^\n]*-->\n```sh\n([\s\S]*?)\n```/.exec(readme);
    expect(block, 'the generated block in README.md').not.toBeNull();
    const generated = cli(['help', '--readme']);
    expect(generated.code).toBe(0);
    expect(block![1]).toBe(generated.stdout.trimEnd());
  });

  it('prints help and info --json with dataHome and backend', () => {
    const help = cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/train --config/);
    const info = cli(['info', '--json']);
    expect(info.code).toBe(0);
    const parsed = lastJson(info.stdout);
    expect(parsed.dataHome).toBe(home);
    expect(['tensorflow', 'wasm', 'cpu']).toContain(parsed.backend);
  });

  it('trains a run to completion and reports it with --json; runs and runs show list it', () => {
    const file = path.join(work, 'quick.json');
    writeFileSync(file, JSON.stringify(QUICK));
    const r = cli(['train', '--config', file, '--set', 'model.latentDim=3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = lastJson(r.stdout) as {
      runId: number;
      status: string;
      backend: string;
      samplesPerSec: number;
      final: { test: Record<string, number> };
    };
    expect(out.status).toBe('completed');
    expect(out.samplesPerSec).toBeGreaterThan(0);
    for (const key of ['loss', 'recon', 'kl', 'nll', 'activeUnits']) expect(Number.isFinite(out.final.test[key])).toBe(true);
    // -ELBO = recon + KL, and the importance-sampled -log p(x) is no worse than the bound on the same examples
    // (the nll's first nllExamples test examples, k = nllK, beside the -ELBO on exactly those: nllLoss)
    expect(out.final.test.loss!).toBeCloseTo(out.final.test.recon! + out.final.test.kl!, 1);
    expect(out.final.test.nll!).toBeLessThanOrEqual(out.final.test.nllLoss!);
    expect(out.final.test.nllExamples).toBeGreaterThan(0);
    expect(out.final.test.nllK).toBe(QUICK.eval.iwSamples);
    expect(out.final.test.examples).toBeGreaterThanOrEqual(out.final.test.nllExamples!);
    expect(out.final.test.activeUnits!).toBeLessThanOrEqual(3);

    const runs = JSON.parse(cli(['runs', '--json']).stdout) as {
      id: number;
      status: string;
      config: { model: { latentDim: number } };
      final: Record<string, number>;
    }[];
    const run = runs.find((x) => x.id === out.runId)!;
    expect(run.status).toBe('completed');
    expect(run.config.model.latentDim).toBe(3);
    expect(run.final['test/loss']).toBeCloseTo(out.final.test.loss!, 6);

    const show = JSON.parse(cli(['runs', 'show', String(out.runId), '--json']).stdout) as { series: Record<string, unknown[]> };
    expect(show.series['train/loss']!.length).toBeGreaterThan(1);
    expect(show.series['test/loss']!.length).toBe(2); // evaluated after each of the 2 epochs
    // the plain listing labels each figure with its n and k (issue 27): nll beside the -ELBO on its own examples
    const text = cli(['runs', 'show', String(out.runId)]).stdout;
    const n = out.final.test.examples!.toLocaleString('en-US');
    const nllN = out.final.test.nllExamples!.toLocaleString('en-US');
    expect(text).toContain(`test/loss (−ELBO, n ${n})`);
    expect(text).toContain(`test/nll (k ${QUICK.eval.iwSamples}, n ${nllN})`);
    expect(text).toContain(`test/nllLoss (−ELBO, same n ${nllN})`);
    expect(text).toContain(`test/inferenceGap (k ${QUICK.eval.iwSamples}, n ${nllN})`);
    expect(text).toContain('test/activeUnits (KL_u > 0.01)');
    expect(text).not.toContain('test/fid');

    const csv = cli(['runs', 'export', '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split('\n')[0]).toMatch(/id/);
  });

  it('exports a run as a bundle, imports it into a fresh data home (same reconstructions), refuses a flipped byte', () => {
    const runs = JSON.parse(cli(['runs', '--json']).stdout) as { id: number; status: string }[];
    const done = runs.find((r) => r.status === 'completed')!;
    const bundle = path.join(work, 'run.vaewb.zip');
    const exported = cli(['export', String(done.id), '--out', bundle]);
    expect(exported.code, exported.stderr).toBe(0);
    const fresh = path.join(work, 'fresh-home');
    const imported = cli(['import', bundle, '--json'], { VAE_WORKBENCH_HOME: fresh });
    expect(imported.code, imported.stderr).toBe(0);
    const { runId } = lastJson(imported.stdout) as { runId: number };
    const there = JSON.parse(cli(['runs', '--json'], { VAE_WORKBENCH_HOME: fresh }).stdout) as {
      id: number;
      status: string;
      final: Record<string, number>;
    }[];
    expect(there).toHaveLength(1);
    expect(there[0]!.status).toBe('imported');
    const original = runs.find((r) => r.id === done.id) as unknown as { final: Record<string, number> };
    expect(there[0]!.final['test/loss']).toBeCloseTo(original.final['test/loss']!, 6);
    expect(runId).toBe(there[0]!.id);
    // The imported model reconstructs the same test images exactly as the original.
    const a = path.join(work, 'recon-a.png');
    const b = path.join(work, 'recon-b.png');
    expect(cli(['generate', String(done.id), '--kind', 'reconstruct', '--indices', '0,1,2,3', '--out', a]).code).toBe(0);
    expect(
      cli(['generate', String(runId), '--kind', 'reconstruct', '--indices', '0,1,2,3', '--out', b], { VAE_WORKBENCH_HOME: fresh }).code,
    ).toBe(0);
    expect(readFileSync(a).length).toBeGreaterThan(100);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);

    const flipped = path.join(work, 'flipped.vaewb.zip');
    const bytes = readFileSync(bundle);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(flipped, bytes);
    const refused = cli(['import', flipped], { VAE_WORKBENCH_HOME: fresh });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/bundle|checksum|corrupt|sha256/i);
    expect(JSON.parse(cli(['runs', '--json'], { VAE_WORKBENCH_HOME: fresh }).stdout)).toHaveLength(1);
  });

  it('refuses importing the same bundle twice naming the run (exit 1), imports a copy with --again, with the log', () => {
    const bundle = path.join(work, 'run.vaewb.zip');
    const fresh = path.join(work, 'fresh-home');
    const [first] = JSON.parse(cli(['runs', '--json'], { VAE_WORKBENCH_HOME: fresh }).stdout) as { id: number }[];
    const twice = cli(['import', bundle], { VAE_WORKBENCH_HOME: fresh });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(`already in the store as run ${first!.id}`);
    expect(JSON.parse(cli(['runs', '--json'], { VAE_WORKBENCH_HOME: fresh }).stdout)).toHaveLength(1);
    const again = cli(['import', bundle, '--again', '--json'], { VAE_WORKBENCH_HOME: fresh });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(cli(['runs', '--json'], { VAE_WORKBENCH_HOME: fresh }).stdout)).toHaveLength(2);
    // the imported run carries the training log (epochs, evaluation), not only "imported from a bundle"
    const db = new Database(path.join(fresh, 'workbench.sqlite'), { readonly: true });
    const messages = (db.prepare('SELECT message FROM run_log WHERE run_id = ? ORDER BY id').all(first!.id) as { message: string }[]).map(
      (r) => r.message,
    );
    db.close();
    expect(messages.some((m) => /^epoch 1: /.test(m))).toBe(true);
    expect(messages.at(-1)).toMatch(/^imported from a bundle/);
  });

  it('filters runs by final metrics (--metric) in the same query as the API', () => {
    const runs = JSON.parse(cli(['runs', '--json']).stdout) as { id: number; final: Record<string, number> }[];
    const withLoss = runs.filter((r) => r.final['test/loss'] !== undefined);
    expect(withLoss.length).toBeGreaterThan(0);
    const cut = Math.max(...withLoss.map((r) => r.final['test/loss']!));
    const below = JSON.parse(cli(['runs', '--json', '--metric', `test/loss<${cut}`]).stdout) as { id: number }[];
    expect(below.map((r) => r.id)).toEqual(withLoss.filter((r) => r.final['test/loss']! < cut).map((r) => r.id));
    const atMost = JSON.parse(cli(['runs', '--json', '--metric', `test/loss <= ${cut}`, '--metric', 'test/activeUnits>=0']).stdout) as {
      id: number;
    }[];
    expect(atMost.map((r) => r.id)).toEqual(withLoss.map((r) => r.id));
    const bad = cli(['runs', '--metric', 'test/loss~3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--metric "test\/loss~3": expected <metric><op><number>/);
  });

  it('refuses a negative latent size naming model.latentDim, writing nothing', () => {
    const before = JSON.parse(cli(['runs', '--json']).stdout) as unknown[];
    const r = cli(['train', '--config', path.join(work, 'quick.json'), '--set', 'model.latentDim=-4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/model\.latentDim/);
    expect(JSON.parse(cli(['runs', '--json']).stdout)).toHaveLength(before.length);
  });

  it('refuses an unknown dataset and a malformed config file with clear messages', () => {
    const bad = cli(['train', '--config', path.join(work, 'quick.json'), '--set', 'data.dataset=nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown dataset "nope"/);
    const file = path.join(work, 'broken.json');
    writeFileSync(file, '{"model": {');
    const broken = cli(['train', '--config', file]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/not valid JSON/);
  });

  it('ends a run with learning rate 1e3 as diverged, with a message, not a crash', () => {
    const r = cli([
      'train',
      '--config',
      path.join(work, 'quick.json'),
      '--set',
      'optimizer.learningRate=1000',
      '--set',
      'optimizer.name="sgd"',
      '--json',
    ]);
    expect(r.code).toBe(1);
    const out = lastJson(r.stdout) as { status: string; error: string };
    expect(out.status).toBe('diverged');
    expect(out.error).toMatch(/step/i);
  });

  it('a run killed with SIGKILL (CLI and trainer) leaves an intact database and is interrupted after the next start', async () => {
    const file = path.join(work, 'long.json');
    writeFileSync(
      file,
      JSON.stringify({ ...QUICK, name: 'to be killed', training: { batchSize: 32, epochs: 50 }, data: { dataset: 'mnist' } }),
    );
    const child = spawn(process.execPath, [bin, 'train', '--config', file], {
      cwd: work,
      env: { ...process.env, VAE_WORKBENCH_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Wait until the run has written metrics (the progress line reports steps).
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => reject(new Error(`no progress: ${seen}`)), 120_000);
      child.stderr.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/epoch 1:/.test(seen) || /\d+% epoch/.test(seen)) {
          clearTimeout(timer);
          setTimeout(resolve, 1500);
        }
      });
    });
    // Kill the whole process group's members: the CLI and its trainer child.
    const trainers = spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
      .stdout.trim()
      .split('\n')
      .filter(Boolean);
    child.kill('SIGKILL');
    for (const pid of trainers) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await new Promise((r) => child.once('exit', r));
    const db = new Database(path.join(home, 'workbench.sqlite'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const row = db.prepare("SELECT id, status FROM runs WHERE name = 'to be killed'").get() as { id: number; status: string };
    expect(row.status).toBe('running');
    const points = db.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_id = ?').get(row.id) as { n: number };
    expect(points.n).toBeGreaterThan(0);
    db.close();
    // The next start (any host) marks it interrupted.
    const runs = JSON.parse(cli(['runs', '--json']).stdout) as { id: number; status: string; error: string | null }[];
    const killed = runs.find((r) => r.id === row.id)!;
    expect(killed.status).toBe('interrupted');
  });
});
