// Run store benchmark: fill a fresh database with `runs` runs of `points` metric points each, then time listing,
// filtering and a downsampled series fetch (medians of repeats).
// Alone: node --import tsx src-main/bench/store-bench.ts [--runs 1000] [--points 1000] [--dir /tmp/x] [--big 200000]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig } from '@shared/run-config';
import { MetricWriter } from '../store/metric-writer';
import { RunStore } from '../store/run-store';
import { fullSeries } from '../store/smoothed-series';
import { mulberry32 } from '@shared/rng';

export interface StoreBenchOptions {
  runs: number;
  points: number;
  /** Directory for the database file (created; the file is removed afterwards unless keep is set). */
  dir: string;
  /** Also time a series fetch from one run with this many points (0 = skip). Default 200,000. */
  bigRunPoints?: number;
  repeats?: number;
  keep?: boolean;
}

export interface StoreBenchResult {
  runs: number;
  pointsPerRun: number;
  totalPoints: number;
  /** Creating the runs and inserting all their points (one transaction per run's batch). */
  insertSeconds: number;
  insertPointsPerSec: number;
  /** listRuns() of every run, full summaries (params, tags, final metrics). */
  listMs: number;
  /** listRuns first page of 50, sorted by a final metric. */
  listPageMs: number;
  /** listRuns filtered by status + param range + tag, sorted by a final metric. */
  filterMs: number;
  filterMatches: number;
  /** The runs view: the filter above, one page of 100 (what the UI asks for) (i15). */
  filterPageMs: number;
  /** The runs view: a page of 100 runs matching a search word, sorted by a hyperparameter (i15). */
  searchPageMs: number;
  /** Opening Compare on 50 runs: listRuns({ids}) + paramDiff + metricNames (i15). */
  compare50Ms: number;
  /** series() of 10 runs smoothed (EMA over 50 steps) on every raw point, then downsampled to 500 (i15). */
  smoothedSeriesMs: number;
  /** series() of 10 runs downsampled to 500 points each (x = step). */
  seriesMs: number;
  seriesPointsReturned: number;
  /** series() of one run with bigRunPoints points downsampled to 500. */
  bigSeriesMs: number | null;
  /** MetricWriter: points/s written when 20 runs push points one by one. */
  writerPointsPerSec: number;
  dbBytes: number;
  repeats: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function timeMs(fn: () => unknown, repeats: number): number {
  fn(); // warm the statement cache and the page cache
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return Math.round(median(times) * 1000) / 1000;
}

function lossCurve(n: number, rand: () => number, offset: number, startTime: number): MetricPoint[] {
  const out: MetricPoint[] = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      name: 'train/loss',
      step: i * 10,
      epoch: i / 100,
      time: startTime + i * 50,
      value: offset + 400 * Math.exp(-i / (n / 5)) + rand() * 3,
    };
  }
  return out;
}

// eslint-disable-next-line max-lines-per-function -- the store benchmark script: seed, then one timed query after another
export async function benchStore(opts: StoreBenchOptions): Promise<StoreBenchResult> {
  const repeats = opts.repeats ?? 9;
  const bigRunPoints = opts.bigRunPoints ?? 200_000;
  mkdirSync(opts.dir, { recursive: true });
  const file = path.join(opts.dir, 'store-bench.sqlite');
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  const store = RunStore.open(file);
  const rand = mulberry32(12345);
  const latentDims = [2, 5, 10, 20, 50];
  const lrs = [0.0003, 0.001, 0.003, 0.01];
  const statuses = ['completed', 'completed', 'completed', 'failed', 'cancelled'] as const;
  try {
    const t0 = performance.now();
    const ids: number[] = [];
    for (let r = 0; r < opts.runs; r++) {
      const input = {
        name: `bench-${r}`,
        seed: r + 1,
        model: { latentDim: latentDims[r % latentDims.length]!, hidden: [400 + (r % 3) * 100] },
        optimizer: { learningRate: lrs[r % lrs.length]! },
        objective: { beta: 1 + (r % 4) * 0.5 },
      };
      const config = parseRunConfig(input);
      const run = store.createRun({
        name: config.name,
        configText: JSON.stringify(input),
        config,
        dataset: 'mnist',
        seed: config.seed,
        appVersion: 'bench',
        backend: 'wasm',
        tags: r % 10 === 0 ? ['sweep', 'keep'] : ['sweep'],
      });
      ids.push(run.id);
      const offset = 80 + rand() * 40;
      store.appendMetrics(run.id, lossCurve(opts.points, rand, offset, 1_700_000_000_000 + r * 1e6));
      store.appendMetrics(run.id, [
        {
          name: 'test/loss',
          step: opts.points * 10,
          epoch: opts.points / 100,
          time: 1_700_000_000_000 + r * 1e6 + opts.points * 50,
          value: offset + 2 + rand(),
        },
      ]);
      store.updateProgress(run.id, opts.points * 10, opts.points / 100);
      store.setStatus(run.id, statuses[r % statuses.length]!);
    }
    const insertSeconds = (performance.now() - t0) / 1000;
    const totalPoints = opts.runs * (opts.points + 1);

    const listMs = timeMs(() => store.listRuns({}), repeats);
    const listPageMs = timeMs(() => store.listRuns({ sort: { key: 'final.test/loss', dir: 'asc' }, limit: 50 }), repeats);
    const filterQuery = {
      status: ['completed' as const],
      tag: 'sweep',
      params: [{ key: 'model.latentDim', min: 5, max: 20 }],
      sort: { key: 'final.test/loss', dir: 'asc' as const },
    };
    const filterMatches = store.listRuns(filterQuery).total;
    const filterMs = timeMs(() => store.listRuns(filterQuery), repeats);
    const filterPageMs = timeMs(() => store.listRuns({ ...filterQuery, limit: 100 }), repeats);
    const searchPageMs = timeMs(
      () => store.listRuns({ text: 'bench-1', sort: { key: 'params.optimizer.learningRate', dir: 'desc' }, limit: 100 }),
      repeats,
    );
    const compareIds = ids.slice(0, 50);
    const compare50Ms = timeMs(() => {
      store.listRuns({ ids: compareIds, limit: 50 });
      store.paramDiff(compareIds);
      store.metricNames(compareIds);
    }, repeats);
    const seriesIds = ids.slice(0, 10);
    const smoothedSeriesMs = timeMs(
      () => fullSeries(store, seriesIds, 'train/loss', { x: 'step', maxPoints: 500, smoothing: { kind: 'ema', window: 50 } }),
      repeats,
    );
    const seriesPointsReturned = store
      .series(seriesIds, 'train/loss', { x: 'step', maxPoints: 500 })
      .reduce((n, s) => n + s.points.length, 0);
    const seriesMs = timeMs(() => store.series(seriesIds, 'train/loss', { x: 'step', maxPoints: 500 }), repeats);

    let bigSeriesMs: number | null = null;
    if (bigRunPoints > 0) {
      const big = store.createRun({
        name: 'big',
        configText: '{}',
        config: parseRunConfig({}),
        dataset: 'mnist',
        seed: 1,
        appVersion: 'bench',
      });
      const curve = lossCurve(bigRunPoints, rand, 90, 1_800_000_000_000);
      for (let i = 0; i < curve.length; i += 10_000) store.appendMetrics(big.id, curve.slice(i, i + 10_000));
      bigSeriesMs = timeMs(() => store.series([big.id], 'train/loss', { x: 'step', maxPoints: 500 }), Math.min(repeats, 5));
    }

    // Write-behind: 20 runs, points added one at a time as trainers would report them.
    const writerRuns = ids.slice(0, 20);
    const writer = new MetricWriter(store, { flushMs: 100, maxPoints: 2000 });
    const perRun = 5000;
    const tw = performance.now();
    for (let i = 0; i < perRun; i++) {
      for (const id of writerRuns)
        writer.add(id, { name: 'perf/samplesPerSec', step: i, epoch: i / 100, time: 1_900_000_000_000 + i, value: 1000 + i });
    }
    writer.close();
    const writerPointsPerSec = Math.round((writerRuns.length * perRun) / ((performance.now() - tw) / 1000));

    store.close();
    const { statSync } = await import('node:fs');
    const dbBytes = statSync(file).size;
    return {
      runs: opts.runs,
      pointsPerRun: opts.points,
      totalPoints,
      insertSeconds: Math.round(insertSeconds * 1000) / 1000,
      insertPointsPerSec: Math.round(totalPoints / insertSeconds),
      listMs,
      listPageMs,
      filterMs,
      filterMatches,
      filterPageMs,
      searchPageMs,
      compare50Ms,
      smoothedSeriesMs,
      seriesMs,
      seriesPointsReturned,
      bigSeriesMs,
      writerPointsPerSec,
      dbBytes,
      repeats,
    };
  } finally {
    if (store.isOpen) store.close();
    if (!opts.keep) for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  }
}

function argValue(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const ownDir = !argValue(args, '--dir');
  const dir = argValue(args, '--dir') ?? mkdtempSync(path.join(tmpdir(), 'store-bench-'));
  benchStore({
    runs: Number(argValue(args, '--runs') ?? 1000),
    points: Number(argValue(args, '--points') ?? 1000),
    bigRunPoints: Number(argValue(args, '--big') ?? 200_000),
    dir,
  })
    .then((result) => {
      console.log(JSON.stringify(result, null, 2));
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
