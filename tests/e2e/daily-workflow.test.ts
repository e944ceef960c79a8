// End-to-end, issue 24's UI items on five seeded runs (workflow-seed.ts) in the real web host and headless Chromium.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, openWorkbench, startWebHostProcess, type WebHostProcess } from './workbench-fixture';
import { seedWorkflowRuns, TAGS, type SeededRun } from './workflow-seed';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

let server: WebHostProcess | null = null;
let home = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
let seeded: SeededRun[] = [];

async function go(hash: string): Promise<void> {
  await page.evaluate((h) => (window.location.hash = h), hash);
}
async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `workflow-${name}.png`), fullPage: true });
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  mkdirSync(SHOTS, { recursive: true });
  home = mkdtempSync(path.join(tmpdir(), 'vae-workflow-e2e-'));
  seeded = seedWorkflowRuns(path.join(home, 'workbench.sqlite'));
  server = await startWebHostProcess(ROOT, home);
  ({ browser, page } = await openWorkbench(server.url, pageErrors));
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!HAVE_CHROMIUM)("issue 24's UI items", () => {
  it('the Runs table at 1440 and 1024 px: no cell covered, tags whole or with an ellipsis and title, an added column in view', async () => {
    for (const width of [1440, 1024]) {
      await page.setViewportSize({ width, height: 900 });
      await go('#/runs');
      const lrRun = seeded.find((r) => r.lr === 0.05)!;
      const row = page.locator('.runs-table tbody tr', {
        has: page.getByRole('checkbox', { name: `Select run ${lrRun.id}`, exact: true }),
      });
      await row.waitFor();
      await page.locator('.runs-scroll').evaluate((el) => (el.scrollLeft = 0));
      // every cell whose right edge is inside the scroll area is the element drawn at its right edge (nothing covers it)
      const covered = await row.evaluate((tr) => {
        const wrap = tr.closest('.runs-scroll')!.getBoundingClientRect();
        const out: string[] = [];
        for (const td of Array.from(tr.querySelectorAll('td'))) {
          const b = td.getBoundingClientRect();
          if (b.right > wrap.right - 1 || b.width < 4) continue;
          const hit = document.elementFromPoint(b.right - 3, b.top + b.height / 2);
          if (!hit || !td.contains(hit)) out.push(`${td.textContent!.trim()} under ${hit?.closest('td')?.className ?? hit?.tagName}`);
        }
        return out;
      });
      expect(covered).toEqual([]);
      // lr reads 0.05 once scrolled into view, and nothing is drawn over its right edge
      const lrIndex = await page
        .locator('.runs-table thead th')
        .evaluateAll((ths) => ths.findIndex((th) => th.getAttribute('data-col') === 'optimizer.learningRate'));
      const lrCell = row.locator('td').nth(lrIndex);
      await lrCell.scrollIntoViewIfNeeded();
      expect((await lrCell.textContent())!.trim()).toBe('0.05');
      expect(
        await lrCell.evaluate((td) => {
          const b = td.getBoundingClientRect();
          return td.contains(document.elementFromPoint(b.right - 2, b.top + b.height / 2));
        }),
      ).toBe(true);
      // the long tags: whole, or cut with an ellipsis and every tag in the title
      const tags = row.locator('td.tags-cell');
      const fit = await tags.evaluate((td) => ({
        whole: td.scrollWidth <= td.clientWidth,
        ellipsis: getComputedStyle(td).textOverflow === 'ellipsis' && getComputedStyle(td.querySelector('.tag')!).display === 'inline',
        title: td.getAttribute('title') ?? '',
      }));
      expect(fit.whole || (fit.ellipsis && TAGS.every((t) => fit.title.includes(t)))).toBe(true);
      await page.locator('.runs-scroll').evaluate((el) => (el.scrollLeft = 0));
      await shot(`runs-${width}`);
      // a column added from the chooser is scrolled into view
      const key = width === 1440 ? 'optimizer.name' : 'eval.iwSamples';
      await page.locator('.column-chooser summary').click();
      await page
        .locator('.chooser-list label', { hasText: new RegExp(`^\\s*${key.replace('.', '\\.')}\\s*$`) })
        .locator('input')
        .check();
      await page.locator('.column-chooser summary').click();
      const th = page.locator(`.runs-table thead th[data-col="${key}"]`);
      await expect
        .poll(() =>
          th.evaluate((el) => {
            const w = el.closest('.runs-scroll')!.getBoundingClientRect();
            const b = el.getBoundingClientRect();
            return b.left >= w.left - 1 && b.right <= w.right + 1;
          }),
        )
        .toBe(true);
      await shot(`runs-${width}-added-column`);
    }
  });

  it('parallel coordinates: full keys on the axes, a brush label that names exactly what it selects', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await go(`#/compare?ids=${seeded.map((r) => r.id).join(',')}`);
    const pc = page.locator('section.panel[aria-label="Parallel coordinates"]');
    await pc.locator('svg').waitFor();
    const labels = await pc.locator('text.axis-label').evaluateAll((els) => els.map((e) => e.childNodes[0]!.textContent!.trim()));
    expect(labels).toContain('optimizer.name');
    expect(labels).toContain('model.latentDim');
    expect(labels).not.toContain('name');
    // drag from a third of a pixel under the top of the latent-size axis (20) down to about 8
    const hit = pc.locator('rect.hit[data-brush-axis="model.latentDim"]');
    const b = (await hit.boundingBox())!;
    const scale = b.height / (300 - 48 - 24 + 8);
    const top = b.y + 4 * scale;
    const yOf = (v: number) => top + (1 - (v - 2) / 18) * (300 - 48 - 24) * scale;
    await page.mouse.move(b.x + b.width / 2, yOf(20) + 0.3);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, yOf(8), { steps: 4 });
    await page.mouse.up();
    const text = (await pc.locator('.brush-line').textContent())!;
    const m = /([\d.e-]+) ≤ model\.latentDim ≤ ([\d.e-]+)/.exec(text);
    expect(m, text).not.toBeNull();
    const [lo, hi] = [Number(m![1]), Number(m![2])];
    const named = seeded.filter((r) => r.latentDim >= lo && r.latentDim <= hi).length;
    const inside = Number(await pc.locator('svg').getAttribute('data-inside'));
    expect({ lo, hi, inside }).toEqual({ lo: 11, hi: 20, inside: named });
    expect(inside).toBe(3);
  });

  it('the exported report draws the parallel-coordinates brush areas transparent, not as black bars', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 60_000 }),
      page.getByRole('button', { name: 'Export report' }).click(),
    ]);
    const file = path.join(home, 'report.html');
    await download.saveAs(file);
    const html = readFileSync(file, 'utf8');
    const src = /<img alt="Parallel coordinates" src="data:image\/svg\+xml;base64,([^"]+)"/.exec(html);
    expect(src).not.toBeNull();
    const report = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    try {
      // the chart's own document: the hit areas are transparent, the brush translucent
      const svgFile = path.join(home, 'parcoords.svg');
      writeFileSync(svgFile, Buffer.from(src![1]!, 'base64'));
      await report.goto(`file://${svgFile}`);
      const fills = await report.evaluate(() =>
        ['rect.hit', 'rect.brush'].map((sel) => {
          const el = document.querySelector(sel);
          const cs = el ? getComputedStyle(el) : null;
          return { fill: cs?.fill ?? 'none', opacity: Number(cs?.fillOpacity ?? NaN) };
        }),
      );
      expect(fills[0]!.fill).toMatch(/transparent|rgba\(0, 0, 0, 0\)/);
      expect(fills[1]!.opacity).toBeLessThan(0.5);
      // and as the report shows it: almost no black pixels (the bars were ~12% of the image)
      await report.goto(`file://${file}`);
      const img = report.locator('img[alt="Parallel coordinates"]');
      await img.scrollIntoViewIfNeeded();
      const png = PNG.sync.read(await img.screenshot({ path: path.join(SHOTS, 'workflow-report-parcoords.png') }));
      let black = 0;
      for (let i = 0; i < png.data.length; i += 4) if (png.data[i]! < 40 && png.data[i + 1]! < 40 && png.data[i + 2]! < 40) black++;
      const share = black / (png.width * png.height);
      expect(share).toBeLessThan(0.03);
    } finally {
      await report.close();
    }
    expect(pageErrors).toEqual([]);
  });
});
