// Issue 11: the exact hostile inputs (configs, CLI --set, resume overrides, bundles, dataset files) are refused
// with a message naming the problem; nothing is polluted or written; child processes get a minimal environment.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPath } from '../../../src-renderer/src/lib/config-fields';
import { repack, smallBundle } from './bundle-fixture';
import {
  LIMITS,
  parseRunConfig,
  setByPath,
  WorkbenchService,
  checkBundleTotals,
  exportRunBundle,
  importRunBundle,
  parseCsv,
  readMaybeGzip,
  parseImportFile,
  trainerEnv,
} from '../../built';

const ROOT = path.resolve(__dirname, '../../..');
let home: string;
let service: WorkbenchService;

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-hostile-in-'));
  service = new WorkbenchService({ host: 'cli', dataHome: path.join(home, 'data'), concurrency: 1 });
});
afterAll(async () => {
  await service?.close();
  rmSync(home, { recursive: true, force: true });
});

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('accepted');
}
async function apiRefusal(name: string, input: unknown): Promise<{ code: string; message: string }> {
  try {
    await service.call(name as never, input);
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('accepted');
}
function clean() {
  for (const k of ['NODE_OPTIONS', 'x', 'polluted', 'latentDim']) expect(Object.prototype).not.toHaveProperty(k);
}
const runDirs = () => readdirSync(path.join(home, 'data', 'runs'));

describe('prototype pollution', () => {
  for (const key of [
    '__proto__.NODE_OPTIONS',
    'constructor.prototype.polluted',
    'model.__proto__.latentDim',
    'prototype.x',
    'model.constructor',
  ])
    it(`setByPath refuses ${key}, naming it`, () => {
      const c: Record<string, unknown> = {};
      expect(refusal(() => setByPath(c, key, '"--require=/tmp/evil.js"'))).toContain(`cannot set ${key}: "`);
      clean();
    });

  it("the renderer's setPath refuses __proto__ and writes own properties only", () => {
    expect(refusal(() => setPath({}, '__proto__.polluted', 1))).toContain('__proto__');
    const o: Record<string, unknown> = {};
    setPath(o, 'model.latentDim', 3);
    expect(o).toEqual({ model: { latentDim: 3 } });
    clean();
  });

  it('runs.sweep with a __proto__ axis is refused and queues nothing', async () => {
    const e = await apiRefusal('runs.sweep', { config: {}, axes: [{ key: '__proto__.NODE_OPTIONS', values: ['--require=/tmp/x.js'] }] });
    expect(e.message).toContain('__proto__.NODE_OPTIONS');
    clean();
    expect(service.store.listRuns({}).total).toBe(0);
    expect((await service.call('app.info', {})).name).toBe('VAE Workbench');
  });

  it('runs.resume overrides with __proto__ are refused naming the key', async () => {
    const { runId } = await service.call('bundles.import', {
      filename: 'b.zip',
      dataBase64: Buffer.from(smallBundle()).toString('base64'),
    });
    const before = service.store.listRuns({}).total;
    const e = await apiRefusal('runs.resume', { runId, overrides: { '__proto__.polluted': 1 }, epochs: 5 });
    expect(e.message).toContain('__proto__.polluted');
    clean();
    expect(service.store.listRuns({}).total).toBe(before);
    service.call('runs.delete', { runIds: [runId] });
  });

  it('CLI --set model.__proto__.latentDim=5 exits 2 naming that field, and writes no run', () => {
    const env = { PATH: process.env.PATH, HOME: home, VAE_WORKBENCH_HOME: path.join(home, 'cli') };
    const r = spawnSync(
      process.execPath,
      ['bin/vae-workbench.js', 'train', '--preset', 'quick-test', '--set', 'model.__proto__.latentDim=5', '--json'],
      { cwd: ROOT, env, encoding: 'utf8' },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('model.__proto__.latentDim');
    const list = spawnSync(process.execPath, ['bin/vae-workbench.js', 'runs', '--json'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(JSON.parse(list.stdout.trim().split('\n').pop()!)).toEqual([]);
  });

  it('a trainer environment is an allowlist: no NODE_OPTIONS, nothing inherited from a polluted prototype', () => {
    (Object.prototype as Record<string, unknown>).NODE_OPTIONS = '--require=/tmp/evil.js';
    try {
      const env = trainerEnv(
        {
          PATH: '/usr/bin',
          HOME: '/home/u',
          NODE_OPTIONS: '--inspect',
          SECRET_TOKEN: 's',
          VAE_WORKBENCH_BACKEND: 'wasm',
          LD_PRELOAD: 'x.so',
        },
        { ELECTRON_RUN_AS_NODE: '1', NODE_OPTIONS: '--inspect' },
      );
      expect({ ...env }).toEqual({ PATH: '/usr/bin', HOME: '/home/u', VAE_WORKBENCH_BACKEND: 'wasm', ELECTRON_RUN_AS_NODE: '1' });
      expect(Object.getPrototypeOf(env)).toBeNull();
      expect('NODE_OPTIONS' in env).toBe(false);
    } finally {
      delete (Object.prototype as Record<string, unknown>).NODE_OPTIONS;
    }
  });
});

describe('run configs', () => {
  it('hidden: [8192] x 8 is refused up front naming model.hidden and the limit', async () => {
    const e = await apiRefusal('runs.start', { config: { model: { hidden: Array(8).fill(8192) } } });
    expect(e.code).toBe('invalid_config');
    expect(e.message).toContain('model.hidden');
    expect(e.message).toContain('MODEL_MAX_PARAMETERS');
    expect(service.store.listRuns({}).total).toBe(0);
  });

  it('hidden: [8192, 8192] on mnist is refused by the exact parameter count', async () => {
    expect(() => parseRunConfig({ model: { hidden: [4096, 4096] } })).not.toThrow();
    const e = await apiRefusal('runs.start', { config: { model: { hidden: [8192, 8192] } } });
    expect(e.message).toContain('MODEL_MAX_PARAMETERS');
  });
});

describe('bundles', () => {
  const importBytes = (bytes: Uint8Array) => () =>
    importRunBundle(service.store, bytes, { dataHome: path.join(home, 'data'), runsDir: path.join(home, 'data', 'runs') });

  it('an extra entry listed in the manifest with its true sha256 is refused before it is inflated', () => {
    const zeros = new Uint8Array(64 * 1024 * 1024);
    const bomb = repack(
      smallBundle(),
      (files) => (files['padding.bin'] = zeros),
      (p) => p === 'padding.bin',
    );
    expect(bomb.byteLength).toBeLessThan(1024 * 1024);
    expect(refusal(importBytes(bomb))).toBe('damaged bundle: unexpected entry "padding.bin"');
    expect(service.store.listRuns({}).total).toBe(0);
  });

  it('the total inflated size and the entry count are bounded', () => {
    const big = Array.from({ length: 3 }, () => ({ originalSize: 1024 ** 3 }));
    expect(refusal(() => checkBundleTotals(big))).toContain('BUNDLE_MAX_INFLATED_BYTES');
    expect(refusal(() => checkBundleTotals(Array.from({ length: LIMITS.BUNDLE_MAX_ENTRIES + 1 }, () => ({ originalSize: 1 }))))).toContain(
      'BUNDLE_MAX_ENTRIES',
    );
  });

  it('a run name over 200 characters is refused on import as on rename', () => {
    expect(refusal(importBytes(smallBundle({ name: 'n'.repeat(201) })))).toContain('run.name: at most 200 characters (RUN_NAME_MAX_CHARS)');
    expect(service.store.listRuns({}).total).toBe(0);
  });

  it('a manifest claiming mnist with shape [1, 1, 1] is refused; so is hidden [8192, 8192] on the real shape', () => {
    const lie = repack(smallBundle({ dataset: 'mnist', shape: [28, 28, 1] }), (_f, m) => (m.run.dataset.shape = [1, 1, 1]));
    expect(refusal(importBytes(lie))).toContain(
      'the manifest says dataset "mnist" has examples of shape [1, 1, 1], but its examples are [28, 28, 1]',
    );
    const huge = repack(smallBundle({ dataset: 'mnist', shape: [28, 28, 1] }), (_f, m) => (m.run.config.model.hidden = [8192, 8192]));
    expect(refusal(importBytes(huge))).toContain('MODEL_MAX_PARAMETERS');
    expect(runDirs()).toEqual([]);
  });

  for (const [what, v] of [
    ['NaN', NaN],
    ['3e38', 3e38],
    ['Infinity', Infinity],
  ] as const)
    it(`a weight of ${what} is refused naming the tensor`, () => {
      const message = refusal(importBytes(smallBundle({ poison: v })));
      expect(message).toContain('tensor "encoder/dense_0/kernel"');
      expect(message).toContain('BUNDLE_MAX_ABS_WEIGHT');
    });

  it('a checkpoint tag like ../../x is slugged in the suggested export file name', () => {
    const { runId } = importBytes(smallBundle({ tag: '../../x' }))() as { runId: number };
    const { filename } = exportRunBundle(service.store, runId, { appVersion: 'test' });
    expect(filename).not.toContain('/');
    expect(filename).not.toContain('..');
    expect(filename).toMatch(/^small-x-epoch1\.vae-bundle\.zip$/);
    service.store.deleteRun(runId);
    rmSync(path.join(home, 'data', 'runs', String(runId)), { recursive: true, force: true });
  });

  it('an empty bundle file is reported in CLI words', () => {
    const file = path.join(home, 'empty.zip');
    writeFileSync(file, '');
    const env = { PATH: process.env.PATH, HOME: home, VAE_WORKBENCH_HOME: path.join(home, 'cli') };
    const r = spawnSync(process.execPath, ['bin/vae-workbench.js', 'import', file], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('empty.zip is empty (0 bytes): not a bundle');
    expect(r.stderr).not.toContain('dataBase64');
  });
});

describe('dataset files', () => {
  const start = (p: string, format?: string) =>
    apiRefusal('runs.start', { config: { data: { dataset: 'import', path: p, ...(format ? { format } : {}) } } });

  it('/dev/zero as data.path is refused up front as a character device', async () => {
    const e = await start('/dev/zero', 'csv');
    expect(e.message).toContain('/dev/zero is a character device, not a regular file');
    expect(service.store.listRuns({}).total).toBe(0);
  });

  it('a FIFO as data.path is refused up front (no trainer hangs on it)', async () => {
    const fifo = path.join(home, 'pipe.csv');
    execFileSync('mkfifo', [fifo]);
    const e = await start(fifo);
    expect(e.message).toContain('is a FIFO (named pipe), not a regular file');
    expect(service.store.listRuns({}).total).toBe(0);
  });

  it('a symlink loop is named as one', async () => {
    const a = path.join(home, 'loop-a.csv');
    const b = path.join(home, 'loop-b.csv');
    symlinkSync(b, a);
    symlinkSync(a, b);
    expect((await start(a)).message).toContain('is a symbolic link loop');
    const dangling = path.join(home, 'dangling.csv');
    symlinkSync(path.join(home, 'nowhere.csv'), dangling);
    expect((await start(dangling)).message).toContain('is a symbolic link to a file that does not exist');
  });

  it('a CSV of 2 rows x 2 million columns is refused naming CSV_MAX_COLUMNS', () => {
    const row = Array(2_000_000).fill('0').join(',');
    expect(refusal(() => parseCsv(`${row}\n${row}\n`, 'wide.csv'))).toBe(
      'wide.csv: rows of 2000000 values, more than the limit of 100000 (CSV_MAX_COLUMNS)',
    );
  });

  it('gzip inflation is bounded and the message names the limit', () => {
    const file = path.join(home, 'bomb.csv.gz');
    writeFileSync(file, gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x30)));
    expect(refusal(() => readMaybeGzip(file, 1024 * 1024))).toContain('DATASET_MAX_INFLATED_BYTES');
    expect(LIMITS.DATASET_MAX_INFLATED_BYTES).toBeLessThanOrEqual(512 * 1024 * 1024);
  });

  it("an error never quotes the data file's contents", () => {
    const file = path.join(home, 'secret.csv');
    writeFileSync(file, 'user,pass\nalice,hunter2-SECRET\n');
    const message = refusal(() => parseImportFile(file, 'csv'));
    expect(message).toContain('line 2, column 1 is not a finite number');
    expect(message).not.toContain('SECRET');
    expect(message).not.toContain('hunter2');
  });
});
