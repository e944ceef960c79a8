// End-to-end: the real web host (real service, real SQLite in a temp home, real training on the bundled
// MNIST digits) driven through the built renderer in a real headless Chromium.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, openWorkbench, startWebHostProcess, type WebHostProcess } from './workbench-fixture';
import { CALL_NAMES } from '@shared/contract';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
if (!HAVE_CHROMIUM) console.warn(`e2e UI tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

let server: WebHostProcess | null = null;
let home = '';
let baseUrl = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const runIds: number[] = [];

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function go(hash: string): Promise<void> {
  await page.evaluate((h) => (window.location.hash = h), hash);
}

/** Launch the Quick test preset from the form (optionally with another latent size); returns the run id. */
async function launchFromForm(latentDim?: number): Promise<number> {
  await go('#/launch?preset=quick-test');
  await page.locator('#f-model-latentDim').waitFor();
  await expect.poll(() => page.locator('#f-name').inputValue()).toBe('quick-test');
  if (latentDim !== undefined) await page.fill('#f-model-latentDim', String(latentDim));
  await expect.poll(() => page.getByText('Config is valid.').count()).toBe(1);
  await page.getByRole('button', { name: 'Launch run' }).click();
  await page.waitForURL(/#\/run\/\d+$/, { timeout: 30_000 });
  return Number(/#\/run\/(\d+)$/.exec(page.url())![1]);
}

async function waitCompleted(runId: number): Promise<void> {
  await go(`#/run/${runId}`);
  await page.locator(`.view-head .status`).first().waitFor();
  await expect
    .poll(async () => page.locator('.view-head .status').first().getAttribute('data-status'), { timeout: 240_000, interval: 1000 })
    .toMatch(/completed|failed|diverged/);
  expect(await page.locator('.view-head .status').first().getAttribute('data-status')).toBe('completed');
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  mkdirSync(SHOTS, { recursive: true });
  home = mkdtempSync(path.join(tmpdir(), 'vae-ui-e2e-'));
  server = await startWebHostProcess(ROOT, home);
  baseUrl = server.url;
  ({ browser, page } = await openWorkbench(baseUrl, pageErrors));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!HAVE_CHROMIUM)('VAE Workbench UI in a real browser', () => {
  it('shows the backend and an empty runs table that leads to the Quick test preset', async () => {
    // the token was moved from the address bar into sessionStorage
    expect(page.url()).not.toContain('token=');
    await go('#/runs');
    await page.getByText('No runs yet').waitFor();
    expect(await page.locator('.top').textContent()).toMatch(/backend: (wasm|tensorflow|cpu)/);
    await shot('01-runs-empty');
    await page.getByRole('button', { name: 'Launch a Quick test run' }).click();
    await page.waitForURL(/#\/launch\?preset=quick-test/);
    await expect.poll(() => page.locator('#f-data-testLimit').inputValue()).toBe('500');
  });

  it('names the field of an invalid value inline and refuses to launch', async () => {
    await go('#/launch?preset=quick-test');
    await page.fill('#f-model-latentDim', '-3');
    const err = page.locator('#f-model-latentDim-err');
    await err.waitFor();
    expect(await err.textContent()).toContain('model.latentDim');
    await page.fill('#f-training-batchSize', 'abc');
    expect(await page.locator('#f-training-batchSize-err').textContent()).toContain('training.batchSize');
    await shot('02-launch-invalid');
    await page.fill('#f-model-latentDim', '2');
    await page.fill('#f-training-batchSize', '100');
    await expect.poll(() => page.locator('.field-error').count()).toBe(0);
  });

  it('launches a short run from the form and watches it complete with live curves and samples', async () => {
    const a = await launchFromForm(2);
    runIds.push(a);
    // watch the loss chart grow from run.metrics events while the run trains (no reload in between)
    const chartBox = page.locator('.charts .chart-box').first();
    const status = page.locator('.view-head .status').first();
    const seen: number[] = [];
    const deadline = Date.now() + 240_000;
    for (;;) {
      const n = Number((await chartBox.getAttribute('data-points').catch(() => null)) ?? 0);
      if (seen[seen.length - 1] !== n) seen.push(n);
      const st = await status.getAttribute('data-status').catch(() => null);
      if (st && /completed|failed|diverged|cancelled/.test(st)) break;
      if (Date.now() > deadline) throw new Error(`run ${a} did not finish; last status ${st}`);
      await page.waitForTimeout(150);
    }
    expect(await status.getAttribute('data-status')).toBe('completed');
    await expect.poll(async () => Number(await chartBox.getAttribute('data-points'))).toBeGreaterThan(2);
    console.log('loss chart point counts while training:', seen.join(','));
    // the chart grew at least twice while we watched
    expect(new Set(seen.filter((n) => n > 0)).size, `point counts seen: ${seen.join(',')}`).toBeGreaterThanOrEqual(2);
    await page.locator('.gallery img').first().waitFor();
    expect(await page.locator('.gallery img').count()).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('.progress').getAttribute('aria-valuenow')).toBe('100');
    await shot('03-run-view');
    const b = await launchFromForm(5);
    runIds.push(b);
    await waitCompleted(b);
  });

  it('lists the runs, selects two with the keyboard and opens the comparison', async () => {
    await go('#/runs');
    await page.locator('.runs-table tbody tr').nth(1).waitFor();
    for (const id of runIds) {
      const box = page.getByLabel(`Select run ${id}`, { exact: true });
      await box.focus();
      await page.keyboard.press('Space');
      expect(await box.isChecked()).toBe(true);
    }
    await shot('04-runs-table');
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.waitForURL(/#\/compare\?ids=/);
    const ids = new URL(page.url().replace('#', '')).searchParams.get('ids')!.split(',').map(Number).sort();
    expect(ids).toEqual([...runIds].sort());
  });

  it('compares two runs that differ in latent size: the diff names model.latentDim and both curves are drawn', async () => {
    await go(`#/compare?ids=${runIds.join(',')}`);
    const row = page.locator('tr.differs[data-key="model.latentDim"]');
    await row.waitFor();
    // (the previous test left the same runs in the other order on screen: wait for this order)
    await expect.poll(async () => (await row.locator('td').allTextContents()).map((s) => s.trim())).toEqual(['2', '5']);
    // identical hyperparameters are folded away
    expect(await page.locator('tr.same').count()).toBe(0);
    const box = page.locator('.compare-chart .chart-box');
    await expect.poll(() => box.getAttribute('data-datasets'), { timeout: 30_000 }).toBe('2');
    const counts = (await box.getAttribute('data-points'))!.split(',').map(Number);
    expect(counts).toHaveLength(2);
    for (const n of counts) expect(n).toBeGreaterThan(0);
    // the chart itself holds two datasets with points
    const drawn = await page.evaluate(() => {
      const canvas = document.querySelector('.compare-chart canvas') as HTMLCanvasElement;
      const ctx = canvas.getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 0 && Math.abs(data[i]! - data[i + 2]!) > 60) coloured++;
      return coloured;
    });
    expect(drawn).toBeGreaterThan(100);
    await page.locator('.sample-compare img').first().waitFor();
    expect(await page.locator('.sample-compare img').count()).toBe(2);
    await page.locator('.parcoords polyline').first().waitFor();
    expect(await page.locator('.parcoords polyline').count()).toBe(2);
    await shot('05-compare');
  });

  it('browses samples at two epochs and the images differ', async () => {
    const id = runIds[0]!;
    await go(`#/samples/${id}`);
    const slider = page.locator('#epoch-range');
    await slider.waitFor();
    const prior = page.locator('figure.artifact', { hasText: 'Prior samples' }).locator('img');
    await prior.waitFor();
    const lastEpoch = await page.getByTestId('epoch-value').textContent();
    const lastSrc = await prior.getAttribute('src');
    await slider.focus();
    await page.keyboard.press('Home');
    await expect.poll(() => page.getByTestId('epoch-value').textContent()).not.toBe(lastEpoch);
    await expect.poll(() => prior.getAttribute('src')).not.toBe(lastSrc);
    const firstSrc = await prior.getAttribute('src');
    expect(firstSrc).toMatch(/^data:image\/png;base64,/);
    expect(lastSrc).toMatch(/^data:image\/png;base64,/);
    expect(firstSrc).not.toBe(lastSrc);
    await shot('06-samples-first-epoch');
    await page.keyboard.press('End');
    await expect.poll(() => page.getByTestId('epoch-value').textContent()).toBe(lastEpoch);
    await page.locator('.chart-box.scatter').waitFor();
    expect(Number(await page.locator('.chart-box.scatter').getAttribute('data-points'))).toBeGreaterThan(10);
    await shot('07-samples-last-epoch');
  });

  it('exports a run as a bundle, imports it back and deletes the copy after confirming', async () => {
    const id = runIds[0]!;
    await go(`#/run/${id}`);
    const exportButton = page.getByRole('button', { name: 'Export bundle' });
    await expect.poll(() => exportButton.isEnabled(), { timeout: 30_000 }).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), exportButton.click()]);
    expect(download.suggestedFilename()).toMatch(/\.vaewb\.zip$/);
    const file = path.join(home, download.suggestedFilename());
    await download.saveAs(file);
    await go('#/runs');
    await page.locator('.runs-table').waitFor();
    await page.setInputFiles('input[type=file]', file);
    // the run is already here: the import is refused naming it, and "Import a second copy" imports it again
    await expect
      .poll(() => page.getByRole('alertdialog', { name: 'Bundle already imported' }).textContent())
      .toContain(`already in the store as run #${id}`);
    await page.getByRole('button', { name: 'Import a second copy' }).click();
    await page.waitForURL((u) => /#\/run\/\d+$/.test(u.hash) && !u.hash.endsWith(`/${id}`), { timeout: 60_000 });
    const imported = Number(/#\/run\/(\d+)$/.exec(page.url())![1]);
    await expect.poll(() => page.locator('.view-head .status').first().getAttribute('data-status')).toBe('imported');
    await expect.poll(async () => Number(await page.locator('.charts .chart-box').first().getAttribute('data-points'))).toBeGreaterThan(2);
    await shot('08-imported-run');
    await go('#/runs');
    const box = page.getByLabel(`Select run ${imported}`, { exact: true });
    await box.check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Delete', exact: true }).click();
    await expect.poll(() => page.getByLabel(`Select run ${imported}`, { exact: true }).count()).toBe(0);
    expect(await page.locator('.runs-table tbody tr').count()).toBe(2);
  });

  it('works the same through an Electron-style preload bridge (window.vaeApi)', async () => {
    // A stand-in for the Electron preload's shape: one function per call answering reply envelopes, plus
    // onEvent. (tests/launch/ runs the real built preload against the built main process.)
    const token = new URL(baseUrl).searchParams.get('token')!;
    const bridged = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    bridged.on('pageerror', (e) => errors.push(e.message));
    await bridged.addInitScript(
      ({ names, token }) => {
        const listeners = new Set<(e: unknown) => void>();
        const api: Record<string, unknown> = {
          onEvent(l: (e: unknown) => void) {
            listeners.add(l);
            return () => listeners.delete(l);
          },
        };
        const ws = new WebSocket(`ws://${location.host}/ws?token=${token}`);
        ws.onmessage = (m) => listeners.forEach((l) => l(JSON.parse(String(m.data))));
        for (const name of names)
          api[name] = async (input: unknown) => {
            const res = await fetch(`/api/${name}`, {
              method: 'POST',
              headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
              body: JSON.stringify(input ?? {}),
            });
            return res.json();
          };
        (window as unknown as { vaeApi: unknown }).vaeApi = api;
      },
      { names: CALL_NAMES as string[], token },
    );
    await bridged.goto(new URL('/', baseUrl).href + '#/runs');
    await bridged.locator('.runs-table tbody tr').nth(1).waitFor();
    await bridged.locator('.top').getByText('backend:').waitFor();
    expect(await bridged.locator('.runs-table tbody tr').count()).toBe(2);
    expect(await bridged.locator('.top').textContent()).toMatch(/backend: \w+/);
    await bridged.evaluate(() => (window.location.hash = '#/run/99999'));
    await bridged.locator('.error[role=alert]').waitFor();
    expect(await bridged.locator('.error[role=alert]').textContent()).toMatch(/99999|not found/i);
    expect(errors).toEqual([]);
    await bridged.close();
  });

  it('shows api errors in place', async () => {
    await go('#/run/99999');
    await page.locator('.error[role=alert]').waitFor();
    expect(await page.locator('.error[role=alert]').textContent()).toMatch(/99999|not found/i);
    expect(pageErrors).toEqual([]);
  });

  it('queues a grid sweep from the form and cancels its runs at once', async () => {
    await go('#/launch?preset=quick-test');
    await expect.poll(() => page.locator('#f-name').inputValue()).toBe('quick-test');
    await page.fill('#f-training-epochs', '200');
    await page.getByRole('button', { name: 'Grid sweep…' }).click();
    await page.getByLabel('Key 1').fill('model.latentDim');
    await page.getByLabel('Values').fill('3, 4');
    const queue = page.getByRole('button', { name: 'Queue 2 runs' });
    await expect.poll(() => queue.isEnabled()).toBe(true);
    await queue.click();
    await page.waitForURL(/#\/runs$/);
    const sweepRows = page.locator('.runs-table tbody tr', { hasText: 'latentDim' });
    await expect.poll(() => sweepRows.count(), { timeout: 30_000 }).toBe(2);
    await shot('09-runs-after-sweep');
    // the second cell of a row is the run id (first: the selection checkbox)
    const allIds = await Promise.all([0, 1].map(async (i) => Number(await sweepRows.nth(i).locator('td').nth(1).textContent())));
    expect(allIds.every((n) => n > 0)).toBe(true);
    for (const id of allIds) {
      await go(`#/run/${id}`);
      const cancel = page.getByRole('button', { name: 'Cancel run' });
      await cancel.waitFor();
      await cancel.click();
      // Cancel asks first (issue 24): the confirmation names what happens
      await page.getByRole('alertdialog', { name: 'Confirm cancel' }).waitFor();
      const t0 = Date.now();
      await page.getByRole('button', { name: 'Stop training' }).click();
      await expect
        .poll(() => page.locator('.view-head .status').first().getAttribute('data-status'), { timeout: 15_000 })
        .toBe('cancelled');
      expect(Date.now() - t0).toBeLessThan(15_000);
    }
    await go('#/runs');
    await expect.poll(() => page.locator('.runs-table .status-cancelled').count()).toBe(2);
  });
});
