// The PHYS449 parameterization in the launch form (σ² or λ, the other shown) and the health warning in the run
// view and the runs table, through the real web host and headless Chromium.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';

if (!HAVE_CHROMIUM) console.warn(`e2e diagnostics tests skipped: no Chromium at ${CHROMIUM}`);

let page: Page;
const pageErrors: string[] = [];

useWorkbench({
  prefix: 'vae-diag-e2e-',
  pageErrors,
  ready: (wb) => ({ page } = wb),
  timeoutMs: 300_000,
});

const go = (hash: string) => page.evaluate((h) => (window.location.hash = h), hash);

describe.skipIf(!HAVE_CHROMIUM)('diagnostics in the UI', () => {
  it('the PHYS449 preset shows σ² and λ = 2σ²/N; typing λ sets σ, typing σ² updates λ', async () => {
    await go('#/launch?preset=phys449');
    const variance = page.getByTestId('decoder-variance');
    const lambda = page.getByTestId('decoder-lambda');
    await variance.waitFor();
    expect(await variance.inputValue()).toBe('0.01');
    const near = (v: number, want: number) => Math.abs(v / want - 1) < 1e-3; // shown to 4 significant digits
    // λ needs N, the dataset's size, which the form learns from the datasets list a moment later
    await expect.poll(async () => near(Number(await lambda.inputValue()), 0.02 / 196)).toBe(true);
    await lambda.fill(String(2 / 196)); // λ for σ² = 1
    await expect.poll(() => page.locator('#f-model-sigma').inputValue()).toBe('1');
    await variance.fill('0.04');
    await expect.poll(async () => near(Number(await lambda.inputValue()), 0.08 / 196)).toBe(true);
    await expect.poll(() => page.locator('#f-model-sigma').inputValue()).toBe('0.2');
  });

  it('a run that collapses shows the warning in the run view and a badge in the runs table', async () => {
    await go('#/launch?preset=phys449');
    await page.getByTestId('decoder-variance').fill('1');
    await page.fill('#f-training-epochs', '4');
    await page.fill('#f-eval-iwSamples', '10');
    await page.getByRole('button', { name: 'Launch run' }).click();
    await page.waitForURL(/#\/run\/\d+$/, { timeout: 30_000 });
    await page.locator('[data-health="posterior-collapse"]').waitFor({ timeout: 240_000 });
    expect(await page.locator('[data-health="posterior-collapse"]').innerText()).toMatch(/Posterior collapse.*test KL/s);
    await go('#/runs');
    await page.locator('.health-badge').first().waitFor({ timeout: 30_000 });
    expect(await page.locator('.health-badge').first().innerText()).toContain('Posterior collapse');
    expect(pageErrors).toEqual([]);
  }, 300_000);
});
