// The sweep dialog's "Run on: Slurm cluster" in the real UI (web host, headless Chromium) against the local
// one-node Slurm: a bad time limit is refused in the dialog, a 2-task sweep is submitted, the Cluster sweeps
// panel follows it until both runs are home, and a task's run link opens the imported run.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLocalSlurm } from '../integration/slurm-env';
import { HAVE_CHROMIUM, openWorkbench, startWebHostProcess, type WebHostProcess } from './workbench-fixture';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const skip = HAVE_CHROMIUM ? ensureLocalSlurm() : 'no Chromium';
if (skip) console.warn(`cluster UI test skipped: ${skip}`);

let home = '';
let server: WebHostProcess | null = null;
let browser: Browser | null = null;
let page: Page;
const pageErrors: string[] = [];

describe.skipIf(!!skip)('cluster sweeps in the UI', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    home = mkdtempSync(path.join(tmpdir(), 'vae-cluster-ui-'));
    server = await startWebHostProcess(ROOT, home);
    ({ browser, page } = await openWorkbench(server.url, pageErrors));
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('submits a sweep to Slurm from the Launch form and shows its runs coming home', async () => {
    await page.evaluate(() => (window.location.hash = '#/launch?preset=quick-test'));
    await expect.poll(() => page.locator('#f-name').inputValue()).toBe('quick-test');
    await page.fill('#f-training-epochs', '1');
    await page.getByRole('button', { name: 'Grid sweep…' }).click();
    await page.getByLabel('Key 1').fill('model.latentDim');
    await page.getByLabel('Values').fill('2, 3');
    await page.getByLabel('Slurm cluster').check();
    await page.getByLabel('Memory').fill('1G');
    await page.getByLabel('Time limit').fill('2 hours');
    const submit = page.getByRole('button', { name: 'Submit 2 tasks to Slurm' });
    await submit.click();
    await expect.poll(() => page.locator('section.sweep .error').textContent()).toMatch(/slurm\.time/);
    await page.getByLabel('Time limit').fill('10:00');
    await submit.click();
    await expect.poll(() => page.locator('section.sweep p.ok').textContent()).toMatch(/Submitted 2 tasks as Slurm job \d+/);
    const panel = page.locator('section.cluster-sweeps');
    await expect.poll(() => panel.locator('tbody .status').count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => panel.locator('tbody .status-completed').count(), { timeout: 150_000, interval: 1000 }).toBe(2);
    await expect.poll(() => panel.locator('tbody a[href^="#/run/"]').count(), { timeout: 20_000 }).toBe(2);
    await panel.screenshot({ path: path.join(SHOTS, 'cluster-sweeps-panel.png') });
    await panel.locator('tbody a[href^="#/run/"]').first().click();
    await page.waitForURL(/#\/run\/\d+$/);
    await page.locator('.view-head').getByText('quick-test latentDim=2').waitFor();
    expect(pageErrors).toEqual([]);
  }, 240_000);
});
