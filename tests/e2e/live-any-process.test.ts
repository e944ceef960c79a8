// Live from any process, in the real browser: the UI (built renderer, real web host) is open on the Runs page while
// ANOTHER process — the CLI, `vae-workbench train` — trains on the same data home. Without a reload, the run appears
// in the table within 2 s of its creation; opened in the run view, its loss chart grows as the CLI writes points, each
// batch of points shown within 2 s of being stored; its status turns `completed` within 2 s of the CLI finishing, with
// the chart then holding every stored point of its metrics.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, openWorkbench, startWebHostProcess, type WebHostProcess } from './workbench-fixture';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
if (!HAVE_CHROMIUM) console.warn(`e2e live tests skipped: no Chromium at ${CHROMIUM}`);

let server: WebHostProcess | null = null;
let work = '';
let home = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const CONFIG = {
  name: 'trained by the CLI',
  seed: 7,
  data: { dataset: 'mnist', trainLimit: 3000, testLimit: 200 },
  model: { hidden: [128], latentDim: 2 },
  training: { batchSize: 50, epochs: 4, logEverySteps: 5 },
  eval: { iwSamples: 5, fid: false },
  snapshots: { everyEpochs: 1 },
};

function db(): Database.Database {
  return new Database(path.join(home, 'workbench.sqlite'), { readonly: true, fileMustExist: true });
}

function query<T>(sql: string, ...args: unknown[]): T {
  const d = db();
  try {
    return d.prepare(sql).get(...args) as T;
  } finally {
    d.close();
  }
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  work = mkdtempSync(path.join(tmpdir(), 'vae-live-e2e-'));
  home = path.join(work, 'home');
  server = await startWebHostProcess(ROOT, home);
  ({ browser, page } = await openWorkbench(server.url, pageErrors));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(!HAVE_CHROMIUM)('live from any process (browser)', () => {
  it('a CLI run appears in the open Runs page and its points and status reach the open run view, each within 2 s', async () => {
    await page.evaluate(() => (window.location.hash = '#/runs'));
    await page.locator('.runs-table, .empty').first().waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // gone if the page reloads
    const file = path.join(work, 'run.json');
    writeFileSync(file, JSON.stringify(CONFIG));
    const child = spawn(process.execPath, ['bin/vae-workbench.js', 'train', '--config', file, '--json'], {
      cwd: ROOT,
      env: { ...process.env, VAE_WORKBENCH_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      // the row appears in the open table
      const link = page.locator('.runs-table a[href^="#/run/"]', { hasText: CONFIG.name });
      await link.waitFor({ timeout: 120_000 });
      const rowSeenAt = Date.now();
      const runId = Number((await link.getAttribute('href'))!.replace('#/run/', ''));
      const created = query<{ created_at: number }>('SELECT created_at FROM runs WHERE id = ?', runId).created_at;
      console.log(`run ${runId} row shown ${rowSeenAt - created} ms after the CLI created it`);
      expect(rowSeenAt - created).toBeLessThan(2000);

      // the run view follows the CLI's points while it trains
      await link.click();
      const chartBox = page.locator('.charts .chart-box').first();
      const status = page.locator('.view-head .status').first();
      await status.waitFor();
      const lags: number[] = [];
      let last = -1;
      let statusSeenAt = 0;
      const deadline = Date.now() + 240_000;
      for (;;) {
        const n = Number((await chartBox.getAttribute('data-points').catch(() => null)) ?? 0);
        const now = Date.now();
        if (n > last && last >= 0) {
          // how long ago the newest point now drawn was stored (its time: when the trainer measured it, just before)
          const { t } = query<{ t: number }>(
            "SELECT max(time) AS t FROM metrics WHERE run_id = ? AND name IN ('train/loss', 'val/loss', 'test/loss')",
            runId,
          );
          lags.push(now - t);
        }
        last = n;
        const st = await status.getAttribute('data-status').catch(() => null);
        if (st && /completed|failed|diverged|cancelled/.test(st)) {
          statusSeenAt = now;
          break;
        }
        if (now > deadline) throw new Error(`run ${runId} did not finish in the view; last status ${st}`);
        await page.waitForTimeout(100);
      }
      expect(await exited).toBe(0);
      expect(await status.getAttribute('data-status')).toBe('completed');
      const finished = query<{ finished_at: number }>('SELECT finished_at FROM runs WHERE id = ?', runId).finished_at;
      console.log(
        `chart growths: ${lags.length}, lag of the newest point drawn (ms): ${lags.join(', ')}; status shown ${statusSeenAt - finished} ms after the CLI finished`,
      );
      expect(lags.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...lags)).toBeLessThan(2000);
      expect(statusSeenAt - finished).toBeLessThan(2000);
      // every stored point of the loss chart's metrics is drawn, no more (no duplicates)
      const stored = query<{ n: number }>(
        "SELECT count(*) AS n FROM metrics WHERE run_id = ? AND name IN ('train/loss', 'val/loss', 'test/loss')",
        runId,
      ).n;
      await expect.poll(async () => Number(await chartBox.getAttribute('data-points')), { timeout: 2000 }).toBe(stored);
      // the log came along, and the page never reloaded
      expect(await page.locator('.log').textContent()).toMatch(/epoch 4: /);
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
      expect(pageErrors).toEqual([]);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, 'live-cli-run-view.png'), fullPage: true });
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  }, 300_000);
});
