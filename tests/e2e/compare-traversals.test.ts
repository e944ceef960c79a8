// Traversals across runs: two small real runs trained with the CLI (the quick-test preset as shipped, 3 epochs, two seeds: recognisable digits),
// then Compare in headless Chromium generates, from each run's checkpoint with the same noise, prior samples,
// reconstructions, latent traversals and interpolations side by side.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
let home = '';
let page: Page;
const pageErrors: string[] = [];
const runIds: number[] = [];

function train(seed: number): number {
  const out = execFileSync(
    process.execPath,
    ['bin/vae-workbench.js', 'train', '--preset', 'quick-test', '--set', `seed=${seed}`, '--json'],
    { cwd: ROOT, env: { ...process.env, VAE_WORKBENCH_HOME: home }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const last = out.trim().split('\n').pop()!;
  return (JSON.parse(last) as { runId: number }).runId;
}

useWorkbench({
  prefix: 'vae-traversal-e2e-',
  pageErrors,
  shots: SHOTS,
  prepare: async (h) => {
    home = h;
    runIds.push(train(1), train(2));
  },
  ready: (wb) => ({ home, page } = wb),
});

describe.skipIf(!HAVE_CHROMIUM)('traversals across runs', () => {
  it('generates prior samples, reconstructions, traversals and interpolations for each run with the same noise', async () => {
    await page.evaluate((h) => (window.location.hash = h), `#/compare?ids=${runIds.join(',')}`);
    const panel = page.locator('section.panel[aria-label="Traversals across runs"]');
    await panel.waitFor({ timeout: 30_000 });
    await panel.getByRole('button', { name: /^Generate for 2 runs/ }).click();
    await expect.poll(() => panel.locator('img.gen').count(), { timeout: 120_000 }).toBe(8);
    const widths = await panel.locator('img.gen').evaluateAll((els) => els.map((e) => (e as HTMLImageElement).naturalWidth));
    for (const w of widths) expect(w).toBeGreaterThan(20);
    expect(await panel.locator('.error').count()).toBe(0);
    // each traversal grid says which latent dimensions (rows) and which range of z (columns) it shows (issue 24)
    const captions = await panel.locator('.traversal-caption').allTextContents();
    expect(captions).toHaveLength(2);
    for (const c of captions)
      expect(c.trim()).toMatch(
        /^Latent traversal of rows top to bottom: z0, z1; left to right z_j from -\d+(\.\d+)? to \d+(\.\d+)?, other coordinates 0$/,
      );
    // the same seed gives the same images again (same noise)
    const first = await panel.locator('img.gen').first().getAttribute('src');
    await panel.getByRole('button', { name: /^Generate for 2 runs/ }).click();
    await expect.poll(() => panel.locator('img.gen').count(), { timeout: 120_000 }).toBe(8);
    expect(await panel.locator('img.gen').first().getAttribute('src')).toBe(first);
    await panel.scrollIntoViewIfNeeded();
    await panel.screenshot({ path: path.join(SHOTS, 'compare-traversals.png') });
    expect(pageErrors).toEqual([]);
  });
});
