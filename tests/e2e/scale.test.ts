// End-to-end at scale: 20 runs x 100,000 points of train/loss written with the real RunStore into a fresh home,
// then compared in the real web host through the built renderer in a real headless Chromium. Checks that the
// curves arrive downsampled (bounded points per run, the spike kept), that zooming refetches the range at full
// detail, that the diff and parallel coordinates cope with 20 runs, and measures time to first chart and redraw.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, HAVE_CHROMIUM, openWorkbench, startWebHostProcess, type WebHostProcess } from './workbench-fixture';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig } from '@shared/run-config';
import { gaussian, mulberry32 } from '@shared/rng';
import { RunStore } from '../../src-main/store/run-store';

const ROOT = process.cwd();
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
if (!HAVE_CHROMIUM) console.warn(`e2e scale tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const RUNS = 20;
const POINTS = 100_000;
const STEPS_PER_EPOCH = 1000;
/** The 7th run (index 6) has one deliberate spike. */
const SPIKE_RUN_INDEX = 6;
const SPIKE_STEP = 54_321;
const SPIKE_VALUE = 2500;
const ZOOM = { from: 54_000, to: 54_600 };
const LATENT_DIMS = [2, 5, 10, 20];
const LEARNING_RATES = [0.0003, 0.001, 0.002, 0.005, 0.01];

let server: WebHostProcess | null = null;
let home = '';
let baseUrl = '';
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const runIds: number[] = [];
const figures: Record<string, string | number> = {};

/** The smooth decaying loss of run i at a step, plus seeded noise (no noise term here). */
function lossCurve(i: number, step: number): number {
  const floor = 95 + 4 * i;
  const amp = 400 + 15 * i;
  const tau = 4000 + 1500 * i;
  return floor + amp * Math.exp(-step / tau);
}

/** Write the 20 runs with the real RunStore before the web host starts. Returns the ids. */
function seed(dbFile: string): number[] {
  const store = RunStore.open(dbFile);
  const ids: number[] = [];
  const t0 = Date.UTC(2026, 0, 5, 9, 0, 0);
  try {
    for (let i = 0; i < RUNS; i++) {
      const latentDim = LATENT_DIMS[i % LATENT_DIMS.length]!;
      const learningRate = LEARNING_RATES[Math.floor(i / LATENT_DIMS.length) % LEARNING_RATES.length]!;
      const input = {
        name: `scale-${String(i + 1).padStart(2, '0')} z${latentDim} lr${learningRate}`,
        data: { dataset: 'mnist' as const },
        model: { kind: 'vae' as const, hidden: [256], latentDim },
        optimizer: { name: 'adam' as const, learningRate },
        training: { epochs: POINTS / STEPS_PER_EPOCH },
        seed: 1000 + i,
      };
      const config = parseRunConfig(input);
      const started = t0 + i * 3_600_000;
      const run = store.createRun({
        name: input.name,
        configText: JSON.stringify(input),
        config,
        dataset: 'mnist',
        seed: config.seed,
        appVersion: 'scale-test',
        backend: 'wasm',
        tags: ['scale'],
      });
      const noise = gaussian(mulberry32(77 + i));
      const batch: MetricPoint[] = [];
      const flush = () => {
        store.appendMetrics(run.id, batch);
        batch.length = 0;
      };
      for (let step = 1; step <= POINTS; step++) {
        const value = i === SPIKE_RUN_INDEX && step === SPIKE_STEP ? SPIKE_VALUE : lossCurve(i, step) + 3 * noise();
        batch.push({ name: 'train/loss', step, epoch: step / STEPS_PER_EPOCH, time: started + step * 20, value });
        if (batch.length === 25_000) flush();
      }
      for (let e = 10; e <= POINTS / STEPS_PER_EPOCH; e += 10) {
        const step = e * STEPS_PER_EPOCH;
        batch.push({ name: 'test/loss', step, epoch: e, time: started + step * 20, value: lossCurve(i, step) + 5 });
      }
      flush();
      store.updateProgress(run.id, POINTS, POINTS / STEPS_PER_EPOCH);
      store.setStatus(run.id, 'completed', { startedAt: started, finishedAt: started + POINTS * 20 });
      ids.push(run.id);
    }
    expect(store.countPoints(ids[SPIKE_RUN_INDEX]!, 'train/loss')).toBe(POINTS);
  } finally {
    store.close();
  }
  return ids;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `scale-${name}.png`), fullPage: true });
}

async function go(hash: string): Promise<void> {
  await page.evaluate((h) => (window.location.hash = h), hash);
}

const chartBox = () => page.locator('.compare-chart .chart-box');

/** Smoothing as the user sets it: the kind, then the window in steps. */
async function setSmoothing(kind: 'none' | 'ema' | 'mean', window: number): Promise<void> {
  await page.getByLabel('Smoothing kind').selectOption(kind);
  if (kind !== 'none') await page.getByLabel('Smoothing window in steps').fill(String(window));
}
const numbers = (s: string | null) => (s ? s.split(',').map(Number) : []);

/** What the compare chart has drawn: metric, x range ('' = full), points and max y per dataset, last draw time. */
async function drawn() {
  const box = chartBox();
  const [metric, range, points, ymax, drawMs, canvasWidth] = await Promise.all([
    box.getAttribute('data-metric'),
    box.getAttribute('data-range'),
    box.getAttribute('data-points'),
    box.getAttribute('data-ymax'),
    box.getAttribute('data-draw-ms'),
    box.evaluate((el) => (el as HTMLElement).clientWidth),
  ]);
  return { metric, range, points: numbers(points), ymax: numbers(ymax), drawMs: Number(drawMs), width: canvasWidth };
}

/** A click in its own frames: chart.js handles pointer events once per animation frame (the last one wins). */
async function clickAt(x: number, y: number): Promise<void> {
  await page.mouse.move(x, y);
  await page.waitForTimeout(100);
  await page.mouse.down();
  await page.mouse.up();
}

/** Coloured (non-grey) pixels on the chart canvas. */
async function colouredPixels(): Promise<number> {
  return page.evaluate(() => {
    const canvas = document.querySelector('.compare-chart canvas') as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const r = data[i]!;
      const g = data[i + 1]!;
      const b = data[i + 2]!;
      if (data[i + 3]! > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n++;
    }
    return n;
  });
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  mkdirSync(SHOTS, { recursive: true });
  home = mkdtempSync(path.join(tmpdir(), 'vae-scale-e2e-'));
  const t = Date.now();
  runIds.push(...seed(path.join(home, 'workbench.sqlite')));
  figures['seed 2,000,000 points (s)'] = ((Date.now() - t) / 1000).toFixed(1);
  server = await startWebHostProcess(ROOT, home);
  baseUrl = server.url;
  ({ browser, page } = await openWorkbench(baseUrl, pageErrors));
});

afterAll(async () => {
  if (Object.keys(figures).length) console.log('scale figures:', JSON.stringify(figures, null, 1));
  await browser?.close();
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe.skipIf(!HAVE_CHROMIUM)('comparing 20 runs of 100,000 points each', () => {
  let overview: Awaited<ReturnType<typeof drawn>>;

  it('draws all 20 curves downsampled, keeps the spike, and does it in reasonable time', async () => {
    const t0 = Date.now();
    await go(`#/compare?ids=${runIds.join(',')}`);
    const select = page.locator('.controls label', { hasText: /^Metric/ }).locator('select');
    await expect.poll(() => select.locator('option').allTextContents(), { timeout: 30_000 }).toContain('train/loss');
    await select.selectOption('train/loss');
    await expect
      .poll(
        async () => {
          const d = await drawn();
          return d.metric === 'train/loss' && d.range === '' && d.points.length === RUNS;
        },
        { timeout: 60_000, interval: 50 },
      )
      .toBe(true);
    figures['navigation to drawn train/loss chart (ms)'] = Date.now() - t0;
    expect(Date.now() - t0).toBeLessThan(15_000);

    overview = await drawn();
    figures['chart width (px)'] = overview.width;
    figures['points drawn per run (min..max)'] = `${Math.min(...overview.points)}..${Math.max(...overview.points)}`;
    for (const n of overview.points) {
      expect(n).toBeGreaterThan(200); // a real curve, not a handful of points
      expect(n).toBeLessThanOrEqual(2 * overview.width); // downsampled, bounded by the chart's width
    }
    // the spike survives the downsampling; the other runs never reach it
    expect(overview.ymax[SPIKE_RUN_INDEX]).toBe(SPIKE_VALUE);
    overview.ymax.forEach((y, i) => i !== SPIKE_RUN_INDEX && expect(y).toBeLessThan(1000));
    await expect.poll(() => page.locator('.compare-chart figcaption').textContent()).toContain('downsampled');
    expect(await colouredPixels()).toBeGreaterThan(2000);
    // coloured by the default hyperparameter (latentDim, 4 values): runs sharing a colour differ in dash pattern
    await page.locator('.compare-chart').screenshot({ path: path.join(SHOTS, 'scale-compare-chart-by-latent.png') });
    // 20 distinguishable colours: colour by run
    await page
      .locator('.controls label', { hasText: /^Colour by/ })
      .locator('select')
      .selectOption('');
    await expect.poll(() => chartBox().getAttribute('data-colors')).toBeTruthy();
    const colors = (await chartBox().getAttribute('data-colors'))!.split(';');
    expect(colors).toHaveLength(RUNS);
    expect(new Set(colors).size).toBe(RUNS);
    await page.locator('.compare-chart').scrollIntoViewIfNeeded();
    await shot('compare-overview');
    await page.locator('.compare-chart').screenshot({ path: path.join(SHOTS, 'scale-compare-chart.png') });
  });

  it('redraws 20 downsampled series quickly (log y, smoothing)', async () => {
    // in-page: time from a control change to the next frame, and the chart's own update time
    const times: number[] = [];
    const updates: number[] = [];
    for (let k = 0; k < 6; k++) {
      const ms = await page.evaluate(async () => {
        const box = document.querySelector('.compare-chart .chart-box') as HTMLElement;
        const before = box.dataset.drawCount;
        const input = Array.from(document.querySelectorAll('label.inline'))
          .find((l) => l.textContent?.includes('log y'))!
          .querySelector('input')!;
        const t = performance.now();
        input.click();
        // wait until the chart has drawn again, then for the frame to be presented
        while (box.dataset.drawCount === before) await new Promise((r) => setTimeout(r, 0));
        await new Promise((r) => requestAnimationFrame(() => r(null)));
        return performance.now() - t;
      });
      times.push(ms);
      updates.push((await drawn()).drawMs);
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    figures['redraw, control change to next frame (ms, median of 6)'] = Math.round(median(times));
    figures['redraw, chart.update only (ms, median of 6)'] = Math.round(median(updates));
    expect(median(times)).toBeLessThan(1000);
    // smoothing: the service smooths every raw point (20 x 100,000) before downsampling, then the chart redraws
    const t0s = Date.now();
    await setSmoothing('ema', 1000);
    await expect.poll(() => chartBox().getAttribute('data-smoothed'), { timeout: 60_000 }).toBe(' (EMA over 1000 steps)');
    const t = Date.now() - t0s;
    figures['smoothing EMA over 1000 steps on 2,000,000 raw points, to drawn (ms)'] = Math.round(t);
    expect(t).toBeLessThan(30_000);
    expect(await page.locator('label.inline input[type=checkbox]').first().isChecked()).toBe(false); // 6 toggles
    // hovering (nearest-point tooltip): every change of the hovered point redraws the whole chart
    const b = (await page.locator('.compare-chart canvas').boundingBox())!;
    await page.mouse.move(b.x + 100, b.y + 150);
    const h0 = Date.now();
    await page.mouse.move(b.x + 1000, b.y + 200, { steps: 40 });
    const perMove = (Date.now() - h0) / 40;
    figures['hover, per mouse move incl. redraw (ms)'] = Math.round(perMove);
    expect(perMove).toBeLessThan(1000);
    await page.mouse.move(b.x - 50, b.y - 50);
    await setSmoothing('none', 0);
    await expect.poll(() => chartBox().getAttribute('data-smoothed'), { timeout: 60_000 }).toBe('');
  });

  it('keeps a run hidden from the legend through redraws and zoom (user state survives new data)', async () => {
    // the last run: drawn on top of the others, and its legend item is the lowest one
    const last = runIds[RUNS - 1]!;
    const colour = (await chartBox().getAttribute('data-colors'))!.split(';')[RUNS - 1]!; // '#87ceeb' when coloured by run
    const rgb = [1, 3, 5].map((k) => parseInt(colour.slice(k, k + 2), 16));
    /** Pixels of the run's colour: the lowest ones are its legend item, those well above it its curve. */
    const find = () =>
      page.evaluate((rgb) => {
        const canvas = document.querySelector('.compare-chart canvas') as HTMLCanvasElement;
        const { width, height } = canvas;
        const { data } = canvas.getContext('2d')!.getImageData(0, 0, width, height);
        const hits: [number, number][] = [];
        for (let y = 0; y < height; y++)
          for (let x = 0; x < width; x++) {
            const i = (y * width + x) * 4;
            if (Math.abs(data[i]! - rgb[0]!) + Math.abs(data[i + 1]! - rgb[1]!) + Math.abs(data[i + 2]! - rgb[2]!) <= 40) hits.push([x, y]);
          }
        const bottom = Math.max(...hits.map((h) => h[1]));
        const legend = hits.filter((h) => h[1] >= bottom - 3);
        const plot = hits.filter((h) => h[1] < bottom - 40).length;
        const ratio = canvas.getBoundingClientRect().width / width;
        const at = legend.length ? legend[Math.floor(legend.length / 2)]! : null;
        return { plot, legendAt: at ? { x: at[0] * ratio, y: at[1] * ratio } : null };
      }, rgb);
    const before = await find();
    expect(before.plot).toBeGreaterThan(200);
    expect(before.legendAt).not.toBeNull();
    const b = (await page.locator('.compare-chart canvas').boundingBox())!;
    // click the item's label (just right of its colour box)
    await clickAt(b.x + before.legendAt!.x + 40, b.y + before.legendAt!.y);
    await expect.poll(async () => (await find()).plot).toBeLessThan(before.plot / 10);
    // new data arrives (smoothing, then a zoom refetch): the run stays hidden
    await setSmoothing('mean', 500);
    await expect.poll(() => chartBox().getAttribute('data-smoothed'), { timeout: 60_000 }).toBe(' (mean over 500 steps)');
    await expect.poll(() => chartBox().getAttribute('data-hidden')).toBe(String(last));
    expect((await find()).plot).toBeLessThan(before.plot / 10);
    await page.getByLabel('x from').fill('20000');
    await page.getByLabel('x to').fill('30000');
    await page.getByRole('button', { name: 'Zoom', exact: true }).click();
    await expect.poll(async () => (await drawn()).range, { timeout: 30_000 }).toBe('20000,30000');
    expect(await chartBox().getAttribute('data-hidden')).toBe(String(last));
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    await expect.poll(async () => (await drawn()).range, { timeout: 30_000 }).toBe('');
    expect(await chartBox().getAttribute('data-hidden')).toBe(String(last));
    // show it again from the legend (the page may have scrolled: measure again); smoothing back to 0
    const b2 = (await page.locator('.compare-chart canvas').boundingBox())!;
    await clickAt(b2.x + before.legendAt!.x + 40, b2.y + before.legendAt!.y);
    await expect.poll(async () => (await find()).plot).toBeGreaterThan(200);
    await setSmoothing('none', 0);
    await expect.poll(() => chartBox().getAttribute('data-smoothed'), { timeout: 60_000 }).toBe('');
    await expect.poll(() => chartBox().getAttribute('data-hidden')).toBe('');
    await expect.poll(async () => (await find()).plot).toBeGreaterThan(200);
  });

  it('zooming into a narrow range around the spike refetches it at full detail, and reset returns', async () => {
    const t0 = Date.now();
    await page.getByLabel('x from').fill(String(ZOOM.from));
    await page.getByLabel('x to').fill(String(ZOOM.to));
    await page.getByRole('button', { name: 'Zoom', exact: true }).click();
    await expect.poll(async () => (await drawn()).range, { timeout: 30_000, interval: 50 }).toBe(`${ZOOM.from},${ZOOM.to}`);
    figures['zoom refetch (ms)'] = Date.now() - t0;
    const zoomed = await drawn();
    const rawInRange = ZOOM.to - ZOOM.from + 1; // one point per step
    figures['points per run after zoom'] = `${Math.min(...zoomed.points)}..${Math.max(...zoomed.points)} (raw ${rawInRange})`;
    expect(zoomed.points).toEqual(Array(RUNS).fill(rawInRange));
    expect(zoomed.ymax[SPIKE_RUN_INDEX]).toBe(SPIKE_VALUE);
    await expect.poll(() => page.locator('.compare-chart figcaption').textContent()).toContain(`all ${RUNS * rawInRange} points`);
    expect(await colouredPixels()).toBeGreaterThan(2000);
    await page.locator('.compare-chart').screenshot({ path: path.join(SHOTS, 'scale-compare-zoomed.png') });

    await page.getByRole('button', { name: 'Reset zoom' }).click();
    await expect.poll(async () => (await drawn()).range, { timeout: 30_000 }).toBe('');
    const back = await drawn();
    expect(back.points).toEqual(overview.points);
    expect(back.ymax[SPIKE_RUN_INDEX]).toBe(SPIKE_VALUE);

    // a drag across the plot zooms too (range from the pixels), and the refetch is downsampled no further than needed
    const canvas = page.locator('.compare-chart canvas');
    const b = (await canvas.boundingBox())!;
    await page.mouse.move(b.x + b.width * 0.5, b.y + b.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(b.x + b.width * 0.55, b.y + b.height * 0.4, { steps: 5 });
    await page.mouse.up();
    await expect.poll(async () => (await drawn()).range, { timeout: 30_000 }).not.toBe('');
    const dragged = await drawn();
    const [lo, hi] = dragged.range!.split(',').map(Number) as [number, number];
    expect(hi - lo).toBeGreaterThan(1000);
    expect(hi - lo).toBeLessThan(20_000);
    figures['points per run after a 5% drag zoom'] =
      `${Math.min(...dragged.points)}..${Math.max(...dragged.points)} of ${Math.floor(hi) - Math.ceil(lo) + 1} raw`;
    for (const n of dragged.points) expect(n).toBeLessThanOrEqual(2 * dragged.width);
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    await expect.poll(async () => (await drawn()).range, { timeout: 30_000 }).toBe('');
  });

  it('switches the x axis to epoch and wall time with 20 x 100k points in reasonable time', async () => {
    const xSelect = page.locator('.controls label', { hasText: /^x axis/ }).locator('select');
    for (const x of ['epoch', 'time', 'step']) {
      const t0 = Date.now();
      await xSelect.selectOption(x);
      await expect
        .poll(async () => (await chartBox().getAttribute('data-x')) === x && (await drawn()).range === '', {
          timeout: 30_000,
          interval: 50,
        })
        .toBe(true);
      const d = await drawn();
      figures[`switch x axis to ${x} (ms)`] = Date.now() - t0;
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(d.points).toHaveLength(RUNS);
      for (const n of d.points) expect(n).toBeGreaterThan(200);
      for (const n of d.points) expect(n).toBeLessThanOrEqual(2 * d.width);
      expect(d.ymax[SPIKE_RUN_INDEX]).toBe(SPIKE_VALUE);
    }
  });

  it('shows the hyperparameters that differ across 20 runs and 20 lines in parallel coordinates', async () => {
    for (const key of ['model.latentDim', 'optimizer.learningRate']) {
      const row = page.locator(`tr.differs[data-key="${key}"]`);
      await row.waitFor();
      expect(await row.locator('td').count()).toBe(RUNS);
    }
    const latent = (await page.locator('tr.differs[data-key="model.latentDim"] td').allTextContents()).map((s) => Number(s.trim()));
    expect(latent).toEqual(runIds.map((_, i) => LATENT_DIMS[i % LATENT_DIMS.length]));
    expect(await page.locator('tr.same[data-key="model.hidden"]').count()).toBe(0); // identical ones folded away
    await page.locator('.parcoords polyline').first().waitFor({ state: 'attached' });
    expect(await page.locator('.parcoords polyline').count()).toBe(RUNS);
    await page.locator('.parcoords').scrollIntoViewIfNeeded();
    await shot('compare-full');
    expect(pageErrors).toEqual([]);
  });

  it('shows the whole runs table with its actions at a 1400 px wide window', async () => {
    await go('#/runs');
    await page
      .locator('.runs-table tbody tr')
      .nth(RUNS - 1)
      .waitFor();
    const row = page.locator('.runs-table tbody tr').first();
    for (const name of [/^Edit name/, /^Clone run/]) {
      const button = row.getByRole('button', { name });
      const box = (await button.boundingBox())!;
      expect(box.x + box.width, `${name} ends inside the window`).toBeLessThanOrEqual(1400);
      expect(box.x).toBeGreaterThan(150);
      expect(await button.isVisible()).toBe(true);
    }
    await shot('runs-table');
    expect(pageErrors).toEqual([]);
  });
});
