// How much faster two cores could take one training step of the reference model, whichever way the step is cut:
// the real step's compute on probe threads (split-probe-worker.ts), with no exchange at all between them, so an
// upper bound for any implementation. Measured one after the other, each the mean step over the later steps:
//   one thread:   400 hidden units, 128 rows (the unsharded step); half alone: the same on 64 rows, one thread;
//   free split:   two threads on 64 rows each at once, each at its own pace (both cores busy, no lockstep);
//   data split:   the same two started together every step, as a data-parallel step's shards are (each step then
//                 lasts as long as the slower twin's): what training.dataParallel = 2 could reach at best;
//   tensor split: two threads in lockstep, each 200 units (half of every layer's width) on all 128 rows (a
//                 model-parallel step, not implemented: it would exchange activations three times a step).
// ceiling = one thread's step / the split's. Three ceilings apart say where a split loses: the work itself (a half
// step is more than half a step), both cores busy at once (this machine slows either thread now and then: two
// independent processes took their 64-row step in 7.3 ms at the median but 10.2 at the 90th percentile, against
// 7.0 and 7.5 alone), and the lockstep (the slower twin every step). The median step, kept beside the means for
// the lockstep splits, hides the slow steps: 1.7-1.8x where the mean, what a run's samples/s follow, is ~1.5x.
// Repeats interleaved, medians of the repeats.
import { Worker } from 'node:worker_threads';
import { builtEntry } from '../os/built-entry';
import type { SplitProbeJob } from './split-probe-worker';

export interface SplitCeiling {
  /** Mean ms per step (over the later 60 % of the steps) of one thread on the whole step, and on half of it (64 rows) alone. */
  oneThreadMs: number;
  halfAloneMs: number;
  /** Two threads on 64 rows each at once, each at its own pace: the slower thread's mean step (both cores busy, no lockstep). */
  freeSplitMs: number;
  /** Two threads in lockstep (each step the slower one's): the data split (64 rows each) and the tensor split (200 units each). */
  dataSplitMs: number;
  tensorSplitMs: number;
  /** oneThreadMs over each: the work's own split, the split with both cores busy, the lockstep splits. */
  workCeiling: number;
  freeSplitCeiling: number;
  dataSplitCeiling: number;
  tensorSplitCeiling: number;
  /** The lockstep figures at the median step (what this bench reported before 2026-12-07: it hides the slow steps). */
  medians: { oneThreadMs: number; dataSplitMs: number; tensorSplitMs: number; dataSplitCeiling: number };
  repeats: {
    oneThreadMs: number;
    halfAloneMs: number;
    freeSplitMs: number;
    dataSplitMs: number;
    tensorSplitMs: number;
    medians: [number, number, number];
  }[];
}

/**
 * The first 40 % of every thread's steps are left out: each probe thread is a fresh isolate that compiles tfjs's
 * wasm module on V8's baseline tier and moves it to the optimising one in the background over its first second or
 * so. Measured 2026-12-07 with 250 steps: the 64-row twins' slower one took 10.3-10.5 ms a step over steps 10-70
 * (what this bench once timed) and 8.6-8.9 ms over steps 150-250, one thread on 128 rows 15.5-15.7 ms either way:
 * a data-split ceiling of 1.8x read as 1.5x.
 */
const WARMUP_SHARE = 0.4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Threads of one probe, one per shape, started step by step together (unless `free`); mean and median of the step
 * (each step its slowest thread; free: the slower thread's mean and median, each thread at its own pace).
 */
async function probe(
  entry: string,
  shapes: { hidden: number; rows: number }[],
  steps: number,
  free = false,
): Promise<{ mean: number; median: number }> {
  const gate = shapes.length > 1 && !free ? new SharedArrayBuffer(4) : null;
  const perThread = await Promise.all(
    shapes.map(
      (shape) =>
        new Promise<number[]>((resolve, reject) => {
          const job: SplitProbeJob = { ...shape, steps, gate, threads: shapes.length };
          const worker = new Worker(entry, { workerData: job });
          worker.once('message', (r: { ok: boolean; ms?: number[]; error?: string }) => {
            void worker.terminate();
            if (r.ok) resolve(r.ms!.slice(Math.min(Math.floor(WARMUP_SHARE * r.ms!.length), r.ms!.length - 1)));
            else reject(new Error(`split probe: ${r.error}`));
          });
          worker.once('error', reject);
        }),
    ),
  );
  if (free) return { mean: Math.max(...perThread.map(mean)), median: Math.max(...perThread.map(median)) };
  const stepMs = perThread[0]!.map((_, s) => Math.max(...perThread.map((ms) => ms[s] ?? 0)));
  return { mean: mean(stepMs), median: median(stepMs) };
}

export async function measureSplitCeiling(steps: number, repeats: number, log: (message: string) => void): Promise<SplitCeiling> {
  const entry = builtEntry('split-probe-worker.js');
  if (!entry) throw new Error('split-probe-worker.js is not built (run `npm run build`)');
  const rows: SplitCeiling['repeats'] = [];
  const half = { hidden: 400, rows: 64 };
  for (let r = 0; r < repeats; r++) {
    log(
      `split ceiling: one thread, half a step alone, data split (free, lockstep), tensor split, ${steps} steps each (${r + 1}/${repeats})…`,
    );
    const oneThread = await probe(entry, [{ hidden: 400, rows: 128 }], steps);
    const halfAlone = await probe(entry, [half], steps);
    const freeSplit = await probe(entry, [half, half], steps, true);
    const dataSplit = await probe(entry, [half, half], steps);
    const tensorSplit = await probe(
      entry,
      [
        { hidden: 200, rows: 128 },
        { hidden: 200, rows: 128 },
      ],
      steps,
    );
    rows.push({
      oneThreadMs: oneThread.mean,
      halfAloneMs: halfAlone.mean,
      freeSplitMs: freeSplit.mean,
      dataSplitMs: dataSplit.mean,
      tensorSplitMs: tensorSplit.mean,
      medians: [oneThread.median, dataSplit.median, tensorSplit.median],
    });
  }
  const m = (k: Exclude<keyof SplitCeiling['repeats'][number], 'medians'>) => median(rows.map((x) => x[k]));
  const mm = (i: number) => median(rows.map((x) => x.medians[i]!));
  const oneThreadMs = m('oneThreadMs');
  const medians = { oneThreadMs: mm(0), dataSplitMs: mm(1), tensorSplitMs: mm(2), dataSplitCeiling: mm(0) / mm(1) };
  const result: SplitCeiling = {
    oneThreadMs,
    halfAloneMs: m('halfAloneMs'),
    freeSplitMs: m('freeSplitMs'),
    dataSplitMs: m('dataSplitMs'),
    tensorSplitMs: m('tensorSplitMs'),
    workCeiling: oneThreadMs / m('halfAloneMs'),
    freeSplitCeiling: oneThreadMs / m('freeSplitMs'),
    dataSplitCeiling: oneThreadMs / m('dataSplitMs'),
    tensorSplitCeiling: oneThreadMs / m('tensorSplitMs'),
    medians,
    repeats: rows,
  };
  log(
    `  one thread ${oneThreadMs.toFixed(1)} ms a step, half of it alone ${result.halfAloneMs.toFixed(1)} ms (${result.workCeiling.toFixed(2)}x); ` +
      `two threads at once, data split ${result.freeSplitMs.toFixed(1)} ms each at their own pace (${result.freeSplitCeiling.toFixed(2)}x), ` +
      `${result.dataSplitMs.toFixed(1)} ms in lockstep (ceiling ${result.dataSplitCeiling.toFixed(2)}x; ${medians.dataSplitCeiling.toFixed(2)}x at the median step); ` +
      `tensor split ${result.tensorSplitMs.toFixed(1)} ms (ceiling ${result.tensorSplitCeiling.toFixed(2)}x)`,
  );
  return result;
}
