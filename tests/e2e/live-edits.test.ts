// Renames, tags and notes made by another process are followed live, in the real browser: the UI (built renderer, real
// web host) is open on the Runs page, then on a run's page, while the CLI (`vae-workbench runs edit`, another process on
// the same data home) renames, tags and annotates runs. Without a reload, the Runs table's row and the run view's
// heading, tags and notes show the new values within 2 s of the CLI's exit.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';
import { seedWorkflowRuns, type SeededRun } from './workflow-seed';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

let home = '';
let page: Page;
const pageErrors: string[] = [];
let seeded: SeededRun[] = [];

/** `vae-workbench runs edit …` on the same data home; resolves when the CLI has exited (its write committed). */
function cliEdit(args: string[]): number {
  const res = spawnSync(process.execPath, ['bin/vae-workbench.js', 'runs', 'edit', ...args], {
    cwd: ROOT,
    env: { ...process.env, VAE_WORKBENCH_HOME: home },
    encoding: 'utf8',
  });
  expect(res.status, res.stderr).toBe(0);
  return Date.now();
}

/** Poll `probe` in the page until it is true; the ms it took (fails past `limit`). */
async function shownWithin(probe: () => Promise<boolean>, since: number, limit = 2000): Promise<number> {
  for (;;) {
    if (await probe()) return Date.now() - since;
    if (Date.now() - since > limit + 3000) throw new Error(`not shown ${limit + 3000} ms after the CLI's edit`);
    await page.waitForTimeout(50);
  }
}

useWorkbench({
  prefix: 'vae-live-edits-e2e-',
  pageErrors,
  shots: SHOTS,
  prepare: (h) => {
    seeded = seedWorkflowRuns(path.join(h, 'workbench.sqlite'));
  },
  ready: (wb) => ({ home, page } = wb),
});

describe.skipIf(!HAVE_CHROMIUM)('renames, tags and notes from another process (browser)', () => {
  it('the open Runs table shows a CLI rename and new tags within 2 s', async () => {
    await page.evaluate(() => (window.location.hash = '#/runs'));
    await page.locator('.runs-table a[href^="#/run/"]').first().waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42)); // gone if the page reloads
    const id = seeded[1]!.id;
    const row = page.locator(`.runs-table tr:has(a[href="#/run/${id}"])`);
    const at = cliEdit([String(id), '--name', 'renamed by the CLI', '--tags', 'cli-tag,second']);
    const ms = await shownWithin(
      async () =>
        (await row.locator('.name-cell').innerText()).includes('renamed by the CLI') &&
        (await row.locator('.tags-cell').innerText()).includes('cli-tag'),
      at,
    );
    console.log(`Runs table: CLI rename and tags shown ${ms} ms after the CLI exited`);
    expect(ms).toBeLessThan(2000);
    expect(await row.locator('.tags-cell .tag').allInnerTexts()).toEqual(['cli-tag', 'second']);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await page.screenshot({ path: path.join(SHOTS, 'live-edits-runs.png') });
  }, 60_000);

  it('the open run view shows a CLI rename, tags and notes within 2 s', async () => {
    const id = seeded[2]!.id;
    await page.evaluate((runId) => (window.location.hash = `#/run/${runId}`), id);
    const heading = page.locator('.view-head h1');
    await heading.filter({ hasText: `#${id}` }).waitFor();
    const at = cliEdit([String(id), '--name', 'annotated elsewhere', '--tags', 'from-cli', '--notes', 'a note written by the CLI']);
    const ms = await shownWithin(
      async () =>
        (await heading.innerText()).includes('annotated elsewhere') &&
        (await page.locator('#run-notes').inputValue()) === 'a note written by the CLI' &&
        (await page.getByLabel('Tags').inputValue()) === 'from-cli',
      at,
    );
    console.log(`run view: CLI rename, tags and notes shown ${ms} ms after the CLI exited`);
    expect(ms).toBeLessThan(2000);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    await page.screenshot({ path: path.join(SHOTS, 'live-edits-run-view.png') });
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
