// "Select all" past 10,000 runs, in the real browser: a store of 10,040 runs (21 written with the real RunStore, the
// rest copies of one of them made in SQL, so seeding takes seconds), 10,020 of them tagged `bulk`. Filtered by that tag, the header checkbox selects every matching run — a selection by filter, not a
// list of ids paged into the page — and Export CSV, Compare and Delete act on all 10,020 (the service resolves the
// filter by the same query): the CSV holds 10,020 rows, Compare opens the first 200 in the table's order, the confirm
// dialog names the count, and after Delete the 20 untagged runs alone are left.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';
import { parseRunConfig } from '@shared/run-config';
import { RunStore } from '../../src-main/store/run-store';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const BULK = 10_020;
const OTHERS = 20;

let home = '';
let page: Page;
const pageErrors: string[] = [];

/**
 * 10,040 small finished runs in a second or two: the 20 untagged ones and one `bulk` run written with the real RunStore,
 * then that run copied 10,019 times row for row (runs, params, tags, metrics, final values) in one transaction.
 */
function seed(dbFile: string): void {
  const store = RunStore.open(dbFile);
  let template = 0;
  try {
    const input = { model: { kind: 'vae' as const, hidden: [32], latentDim: 2 }, training: { epochs: 1 } };
    const config = parseRunConfig(input);
    for (let i = 0; i <= OTHERS; i++) {
      const run = store.createRun({
        name: `bulk-${String(i).padStart(5, '0')}`,
        configText: JSON.stringify(input),
        config,
        dataset: 'mnist',
        seed: i,
        appVersion: 'select-all-test',
        backend: 'wasm',
        tags: i < OTHERS ? ['keep'] : ['bulk'],
      });
      store.appendMetrics(run.id, [{ name: 'test/loss', step: 1, epoch: 1, time: Date.UTC(2026, 0, 1) + i, value: 100 + i }]);
      store.setStatus(run.id, 'completed', { startedAt: 1, finishedAt: 2 });
      template = run.id;
    }
  } finally {
    store.close();
  }
  const db = new Database(dbFile);
  try {
    const columns = (table: string) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
    const runCols = columns('runs').filter((c) => c !== 'id');
    const copyRun = db.prepare(
      `INSERT INTO runs (${runCols.join(', ')}) SELECT ${runCols
        .map((c) => (c === 'name' ? '?' : c === 'uid' ? 'lower(hex(randomblob(16)))' : c))
        .join(', ')} FROM runs WHERE id = ?`,
    );
    const children = ['run_params', 'run_tags', 'run_final', 'metrics'].map((table) => {
      const cols = columns(table);
      return db.prepare(
        `INSERT INTO ${table} (${cols.join(', ')}) SELECT ${cols.map((c) => (c === 'run_id' ? '?' : c)).join(', ')} FROM ${table} WHERE run_id = ?`,
      );
    });
    db.transaction(() => {
      for (let i = OTHERS + 1; i < BULK + OTHERS; i++) {
        const id = Number(copyRun.run(`bulk-${String(i).padStart(5, '0')}`, template).lastInsertRowid);
        for (const child of children) child.run(id, template);
      }
    })();
  } finally {
    db.close();
  }
}

function countRuns(where = ''): number {
  const db = new Database(path.join(home, 'workbench.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM runs ${where}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

useWorkbench({
  prefix: 'vae-select-all-e2e-',
  pageErrors,
  shots: SHOTS,
  prepare: async (h) => {
    home = h;
    const t = Date.now();
    seed(path.join(home, 'workbench.sqlite'));
    console.log(`seeded ${BULK + OTHERS} runs in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  },
  ready: (wb) => ({ home, page } = wb),
  timeoutMs: 300_000,
});

describe.skipIf(!HAVE_CHROMIUM)('select every matching run past 10,000 (browser)', () => {
  it('export, compare and delete reach all 10,020 runs the filter matches; the confirm dialog names the count', async () => {
    await page.evaluate(() => (window.location.hash = '#/runs'));
    await page.locator('.runs-table').waitFor();
    await page.locator('.filters select').nth(1).selectOption('bulk');
    await page
      .getByTestId('runs-count')
      .filter({ hasText: new RegExp(`^${BULK} match$`) })
      .waitFor();
    await page.getByLabel('Select all matching runs').check();
    await expect.poll(() => page.getByTestId('selection-count').innerText()).toBe(`${BULK} selected (every matching run)`);
    expect(await page.locator('.runs-table tbody input[type=checkbox]:not(:checked)').count()).toBe(0);

    // Export CSV: every matching run (a header and one line per run)
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByText('Export CSV').click()]);
    const file = path.join(home, 'selected.csv');
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length - 1).toBe(BULK);
    expect(lines.some((l) => l.includes('bulk-00000'))).toBe(false); // an untagged run is not in it

    // Compare: the first 200 of the selection, in the table's order (newest first)
    await page.getByRole('button', { name: 'Compare', exact: true }).click();
    await page.waitForFunction(() => window.location.hash.startsWith('#/compare'));
    const ids = (await page.evaluate(() => new URLSearchParams(window.location.hash.split('?')[1]).get('ids')))!.split(',').map(Number);
    expect(ids).toHaveLength(200);
    expect(ids[0]).toBe(BULK + OTHERS);
    expect(Math.min(...ids)).toBeGreaterThan(OTHERS);

    // Delete: the dialog names the count; all 10,020 go, the 20 others stay
    await page.evaluate(() => (window.location.hash = '#/runs'));
    await page.locator('.runs-table').waitFor();
    await page.locator('.filters select').nth(1).selectOption('bulk');
    await page
      .getByTestId('runs-count')
      .filter({ hasText: new RegExp(`^${BULK} match$`) })
      .waitFor();
    await page.getByLabel('Select all matching runs').check();
    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm delete' });
    await expect.poll(() => dialog.innerText()).toContain('Delete all 10,020 runs matching the filters');
    await page.screenshot({ path: path.join(SHOTS, 'select-all-10020-confirm.png') });
    const t = Date.now();
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await page
      .getByTestId('runs-count')
      .filter({ hasText: /^0 match$/ })
      .waitFor({ timeout: 240_000 });
    console.log(`deleted ${BULK} runs by filter in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    expect(countRuns()).toBe(OTHERS);
    expect(countRuns("WHERE name LIKE 'bulk-0001%'")).toBe(OTHERS - 10);
    expect(pageErrors).toEqual([]);
  }, 400_000);
});
