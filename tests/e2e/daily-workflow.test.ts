// End-to-end, issue 24's UI items on five seeded runs (workflow-seed.ts) in the real web host and headless Chromium.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, useWorkbench } from './workbench-fixture';
import { seedWorkflowRuns, TAGS, type SeededRun } from './workflow-seed';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

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

useWorkbench({
  prefix: 'vae-workflow-e2e-',
  pageErrors,
  shots: SHOTS,
  prepare: (h) => {
    seeded = seedWorkflowRuns(path.join(h, 'workbench.sqlite'));
  },
  ready: (wb) => ({ home, page, browser } = wb),
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
      for (const width of [1440, 1024]) {
        await report.setViewportSize({ width, height: 900 });
        await report.screenshot({ path: path.join(SHOTS, `workflow-report-${width}.png`), fullPage: true });
      }
    } finally {
      await report.close();
    }
    expect(pageErrors).toEqual([]);
  });

  it('Compare keeps its whole view in the address: through navigation, a reload, and as a workspace saved by name', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await go(`#/compare?ids=${seeded.map((r) => r.id).join(',')}`);
    const curves = page.locator('section.panel[aria-label="Curves"]');
    const pc = page.locator('section.panel[aria-label="Parallel coordinates"]');
    await pc.locator('svg').waitFor();
    // set a view: metric, x, log y, smoothing, colour, an axis moved, a brush, a hidden panel
    await curves
      .locator('.controls label', { hasText: /^Metric/ })
      .locator('select')
      .selectOption('test/kl');
    await curves
      .locator('.controls label', { hasText: /^x axis/ })
      .locator('select')
      .selectOption('epoch');
    await curves.getByLabel('log y').check();
    await curves.getByLabel('Smoothing kind').selectOption('ema');
    await curves.getByLabel('Smoothing window in steps').fill('7');
    await expect.poll(() => curves.locator('.chart-box').getAttribute('data-smoothed')).toBe(' (EMA over 7 steps)');
    await curves
      .locator('.controls label', { hasText: /^Colour by/ })
      .locator('select')
      .selectOption('optimizer.learningRate');
    const chips = () => pc.locator('.chip').evaluateAll((els) => els.map((e) => e.getAttribute('data-axis')));
    const axesBefore = await chips();
    await pc.getByRole('button', { name: `Move axis ${axesBefore[0]} right` }).click();
    const axesSet = await chips();
    expect(axesSet.slice(0, 2)).toEqual([axesBefore[1], axesBefore[0]]);
    const hit = pc.locator('rect.hit[data-brush-axis="model.latentDim"]');
    const b = (await hit.boundingBox())!;
    await page.mouse.move(b.x + b.width / 2, b.y + 2);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width / 2, b.y + b.height * 0.6, { steps: 4 });
    await page.mouse.up();
    const brushText = (await pc.locator('.brush-line b').textContent())!;
    expect(brushText).toMatch(/^3 of 5 runs brushed/);
    await page.locator('.panel-chooser summary').click();
    await page.locator('.panel-chooser label', { hasText: 'Rate–distortion plane' }).locator('input').uncheck();
    await page.locator('.panel-chooser summary').click();
    await expect.poll(() => page.locator('section.panel[aria-label="Rate–distortion plane"]').count()).toBe(0);
    await expect.poll(() => page.url()).toContain('metric=test/kl');
    const url = page.url();
    expect(url).toMatch(/smooth=ema:7/);
    expect(url).toMatch(/brush=/);

    const expectView = async (where: string) => {
      await pc.locator('svg').waitFor();
      const seen = {
        metric: await curves
          .locator('.controls label', { hasText: /^Metric/ })
          .locator('select')
          .inputValue(),
        x: await curves
          .locator('.controls label', { hasText: /^x axis/ })
          .locator('select')
          .inputValue(),
        logY: await curves.getByLabel('log y').isChecked(),
        smoothing: await curves.getByLabel('Smoothing kind').inputValue(),
        window: await curves.getByLabel('Smoothing window in steps').inputValue(),
        colour: await curves
          .locator('.controls label', { hasText: /^Colour by/ })
          .locator('select')
          .inputValue(),
        axes: await chips(),
        brushed: await pc.locator('.brush-line b').textContent(),
        ratePanel: await page.locator('section.panel[aria-label="Rate–distortion plane"]').count(),
      };
      expect(seen, where).toEqual({
        metric: 'test/kl',
        x: 'epoch',
        logY: true,
        smoothing: 'ema',
        window: '7',
        colour: 'optimizer.learningRate',
        axes: axesSet,
        brushed: brushText,
        ratePanel: 0,
      });
    };
    // to Runs and back through the sidebar
    await page.locator('nav.side a', { hasText: 'Runs' }).click();
    await page.locator('.runs-table tbody tr[data-index="0"]').waitFor();
    await page.locator('nav.side a', { hasText: 'Compare' }).click();
    await expectView('after Runs and back');
    // reload
    await page.reload();
    await page.locator('.top').getByText('backend:').waitFor();
    await expectView('after a reload');
    await shot('compare-view-1440');
    // saved by name, changed, reopened
    await page.getByLabel('Workspace name').fill('kl by lr, large z');
    await page.getByRole('button', { name: 'Save workspace' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved' }).count()).toBe(1);
    await curves
      .locator('.controls label', { hasText: /^Metric/ })
      .locator('select')
      .selectOption('test/loss');
    await pc.getByRole('button', { name: 'Clear brushes' }).click();
    await go('#/runs');
    await page.locator('.runs-table tbody tr[data-index="0"]').waitFor();
    await go(`#/compare?ids=${seeded.map((r) => r.id).join(',')}`);
    await pc.locator('svg').waitFor();
    await page.getByLabel('Saved workspaces').selectOption({ label: 'kl by lr, large z' });
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await expectView('reopened from the store');
    expect(pageErrors).toEqual([]);
  });

  it("Compare's analysis: no best for KL or active units, per-metric direction, evaluation settings apart, variables that move together named", async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await go(`#/compare?ids=${seeded.map((r) => r.id).join(',')}`);
    const table = page.locator('section.panel[aria-label="Final metrics"] table');
    await table.locator('tbody tr').first().waitFor();
    // the metric's key is the header's data-metric (its text adds the figure's n and k)
    const heads = await table.locator('thead th').evaluateAll((ths) => ths.map((th) => th.getAttribute('data-metric')));
    const col = (k: string) => heads.indexOf(k);
    const boldIn = async (k: string) =>
      table.locator('tbody tr').evaluateAll((trs, i) => trs.map((tr) => tr.children[i]!.classList.contains('best')), col(k));
    expect(await boldIn('test/kl')).toEqual([false, false, false, false, false]);
    expect(await boldIn('test/activeUnits')).toEqual([false, false, false, false, false]);
    const lossBold = await boldIn('test/loss');
    const lowest = seeded.reduce((a, r) => (r.testLoss < a.testLoss ? r : a));
    expect(lossBold.filter(Boolean).length).toBe(1);
    expect(lossBold[seeded.indexOf(lowest)]).toBe(true);
    expect(await page.locator('[data-best-note]').textContent()).toMatch(/no best for test\/activeUnits, test\/kl/);
    // importance: evaluation settings left out by default, and said so; included on request, with the warning
    const imp = page.locator('section.panel[aria-label="Hyperparameter importance"]');
    await imp.locator('.importance-table').waitFor();
    const keys = () => imp.locator('.importance-table tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));
    expect((await keys()).filter((k) => k!.startsWith('eval.'))).toEqual([]);
    expect(await imp.locator('[data-eval-excluded]').getAttribute('data-eval-excluded')).toBe('eval.fid,eval.iwSamples');
    await imp.getByLabel(/include evaluation settings/).check();
    expect((await keys()).filter((k) => k!.startsWith('eval.')).sort()).toEqual(['eval.fid', 'eval.iwSamples']);
    const warn = imp.locator('[data-confounded]');
    expect((await warn.getAttribute('data-confounded'))!.split(',').sort()).toEqual(['eval.fid', 'eval.iwSamples', 'optimizer.name']);
    expect(await warn.textContent()).toMatch(/vary together/);
    await imp.scrollIntoViewIfNeeded();
    await imp.screenshot({ path: path.join(SHOTS, 'workflow-importance.png') });
    await page.setViewportSize({ width: 1024, height: 900 });
    await shot('compare-1024');
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it('Compare: y axes with units, the per-step series as CSV', async () => {
    const curves = page.locator('section.panel[aria-label="Curves"]');
    await curves
      .locator('.controls label', { hasText: /^Metric/ })
      .locator('select')
      .selectOption('train/loss');
    await expect.poll(() => curves.locator('.chart-box').getAttribute('data-ytitle')).toBe('train/loss (nats / example)');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      curves.getByRole('button', { name: 'Export series CSV' }).click(),
    ]);
    const file = path.join(home, 'series.csv');
    await download.saveAs(file);
    const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
    expect(lines[0]).toBe('runId,runName,metric,step,epoch,time,value');
    expect(lines.length - 1).toBe(5 * 200);
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0]))).toEqual(new Set(seeded.map((r) => String(r.id))));
  });

  it('the sidebar puts a run under Runs, not under Compare', async () => {
    await go(`#/run/${seeded[0]!.id}`);
    await page.locator('nav.side li.sub').first().waitFor();
    const items = await page.locator('nav.side li').allTextContents();
    expect(items.map((t) => t.trim())).toEqual(['Runs', `Run #${seeded[0]!.id}`, `Samples #${seeded[0]!.id}`, 'Launch', 'Compare']);
  });

  it('the run view: the full config (collapsible), smoothing of the training curves', async () => {
    for (const width of [1440, 1024]) {
      await page.setViewportSize({ width, height: 900 });
      await go(`#/run/${seeded[0]!.id}`);
      const details = page.locator('details.full-config');
      await details.waitFor();
      const n = Number(/Full config \((\d+) keys\)/.exec((await details.locator('summary').textContent())!)![1]);
      expect(n).toBeGreaterThan(12);
      if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
      expect(await details.locator('tbody tr').count()).toBe(n);
      expect(await details.locator('tr[data-key="eval.iwSamples"] td').textContent()).toBe('500');
      expect(await details.locator('tr[data-key="optimizer.name"] td').textContent()).toBe('adam');
      const loss = page.locator('figure.chart-card', { hasText: 'Loss (−ELBO)' }).locator('.chart-box');
      await expect.poll(() => loss.getAttribute('data-points')).not.toBe('0');
      await page.locator('.chart-controls').getByLabel('Smoothing kind').selectOption('ema');
      await expect.poll(() => loss.getAttribute('data-smoothed')).toBe('EMA over 50 steps');
      await shot(`run-${width}`);
      await page.locator('.chart-controls').getByLabel('Smoothing kind').selectOption('none');
      await expect.poll(() => loss.getAttribute('data-smoothed')).toBe('');
    }
  });

  it('Cancel asks first, then the run view shows that the run was cancelled', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await go('#/launch?preset=quick-test');
    await expect.poll(() => page.locator('#f-name').inputValue()).toBe('quick-test');
    await page.fill('#f-training-epochs', '200');
    await expect.poll(() => page.getByText('Config is valid.').count()).toBe(1);
    await page.getByRole('button', { name: 'Launch run' }).click();
    await page.waitForURL(/#\/run\/\d+$/, { timeout: 30_000 });
    const cancel = page.getByRole('button', { name: 'Cancel run' });
    await cancel.click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm cancel' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/Stop training run #\d+ now\?/);
    await dialog.getByRole('button', { name: 'Keep training' }).click();
    await expect.poll(() => dialog.count()).toBe(0);
    expect(await page.locator('.view-head .status').first().getAttribute('data-status')).toMatch(/queued|running/);
    await cancel.click();
    await page.getByRole('button', { name: 'Stop training' }).click();
    await expect.poll(() => page.locator('.view-head .status').first().getAttribute('data-status'), { timeout: 20_000 }).toBe('cancelled');
    const note = page.locator('.cancel-note');
    await note.waitFor();
    expect((await note.textContent())!.replace(/\s+/g, ' ')).toMatch(/Cancelled at .* after [\d.]+ epochs? of 200 \(\d+ steps?\)/);
    await shot('run-cancelled');
    expect(pageErrors).toEqual([]);
  });

  it('the Runs table filters on final metrics (test/loss < 135, test/activeUnits >= 5), in the query', async () => {
    await page.setViewportSize({ width: 1440, height: 900 });
    await go('#/runs');
    const wrap = page.locator('.runs-scroll');
    await page.locator('.runs-table tbody tr[data-index="0"]').waitFor();
    const filter = page.getByLabel('Metric filter');
    await filter.fill('test/loss < 135, test/activeUnits >= 5');
    await expect.poll(() => wrap.getAttribute('data-total')).toBe('2');
    const ids = await page
      .locator('.runs-table tbody tr[data-index]')
      .evaluateAll((trs) => trs.map((tr) => Number(tr.children[1]!.textContent)));
    expect(ids.sort((a, b) => a - b)).toEqual([seeded[2]!.id, seeded[4]!.id]);
    expect(await page.getByTestId('runs-count').textContent()).toBe('2 match');
    await shot('runs-metric-filter');
    await filter.fill('test/loss < 130');
    await expect.poll(() => wrap.getAttribute('data-total')).toBe('1');
    // a condition that does not parse is named (and not applied)
    await filter.fill('test/loss < abc');
    await page.getByRole('alert').filter({ hasText: 'Metric filter' }).waitFor();
    await filter.fill('');
    await expect.poll(async () => Number(await wrap.getAttribute('data-total'))).toBeGreaterThanOrEqual(5);
  });
});
