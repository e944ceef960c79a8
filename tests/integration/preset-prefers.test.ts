// A preset whose source trains on a larger dataset (keras-classic: the Keras example on all of MNIST) takes that
// dataset when the data home has it, and runs on the bundled digits otherwise (issue 27). Through the built CLI,
// with a real mnist-full folder: IDX files written from the bundled digits (the real 70,000 are not on these
// machines), so the run really reads them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, loadDataset, parseRunConfig } from '../built';
import { writeIdxFolder } from '../idx-files';

const bin = path.join(ROOT, 'bin', 'vae-workbench.js');
let work: string;

function cli(home: string, args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: work,
    env: { ...process.env, VAE_WORKBENCH_HOME: home },
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  work = mkdtempSync(path.join(os.tmpdir(), 'vae-prefers-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('presets that prefer a larger dataset', () => {
  it('keras-classic trains on mnist-full when the data home has it, on the bundled digits otherwise, and says which', async () => {
    const withFull = path.join(work, 'with-full');
    const bundled = await loadDataset(parseRunConfig({ data: { dataset: 'mnist' } }).data, { dataHome: withFull, seed: 1 });
    writeIdxFolder(path.join(withFull, 'datasets', 'mnist-full'), bundled.train, bundled.test, 1200, 300);

    const quick = ['--set', 'training.epochs=1', '--set', 'eval.iwSamples=2', '--set', 'eval.fid=false', '--json'];
    const full = cli(withFull, ['train', '--preset', 'keras-classic', ...quick]);
    expect(full.code, full.stderr).toBe(0);
    expect(full.stderr).toContain('preset keras-classic: mnist-full is in the data home');
    const plainHome = path.join(work, 'plain');
    const plain = cli(plainHome, ['train', '--preset', 'keras-classic', ...quick]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('mnist-full');

    const runOf = (home: string) =>
      (
        JSON.parse(cli(home, ['runs', '--json']).stdout) as {
          status: string;
          config: { data: { dataset: string; trainOnTest: boolean } };
          final: Record<string, number>;
        }[]
      )[0]!;
    const a = runOf(withFull);
    const b = runOf(plainHome);
    expect([a.status, b.status]).toEqual(['completed', 'completed']);
    expect(a.config.data).toMatchObject({ dataset: 'mnist-full', trainOnTest: true });
    expect(b.config.data).toMatchObject({ dataset: 'mnist', trainOnTest: true });
    // the run read the folder's 300 test digits, not the bundled 2,000
    expect(a.final['test/examples']).toBe(300);
    expect(b.final['test/examples']).toBe(2000);
  }, 300_000);
});
