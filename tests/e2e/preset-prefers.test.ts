// The launch form fills a preset that prefers a larger dataset (keras-classic: the Keras script on all of MNIST) with
// that dataset when the data home has it, says so, and falls back to the preset as shipped when it does not
// (issue 27). The real web host and the built renderer in headless Chromium; the mnist-full folder is written from
// the bundled digits (the real files are not on these machines).
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadDataset, parseRunConfig } from '../built';
import { writeIdxFolder } from '../idx-files';
import { HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';

let home = '';
let page: Page;
const pageErrors: string[] = [];

useWorkbench({
  prefix: 'vae-prefers-e2e-',
  pageErrors,
  prepare: async (h) => {
    home = h;
    const bundled = await loadDataset(parseRunConfig({ data: { dataset: 'mnist' } }).data, { dataHome: home, seed: 1 });
    writeIdxFolder(path.join(home, 'datasets', 'mnist-full'), bundled.train, bundled.test, 200, 50);
  },
  ready: (wb) => ({ home, page } = wb),
  timeoutMs: 300_000,
});

describe.skipIf(!HAVE_CHROMIUM)('a preset that prefers a larger dataset, in the launch form', () => {
  it('keras-classic takes mnist-full when the data home has it (with a note), the bundled digits when not', async () => {
    const open = async () => {
      await page.evaluate(() => (window.location.hash = '#/launch'));
      await page.reload();
      await page.evaluate(() => (window.location.hash = '#/launch?preset=keras-classic'));
      await expect.poll(() => page.locator('#f-name').inputValue()).toBe('keras-784-256-2');
    };
    await open();
    await expect.poll(() => page.locator('#f-data-dataset').inputValue()).toBe('mnist-full');
    expect(await page.locator('#f-training-epochs').inputValue()).toBe('50');
    await expect.poll(() => page.getByTestId('preset-prefers').textContent()).toContain('all 70,000 digits');

    rmSync(path.join(home, 'datasets', 'mnist-full'), { recursive: true });
    await open();
    await expect.poll(() => page.locator('#f-data-dataset').inputValue()).toBe('mnist');
    expect(await page.locator('#f-training-epochs').inputValue()).toBe('300');
    expect(await page.getByTestId('preset-prefers').count()).toBe(0);
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
