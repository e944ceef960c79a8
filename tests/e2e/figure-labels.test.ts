// Issue 27 in the built UI: every final figure in the run view and in Compare says the examples (n) and importance
// samples (k) it was computed on, the classifier FD is never called FID, a denoising autoencoder's clean and corrupted
// test losses are labelled, and a model without a prior shows no NLL or FD rows. Runs trained by the real CLI.
import { spawnSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';

if (!HAVE_CHROMIUM) console.warn(`e2e figure-label tests skipped: no Chromium at ${CHROMIUM}`);

let home = '';
let page: Page;
const pageErrors: string[] = [];

const SMALL = [
  '--set',
  'data.trainLimit=1000',
  '--set',
  'data.testLimit=300',
  '--set',
  'training.epochs=1',
  '--set',
  'training.dataParallel=1',
];

function train(args: string[]): number {
  const r = spawnSync(process.execPath, ['bin/vae-workbench.js', 'train', ...SMALL, ...args, '--json'], {
    cwd: process.cwd(),
    env: { ...process.env, VAE_WORKBENCH_HOME: home },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`train ${args.join(' ')} failed: ${r.stderr}`);
  return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { runId: number }).runId;
}

let vaeA = 0;
let vaeB = 0;
let dae = 0;
useWorkbench({
  prefix: 'vae-labels-e2e-',
  pageErrors,
  prepare: async (h) => {
    home = h;
    vaeA = train(['--preset', 'quick-test', '--set', 'eval.iwSamples=20', '--set', 'eval.fid=true']);
    vaeB = train(['--preset', 'quick-test', '--set', 'eval.iwSamples=10', '--set', 'seed=2']);
    dae = train(['--preset', 'dae-mask']);
  },
  ready: (wb) => ({ home, page } = wb),
  timeoutMs: 600_000,
});

const go = (hash: string) => page.evaluate((h) => (window.location.hash = h), hash);

async function runViewLabels(id: number): Promise<string[]> {
  await go(`#/run/${id}`);
  const table = page.locator('table[aria-label="Latest metrics"]');
  await table.locator('th', { hasText: 'test/loss' }).first().waitFor({ timeout: 60_000 });
  return (await table.locator('th').allInnerTexts()).map((t) => t.trim());
}

describe.skipIf(!HAVE_CHROMIUM)('figures labelled with their n and k', () => {
  it('the run view: n and k beside each figure, the inference gap with its k, the classifier FD not called FID', async () => {
    const labels = await runViewLabels(vaeA);
    expect(labels).toEqual(
      expect.arrayContaining([
        'test/loss (−ELBO, n 300)',
        'test/nll (k 20, n 300)',
        'test/nllLoss (−ELBO, same n 300)',
        'test/inferenceGap (k 20, n 300)',
        'test/activeUnits (KL_u > 0.01)',
        'test/activeUnitsCov (Cov > 0.01)',
        'test/fdClassifier (not FID)',
      ]),
    );
    expect(labels.filter((l) => /\bFID\b/.test(l) && !l.includes('not FID'))).toEqual([]);
  }, 120_000);

  it('a denoising autoencoder: clean and corrupted test losses labelled, no NLL, KL or FD rows (no prior)', async () => {
    const labels = await runViewLabels(dae);
    expect(labels).toEqual(expect.arrayContaining(['test/loss (clean, n 300)', 'test/lossCorrupted (n 300)']));
    expect(labels.filter((l) => /^test\/(nll|kl|fdClassifier|activeUnits|inferenceGap)/.test(l))).toEqual([]);
  }, 120_000);

  it('Compare: the final-metrics headers carry n and k, and say when the runs differ in k', async () => {
    await go(`#/compare?ids=${vaeA},${vaeB}`);
    const heads = page.locator('section[aria-label="Final metrics"] th[data-metric]');
    await heads.first().waitFor({ timeout: 60_000 });
    const text = (await heads.allInnerTexts()).map((t) => t.trim());
    expect(text).toContain('test/loss (−ELBO, n 300)'); // the same n for both runs
    expect(text).toContain('test/nll (k 20, n 300) · n/k differ'); // k 20 against k 10
    expect(text).toContain('test/inferenceGap (k 20, n 300) · n/k differ');
    // each cell's title gives its own run's n and k (run B's nll: k 10)
    const nllColumn = text.findIndex((t) => t.startsWith('test/nll ('));
    const rowB = page.locator('section[aria-label="Final metrics"] tbody tr').filter({ hasText: `#${vaeB}` });
    expect(await rowB.locator('td').nth(nllColumn).getAttribute('title')).toBe('test/nll (k 10, n 300)');
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
