// The vaewb Python client's own unit tests (clients/python/tests, Python's unittest) under vitest, so `npm test`
// runs them: with Debian's /usr/bin/python3 (which has PyTorch where `.ci/run` installed python3-torch); skipped,
// saying why, where there is no Python 3 at all. Also: the package builds and installs offline with pip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../built';

export const PYTHON = process.env.VAE_WORKBENCH_PYTHON ?? '/usr/bin/python3';
const CLIENT = path.join(ROOT, 'clients', 'python');
const havePython = existsSync(PYTHON);
if (!havePython) console.warn(`python client tests skipped: ${PYTHON} does not exist (set VAE_WORKBENCH_PYTHON)`);

describe.skipIf(!havePython)('vaewb Python client', () => {
  it('passes its unittest suite', () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-v', '-s', path.join(CLIENT, 'tests')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const report = `${r.stdout}\n${r.stderr}`;
    expect(r.status, report).toBe(0);
    expect(report).toMatch(/Ran \d+ tests/);
    const torch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
    if (!torch) console.warn('python client: the torch tests were skipped (no PyTorch for this Python: apt-get install python3-torch)');
    else expect(report).not.toMatch(/skipped 'PyTorch/);
  });

  it('installs offline with pip (setuptools backend, no build isolation)', () => {
    const target = mkdtempSync(path.join(os.tmpdir(), 'vaewb-pip-'));
    try {
      const r = spawnSync(
        PYTHON,
        ['-m', 'pip', 'install', '--quiet', '--no-index', '--no-build-isolation', '--no-deps', '--target', target, CLIENT],
        { encoding: 'utf8', timeout: 120_000, env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' } },
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(readdirSync(path.join(target, 'vaewb')).sort()).toEqual(expect.arrayContaining(['__init__.py', 'run.py', 'torch.py']));
      const v = spawnSync(PYTHON, ['-c', 'import vaewb; print(vaewb.__version__)'], {
        encoding: 'utf8',
        env: { ...process.env, PYTHONPATH: target },
      });
      expect(v.stdout.trim()).toBe('0.1.0');
    } finally {
      rmSync(target, { recursive: true, force: true });
      rmSync(path.join(CLIENT, 'build'), { recursive: true, force: true });
      for (const f of readdirSync(CLIENT)) if (f.endsWith('.egg-info')) rmSync(path.join(CLIENT, f), { recursive: true, force: true });
    }
  });
});
