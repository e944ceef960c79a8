// The same journey in real Electron (Playwright's Electron support), where the Electron binary is installed
// and a display exists (on Linux CI: `xvfb-run -a npm test`). Skipped here, with the reason printed: this
// machine cannot download Electron. It must never fail for a missing binary.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linuxSandboxProblem } from '../../scripts/electron-checks.mjs';
import { alive, go, launchFromForm, runStatus, statusOf, trainerChildren } from './journey';

const ROOT = path.resolve(import.meta.dirname, '../..');

function electronPath(): string | null {
  try {
    const p = createRequire(import.meta.url)('electron') as unknown;
    return typeof p === 'string' && existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function skipReason(): string | null {
  const binary = electronPath();
  if (!binary) return 'the Electron binary is not installed (its download failed or was skipped)';
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return 'no display: run the suite under `xvfb-run -a`';
  if (process.platform === 'linux') {
    const sandbox = linuxSandboxProblem({ electronPath: binary });
    if (sandbox) return `${sandbox.reason}\n${sandbox.fix}`;
  }
  return null;
}

const reason = skipReason();
if (reason) console.warn(`real Electron launch test skipped: ${reason}`);

let home = '';
let electronApp: ElectronApplication;
let page: Page;

beforeAll(async () => {
  if (reason) return;
  home = mkdtempSync(path.join(tmpdir(), 'vae-electron-home-'));
  electronApp = await _electron.launch({
    args: [ROOT],
    cwd: ROOT,
    env: { ...process.env, VAE_WORKBENCH_HOME: home } as Record<string, string>,
  });
  page = await electronApp.firstWindow();
  await page.locator('.top').getByText('backend:').waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  if (electronApp && electronApp.process().exitCode === null) await electronApp.close().catch(() => {});
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!!reason)('the desktop app in real Electron', () => {
  let runId = 0;
  it('serves the renderer from app://workbench with the preload bridge', async () => {
    expect(page.url()).toMatch(/^app:\/\/workbench\/index\.html/);
    const exposed = await page.evaluate(() => ({
      api: typeof (window as unknown as { vaeApi?: unknown }).vaeApi,
      require: typeof (window as unknown as { require?: unknown }).require,
    }));
    expect(exposed).toEqual({ api: 'object', require: 'undefined' });
    expect(await page.locator('.top').textContent()).toMatch(/electron/);
  });

  it('launches a run from the UI; it trains in a trainer the app forked and shows its samples', async () => {
    runId = await launchFromForm(page, { '#f-model-latentDim': '2' });
    const main = electronApp.process().pid!;
    await expect.poll(() => trainerChildren(main).length, { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(() => statusOf(page), { timeout: 300_000, interval: 1000 }).toMatch(/completed|failed|diverged|cancelled/);
    expect(await statusOf(page)).toBe('completed');
    await page.locator('.gallery img').first().waitFor();
    expect(await page.locator('.gallery img').count()).toBeGreaterThanOrEqual(2);
  });

  it('exports through the save dialog and imports the bundle back', async () => {
    const file = path.join(home, 'exported.vaewb.zip');
    await electronApp.evaluate(({ dialog }, filePath) => {
      dialog.showSaveDialog = (async () => ({ canceled: false, filePath })) as typeof dialog.showSaveDialog;
    }, file);
    await go(page, `#/run/${runId}`);
    const exportButton = page.getByRole('button', { name: 'Export bundle' });
    await expect.poll(() => exportButton.isEnabled(), { timeout: 30_000 }).toBe(true);
    await exportButton.click();
    await expect.poll(() => (existsSync(file) ? statSync(file).size : 0), { timeout: 60_000 }).toBeGreaterThan(1000);
    await go(page, '#/runs');
    await page.setInputFiles('input[type=file]', file);
    // the run is already here: the import is refused naming it, and "Import a second copy" imports it again
    await expect
      .poll(() => page.getByRole('alertdialog', { name: 'Bundle already imported' }).textContent())
      .toContain(`already in the store as run #${runId}`);
    await page.getByRole('button', { name: 'Import a second copy' }).click();
    await page.waitForURL((u) => /#\/run\/\d+$/.test(u.hash) && !u.hash.endsWith(`/${runId}`), { timeout: 60_000 });
    await expect.poll(() => statusOf(page)).toBe('imported');
  });

  it('quitting while a run trains asks, ends the trainer and records the run as cancelled', async () => {
    const longRun = await launchFromForm(page, { '#f-training-epochs': '200' });
    await expect.poll(() => statusOf(page), { timeout: 60_000 }).toBe('running');
    const main = electronApp.process().pid!;
    const [trainer] = trainerChildren(main);
    expect(trainer).toBeGreaterThan(0);
    // "Stop and quit" in the confirmation
    await electronApp.evaluate(({ dialog }) => {
      dialog.showMessageBox = (async () => ({ response: 0, checkboxChecked: false })) as typeof dialog.showMessageBox;
    });
    const exited = new Promise((r) => electronApp.process().once('exit', r));
    await electronApp.evaluate(({ app }) => app.quit()).catch(() => {}); // the app may exit before answering
    await exited;
    await expect.poll(() => alive(trainer!), { timeout: 10_000 }).toBe(false);
    expect(runStatus(home, longRun)).toBe('cancelled');
  });
});
