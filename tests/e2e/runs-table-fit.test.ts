// The Runs table fits its box, in the real browser: at 1024x768 with the default columns it does not scroll sideways
// (scrollWidth <= clientWidth), no cell is drawn over another (the row actions cover no value), numbers are whole, and a
// name or tags too long for their cell end in an ellipsis with the whole text in the title. Screenshots at 1024, 1440
// and 1920 px (test-results/screenshots/runs-fit-*.png).

import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';
import { seedWorkflowRuns } from './workflow-seed';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

let page: Page;
const pageErrors: string[] = [];

useWorkbench({
  prefix: 'vae-runs-fit-e2e-',
  pageErrors,
  shots: SHOTS,
  prepare: (h) => {
    seedWorkflowRuns(path.join(h, 'workbench.sqlite'));
  },
  ready: (wb) => ({ page } = wb),
});

interface Fit {
  scrollWidth: number;
  clientWidth: number;
  covered: string[];
  cutNumbers: string[];
  cutWithoutTitle: string[];
}

/** What the table looks like at the current viewport: overflow, covered cells, cut numbers, cut text without a title. */
function measure(): Promise<Fit> {
  return page.locator('.runs-scroll').evaluate((wrap) => {
    const box = wrap.getBoundingClientRect();
    const covered: string[] = [];
    const cutNumbers: string[] = [];
    const cutWithoutTitle: string[] = [];
    for (const tr of Array.from(wrap.querySelectorAll('tbody tr[data-index]'))) {
      for (const td of Array.from(tr.querySelectorAll('td'))) {
        const b = td.getBoundingClientRect();
        if (b.bottom > box.bottom) continue;
        for (const x of [b.left + 3, b.right - 3]) {
          const hit = document.elementFromPoint(x, b.top + b.height / 2);
          if (!hit || !td.contains(hit)) covered.push(`${td.textContent!.trim()} under ${hit?.closest('td')?.className ?? hit?.tagName}`);
        }
        const cut = td.scrollWidth > td.clientWidth;
        if (cut && td.classList.contains('num')) cutNumbers.push(td.textContent!.trim());
        if (cut && !td.classList.contains('actions-col') && !td.getAttribute('title')) cutWithoutTitle.push(td.textContent!.trim());
      }
    }
    return { scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth, covered, cutNumbers, cutWithoutTitle };
  });
}

describe.skipIf(!HAVE_CHROMIUM)('the Runs table fits (browser)', () => {
  it('at 1024x768 with the default columns: no sideways scroll, nothing covered, numbers whole; shots at 1024, 1440, 1920', async () => {
    await page.evaluate(() => localStorage.removeItem('vae-workbench-runs-columns-v2')); // the default columns
    for (const [width, height] of [
      [1024, 768],
      [1440, 900],
      [1920, 1080],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.evaluate(() => (window.location.hash = '#/launch'));
      await page.evaluate(() => (window.location.hash = '#/runs'));
      await page.locator('.runs-table tbody tr[data-index]').first().waitFor();
      await page.waitForTimeout(200);
      const fit = await measure();
      console.log(
        `${width}px: table ${fit.scrollWidth} px in a box of ${fit.clientWidth} px; cut numbers: ${fit.cutNumbers.join(', ') || 'none'}`,
      );
      await page.screenshot({ path: path.join(SHOTS, `runs-fit-${width}.png`) });
      expect(fit.scrollWidth, `${width}px`).toBeLessThanOrEqual(fit.clientWidth);
      expect(fit.covered, `${width}px`).toEqual([]);
      expect(fit.cutNumbers, `${width}px`).toEqual([]);
      expect(fit.cutWithoutTitle, `${width}px`).toEqual([]);
    }
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
