// How much faster two cores could take one training step of the reference model, whichever way the step is cut:
// the real step's compute on threads started together (split-probe-worker.ts), with no exchange at all between them,
// so an upper bound for any implementation:
//   one thread:   400 hidden units, 128 rows (the unsharded step);
//   data split:   two threads, each 400 units on 64 rows (what training.dataParallel = 2 computes);
//   tensor split: two threads, each 200 units (half of every layer's width) on all 128 rows (a model-parallel step,
//                 not implemented: it would exchange activations three times a step instead of gradients once).
// ceiling = one thread's step / the step of the twins, which is the slower twin's each step (the twins start every
// step together, as a data-parallel step's shards do): the mean over the steps, what a run's samples/s follow. With
// both cores busy this machine slows either thread now and then (two independent processes each took their 64-row
// step in 7.3 ms at the median but 10.2 at the 90th percentile, against 7.0 and 7.5 alone), and a lockstep waits
// for the slower twin every step; the medians (kept beside the means) hide that: 1.8x where the mean is ~1.5x.
// Repeats interleaved, medians of the repeats.
import { Worker } from 'node:worker_threads';
import { builtEntry } from '../os/built-entry';
import type { SplitProbeJob } from './split-probe-worker';

export interface SplitCeiling {
  /** Mean ms per step (over the later 60 % of the steps) of one thread, and of two threads together (each step the slower one). */
  oneThreadMs: number;
  dataSplitMs: number;
  tensorSplitMs: number;
  dataSplitCeiling: number;
  tensorSplitCeiling: number;
  /** The same at the median step (what this bench reported before 2026-12-07: it hides the slow steps). */
  medians: { oneThreadMs: number; dataSplitMs: number; tensorSplitMs: number; dataSplitCeiling: number };
  repeats: { oneThreadMs: number; dataSplitMs: number; tensorSplitMs: number; medians: [number, number, number] }[];
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

/** Threads of one probe, one per shape, started step by step together; mean and median of the step (each step its slowest thread). */
async function probe(entry: string, shapes: { hidden: number; rows: number }[], steps: number): Promise<{ mean: number; median: number }> {
  const gate = shapes.length > 1 ? new SharedArrayBuffer(4) : null;
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
  const stepMs = perThread[0]!.map((_, s) => Math.max(...perThread.map((ms) => ms[s] ?? 0)));
  return { mean: mean(stepMs), median: median(stepMs) };
}

export async function measureSplitCeiling(steps: number, repeats: number, log: (message: string) => void): Promise<SplitCeiling> {
  const entry = builtEntry('split-probe-worker.js');
  if (!entry) throw new Error('split-probe-worker.js is not built (run `npm run build`)');
  const rows: SplitCeiling['repeats'] = [];
  for (let r = 0; r < repeats; r++) {
    log(`split ceiling: one thread, data split, tensor split, ${steps} steps each (${r + 1}/${repeats})…`);
    const oneThread = await probe(entry, [{ hidden: 400, rows: 128 }], steps);
    const dataSplit = await probe(
      entry,
      [
        { hidden: 400, rows: 64 },
        { hidden: 400, rows: 64 },
      ],
      steps,
    );
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
      dataSplitMs: dataSplit.mean,
      tensorSplitMs: tensorSplit.mean,
      medians: [oneThread.median, dataSplit.median, tensorSplit.median],
    });
  }
  const m = (k: 'oneThreadMs' | 'dataSplitMs' | 'tensorSplitMs') => median(rows.map((x) => x[k]));
  const mm = (i: number) => median(rows.map((x) => x.medians[i]!));
  const [oneThreadMs, dataSplitMs, tensorSplitMs] = [m('oneThreadMs'), m('dataSplitMs'), m('tensorSplitMs')];
  const medians = { oneThreadMs: mm(0), dataSplitMs: mm(1), tensorSplitMs: mm(2), dataSplitCeiling: mm(0) / mm(1) };
  const result = {
    oneThreadMs,
    dataSplitMs,
    tensorSplitMs,
    dataSplitCeiling: oneThreadMs / dataSplitMs,
    tensorSplitCeiling: oneThreadMs / tensorSplitMs,
    medians,
    repeats: rows,
  };
  log(
    `  one thread ${oneThreadMs.toFixed(1)} ms a step; two threads in lockstep, data split ${dataSplitMs.toFixed(1)} ms ` +
      `(ceiling ${result.dataSplitCeiling.toFixed(2)}x; at the median step ${medians.dataSplitCeiling.toFixed(2)}x), ` +
      `tensor split ${tensorSplitMs.toFixed(1)} ms (ceiling ${result.tensorSplitCeiling.toFixed(2)}x)`,
  );
  return result;
}
