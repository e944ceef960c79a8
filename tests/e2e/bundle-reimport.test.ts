// End-to-end, issue 24 item 10 (the UI half): importing a bundle whose run is already in the store asks the user —
// open the existing run, or import a second copy — instead of silently making two runs. The service's refusal
// (`already_imported` with the existing run's id, and the `again` flag) is helper B's half (branch live).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';
import { parseRunConfig, type RunConfigInput } from '@shared/run-config';
import { expectedWeightShapes } from '../../src-main/checkpoints/architecture';
import { buildBundle } from '../../src-main/checkpoints/bundle';
import type { NamedTensor } from '../../src-main/checkpoints/checkpoint-dir';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
let home = '';
let page: Page;
const pageErrors: string[] = [];

/** A small valid bundle: an MLP VAE on 4x4 images with deterministic weights and one metric point. */
function smallBundle(): Uint8Array {
  const configInput: RunConfigInput = {
    name: 'reimported',
    model: { hidden: [8], latentDim: 2 },
    data: { dataset: 'import', path: 'x.npy' },
    training: { epochs: 2 },
  };
  const config = parseRunConfig(configInput);
  const weights: NamedTensor[] = expectedWeightShapes(config, [4, 4, 1]).map((e, i) => ({
    name: e.name,
    shape: e.shape,
    data: new Float32Array(e.shape.reduce((a, b) => a * b, 1)).map((_, j) => Math.sin(i * 31 + j) * 0.1),
  }));
  return buildBundle({
    appVersion: '0.0.0-test',
    createdAt: 1_700_000_100_000,
    run: {
      name: 'reimported',
      config,
      configText: JSON.stringify(configInput),
      dataset: { id: 'import', shape: [4, 4, 1], kind: 'image' },
      seed: 1,
      backend: 'wasm',
      status: 'completed',
      tags: [],
      notes: '',
      createdAt: 1_700_000_000_000,
      startedAt: 1_700_000_000_500,
      finishedAt: 1_700_000_090_000,
      sourceRunId: 1,
    },
    finalMetrics: {},
    metrics: [{ name: 'train/loss', step: 1, epoch: 1, time: 1_700_000_000_000, value: 1 }],
    checkpoint: { epoch: 1, step: 1, tag: 'last', metrics: {}, backend: 'wasm', createdAt: 1_700_000_080_000 },
    weights,
    optimizer: null,
    snapshots: [],
  });
}

useWorkbench({
  prefix: 'vae-reimport-e2e-',
  pageErrors,
  shots: SHOTS,
  ready: (wb) => ({ home, page } = wb),
});

describe.skipIf(!HAVE_CHROMIUM)('importing the same bundle twice', () => {
  it('asks: open the run already imported, or import a second copy', async () => {
    const file = path.join(home, 'small.vaewb.zip');
    writeFileSync(file, smallBundle());
    const pick = () => page.locator('label.file-button input[type=file]').setInputFiles(file);
    await page.evaluate(() => (window.location.hash = '#/runs'));
    await pick();
    await page.waitForURL(/#\/run\/\d+$/, { timeout: 30_000 });
    const first = Number(/#\/run\/(\d+)$/.exec(page.url())![1]);
    await page.evaluate(() => (window.location.hash = '#/runs'));
    await page.locator('.runs-table tbody tr[data-index="0"]').waitFor();
    await pick();
    const question = page.getByRole('alertdialog', { name: 'Bundle already imported' });
    await question.waitFor({ timeout: 30_000 });
    expect(await question.textContent()).toContain(`already in the store as run #${first}`);
    await page.screenshot({ path: path.join(SHOTS, 'workflow-reimport-question.png') });
    expect(await page.getByTestId('runs-count').textContent()).toBe('1 run');
    // open the existing run
    await question.getByRole('link', { name: `Open run #${first}` }).click();
    await page.waitForURL(new RegExp(`#/run/${first}$`));
    // again, and this time import a second copy
    await page.evaluate(() => (window.location.hash = '#/runs'));
    await page.locator('.runs-table tbody tr[data-index="0"]').waitFor();
    await pick();
    await question.waitFor({ timeout: 30_000 });
    await question.getByRole('button', { name: 'Import a second copy' }).click();
    await page.waitForURL(/#\/run\/\d+$/, { timeout: 30_000 });
    const second = Number(/#\/run\/(\d+)$/.exec(page.url())![1]);
    expect(second).not.toBe(first);
    expect(pageErrors).toEqual([]);
  });
});
