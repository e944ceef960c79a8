// `npm run bench` / `vae-workbench bench [--json]`: training speed of the reference model (MLP 784-400-20,
// Bernoulli, analytic KL, Adam, batch 128, bundled MNIST) on every available backend, through the real
// service and real trainer processes; the host's event-loop lag while runs train; 1 vs 2 concurrent runs;
// where a wasm step spends its time; the store benchmark; and the time to result of the whole reference experiment. Ratios measured in one run are what to compare.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WorkbenchService } from '../api/service';
import type { RunConfigInput } from '@shared/run-config';
import { probeTfjsNode } from '../train/compute/backend';
import { benchStore, type StoreBenchResult } from './store-bench';
import { benchEvalThroughput, type EvalThroughput } from './eval-throughput';
import { measureSplitCeiling, type SplitCeiling } from './split-ceiling';
import { benchGemm, enableRelaxedSimdLikeTrainers, type GemmBench } from './gemm-bench';
import { PytorchSide, type PytorchBench } from './pytorch-bench';
import { profileEngineStep, type EngineStepProfile } from './step-profile';
import { measureTimeToResult, presetExperiment, pytorchLikeExperiment, referenceExperiment, type TimeToResult } from './time-to-result';

export interface BackendBench {
  samplesPerSec: number;
  /** Every repeat's samples/s (the median is reported above). */
  repeats: number[];
  /** Peak resident memory of the trainer process, MB (largest over repeats). */
  peakRssMB: number | null;
  steps: number;
}

export interface BenchResult {
  machine: { cpus: number; model: string; loadavg: number[]; node: string; platform: string };
  reference: RunConfigInput;
  backends: Record<string, BackendBench>;
  /** Event-loop delay of the host process while one run trains (ms). */
  hostEventLoopLagMs: { p50: number; p99: number; max: number };
  concurrency: { one: number; two: number; twoPerRun: number[]; ratio: number; backend: string };
  /** One run with its batches in 1 shard, in 2 shards with the worker on the idle core, and in 2 shards on one core. */
  dataParallel: DataParallelBench | null;
  /** Where one wasm training step spends its time (in-process profile of the engine's step: step-profile.ts). */
  stepSplitMs: { forwardBackward: number; optimizer: number; data: number; total: number } | null;
  stepProfile: EngineStepProfile | null;
  store: StoreBenchResult | null;
  /** The reference experiment end to end (defaults; then evaluated as the PyTorch script does), one run each. */
  timeToResult: TimeToResult[];
  /** IW NLL decoded samples/s beside training samples/s, interleaved in one process (robust to background load). */
  evalThroughput: EvalThroughput | null;
  /** The matrix products: stock route vs our wasm GEMM vs the GEMM module alone, GFLOP/s (gemm-bench.ts). */
  gemm: GemmBench | null;
  /** The same model in PyTorch, right after the workbench's figures (pytorch-bench.ts); skipped where torch is missing. */
  pytorch: PytorchBench | null;
}

export interface DataParallelBench {
  backend: string;
  /** Median samples/s in the training steps (repeats interleaved: 1 shard, 2 shards on 2 cores, 2 shards on 1 core). */
  oneShard: number;
  twoShards: number;
  twoShardsOneCore: number;
  repeats: { oneShard: number; twoShards: number; twoShardsOneCore: number }[];
  /** twoShards / oneShard (the target is 1.6 on 2 cores), twoShardsOneCore / oneShard (the cost of cutting without a worker). */
  speedup: number;
  oneCoreRatio: number;
  /** What two cores could give at most, cutting the step by rows or by hidden units (wasm only; split-ceiling.ts). */
  splitCeiling: SplitCeiling | null;
}

export const REFERENCE_CONFIG: RunConfigInput = {
  name: 'bench reference 784-400-20',
  seed: 1,
  data: { dataset: 'mnist', binarize: 'none', testLimit: 256 },
  model: { kind: 'vae', arch: 'mlp', hidden: [400], activation: 'relu', latentDim: 20, likelihood: 'bernoulli' },
  objective: { estimator: 'analytic', mcSamples: 1, beta: 1 },
  optimizer: { name: 'adam', learningRate: 0.001 },
  training: { batchSize: 128, epochs: 1000 },
  eval: { iwSamples: 2, everyEpochs: 1000, fid: false },
  snapshots: { everyEpochs: 1000 },
  checkpoints: { everyEpochs: 0, keepLast: 1 },
};

const LAG_RESOLUTION_MS = 5;
/** Steps per thread of a split-ceiling probe (the first 40 % are left out: split-ceiling.ts). */
const SPLIT_PROBE_STEPS = 250;

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Train `parallel` runs of the reference model at once on `backend`; samples/s of each and peak RSS. */
async function trainOnce(
  service: WorkbenchService,
  backend: string,
  steps: number,
  parallel: number,
  dataParallel: 'auto' | number = 1,
): Promise<{ samplesPerSec: number[]; peakRssMB: number | null }> {
  const previous = process.env.VAE_WORKBENCH_BACKEND;
  process.env.VAE_WORKBENCH_BACKEND = backend; // inherited by the trainer processes forked below
  try {
    const config = { ...REFERENCE_CONFIG, training: { ...REFERENCE_CONFIG.training, maxSteps: steps, dataParallel } };
    const ids: number[] = [];
    for (let i = 0; i < parallel; i++) ids.push((await service.call('runs.start', { config })).runId);
    const runs = await Promise.all(ids.map((id) => service.waitForRun(id)));
    for (const run of runs)
      if (run.status !== 'completed') throw new Error(`bench run on ${backend} ended ${run.status}: ${run.error ?? ''}`);
    const rss = runs.map((r) => r.final['perf/peakRssMB']).filter((v): v is number => typeof v === 'number');
    return {
      samplesPerSec: runs.map((r) => r.final['perf/samplesPerSec'] ?? 0),
      peakRssMB: rss.length ? Math.max(...rss) : null,
    };
  } finally {
    if (previous === undefined) delete process.env.VAE_WORKBENCH_BACKEND;
    else process.env.VAE_WORKBENCH_BACKEND = previous;
  }
}

/** The whole-experiment runs: the reference with the defaults and (unless quick) evaluated as the PyTorch script does. */
async function benchTimeToResult(
  service: WorkbenchService,
  quick: boolean,
  log: (message: string) => void,
  preset?: string,
  pytorch?: PytorchSide,
): Promise<TimeToResult[]> {
  const variants: [string, RunConfigInput][] = preset ? [[preset, presetExperiment(preset)]] : [['defaults', referenceExperiment()]];
  if (!quick && !preset) variants.push(['pytorch-like-eval', pytorchLikeExperiment()]);
  const out: TimeToResult[] = [];
  for (const [variant, config] of variants) {
    log(
      preset
        ? `time to result: the ${preset} preset as shipped (whole run)…`
        : `time to result: the reference experiment, ${variant} (10 epochs, whole run)…`,
    );
    const r = await measureTimeToResult(service, config, variant);
    if (r.status !== 'completed') throw new Error(`the time-to-result run (${variant}) ended ${r.status}`);
    const p = r.phases;
    log(
      `  ${r.wallSeconds.toFixed(1)} s wall = ${r.ratioToTraining.toFixed(2)}x training (${p.train.toFixed(1)} s); eval ${p.eval.toFixed(1)} s, classifier FD ${p.fid.toFixed(1)} s, ` +
        `snapshots ${p.snapshots.toFixed(1)} s, checkpoints ${p.checkpoints.toFixed(1)} s, startup ${p.startup.toFixed(1)} s, data ${p.data.toFixed(1)} s, other ${p.other.toFixed(1)} s; ` +
        `IW NLL ${Math.round(r.nllDecodedPerSec ?? 0)} decoded/s beside ${Math.round(r.trainSamplesPerSec)} training samples/s`,
    );
    out.push(r);
    if (variant === 'pytorch-like-eval') await pytorch?.afterWorkbenchTimeToResult(r.wallSeconds, r.final);
  }
  return out;
}

// eslint-disable-next-line max-lines-per-function -- the benchmark script: its steps in the order the report prints them
export async function runBench(
  opts: {
    steps?: number;
    quick?: boolean;
    onlyTimeToResult?: boolean;
    onlyDataParallel?: boolean;
    /** Time to result of this preset instead of the reference experiment (with onlyTimeToResult). */
    preset?: string;
    log?: (message: string) => void;
  } = {},
): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  enableRelaxedSimdLikeTrainers();
  const quick = !!opts.quick;
  const steps = opts.steps ?? (quick ? 60 : 300);
  const repeats = quick ? 1 : 3;
  const home = mkdtempSync(path.join(os.tmpdir(), 'vae-bench-'));
  const service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 2 });
  try {
    const machine = () => ({
      cpus: os.cpus().length,
      model: os.cpus()[0]?.model ?? '?',
      loadavg: os.loadavg(),
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
    });
    // a partial bench (--data-parallel, --time-to-result): the parts it ran, the others empty
    const partial = (part: Partial<BenchResult>): BenchResult => ({
      machine: machine(),
      reference: REFERENCE_CONFIG,
      backends: {},
      hostEventLoopLagMs: { p50: 0, p99: 0, max: 0 },
      concurrency: { one: 0, two: 0, twoPerRun: [], ratio: 0, backend: '' },
      dataParallel: null,
      stepSplitMs: null,
      stepProfile: null,
      store: null,
      timeToResult: [],
      evalThroughput: null,
      gemm: null,
      pytorch: null,
      ...part,
    });
    if (opts.onlyDataParallel) return partial({ dataParallel: await benchDataParallel(service, home, 'wasm', steps, repeats, log) });
    const pytorch = new PytorchSide(home, home, log);
    const timeToResult = await benchTimeToResult(service, quick, log, opts.preset, pytorch);
    log('evaluation beside training, interleaved in this process…');
    const evalThroughput = await benchEvalThroughput({ rounds: quick ? 3 : 5 });
    log(
      `  IW NLL ${Math.round(evalThroughput.nllDecodedPerSec)} decoded/s (stock kernels ${Math.round(evalThroughput.nllDecodedPerSecStock)}) beside ` +
        `${Math.round(evalThroughput.trainSamplesPerSec)} training samples/s: ${evalThroughput.nllWorkRatio.toFixed(2)}x training's matrix work per second`,
    );
    if (opts.onlyTimeToResult) return partial({ timeToResult, evalThroughput, pytorch: pytorch.result() });
    const gemm = await runGemmBench(quick, log);
    const backends: string[] = ['wasm', 'cpu'];
    if (probeTfjsNode().available) backends.unshift('tensorflow');
    const results: Record<string, BackendBench> = {};
    let hostLag = { p50: 0, p99: 0, max: 0 };
    for (const backend of backends) {
      const backendSteps = backend === 'cpu' ? Math.max(5, Math.round(steps / 30)) : steps;
      const n = backend === 'cpu' ? 1 : repeats;
      const sps: number[] = [];
      let peak: number | null = null;
      for (let r = 0; r < n; r++) {
        log(`training ${backendSteps} steps on ${backend} (${r + 1}/${n})…`);
        const histogram = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
        histogram.enable();
        const once = await trainOnce(service, backend, backendSteps, 1);
        histogram.disable();
        if (backend === 'wasm' && r === 0)
          hostLag = {
            // The histogram records the whole timer interval; the lag is what exceeds it.
            p50: Math.max(0, histogram.percentile(50) / 1e6 - LAG_RESOLUTION_MS),
            p99: Math.max(0, histogram.percentile(99) / 1e6 - LAG_RESOLUTION_MS),
            max: Math.max(0, histogram.max / 1e6 - LAG_RESOLUTION_MS),
          };
        sps.push(once.samplesPerSec[0]!);
        if (backend === 'wasm') {
          // the workbench's default on a machine with a second core: two shards (dataParallel 'auto'), measured beside
          const two = os.cpus().length >= 2 ? (await trainOnce(service, backend, backendSteps, 1, 2)).samplesPerSec[0]! : null;
          await pytorch.afterWorkbenchTraining(once.samplesPerSec[0]!, backendSteps, two);
        }
        if (once.peakRssMB !== null) peak = Math.max(peak ?? 0, once.peakRssMB);
      }
      results[backend] = { samplesPerSec: median(sps), repeats: sps, peakRssMB: peak, steps: backendSteps };
      log(`  ${backend}: ${Math.round(median(sps))} samples/s`);
      const vs = backend === 'wasm' ? pytorch.result().throughput : null;
      if (vs)
        log(
          `  against PyTorch's best (${vs.bestThreads} thread${vs.bestThreads > 1 ? 's' : ''}, ${Math.round(vs.pytorchBest)} samples/s): ` +
            `one shard ${vs.ratio.toFixed(2)}x` +
            (vs.ratioTwoShards !== null
              ? `, two shards on two cores ${vs.ratioTwoShards.toFixed(2)}x (${Math.round(vs.workbenchTwoShards!)} samples/s)`
              : ''),
        );
    }

    const concBackend = backends[0]!;
    log(`two concurrent runs on ${concBackend}…`);
    const two = await trainOnce(service, concBackend, steps, 2, 'auto');
    const dataParallel = await benchDataParallel(service, home, concBackend, steps, repeats, log);
    const one = results[concBackend]!.samplesPerSec;
    const twoTotal = two.samplesPerSec.reduce((a, b) => a + b, 0);

    let stepSplitMs: BenchResult['stepSplitMs'] = null;
    let stepProfile: EngineStepProfile | null = null;
    try {
      log("profiling one wasm training step (the engine's own step and optimizer)…");
      stepProfile = await profileEngineStep(quick ? 10 : 30);
      const dataMs = await timeBatchPreparation();
      const p = stepProfile;
      stepSplitMs = { forwardBackward: p.gradientsMs, optimizer: p.updateMs, data: dataMs, total: p.stepMs + dataMs };
      log(
        `  a step of ${p.rows} rows ${stepSplitMs.total.toFixed(1)} ms: forward + backward ${p.gradientsMs.toFixed(1)}, ` +
          `Adam ${p.updateMs.toFixed(2)}, batch ${dataMs.toFixed(2)}; kernels timed: matrix products ${p.matmulMs.toFixed(1)} ms, ` +
          `other kernels ${p.otherKernelsMs.toFixed(1)}, outside kernels ${p.outsideKernelsMs.toFixed(1)} (${Math.round(p.kernelCalls)} kernel calls)`,
      );
    } catch (err) {
      log(`step profile skipped: ${(err as Error).message}`);
    }

    log(quick ? 'store benchmark (200 runs x 200 points)…' : 'store benchmark (1,000 runs x 1,000 points)…');
    const storeDir = mkdtempSync(path.join(os.tmpdir(), 'vae-store-bench-'));
    let store: StoreBenchResult | null = null;
    try {
      store = await benchStore({ runs: quick ? 200 : 1000, points: quick ? 200 : 1000, dir: storeDir });
    } finally {
      rmSync(storeDir, { recursive: true, force: true });
    }

    return {
      machine: machine(),
      reference: REFERENCE_CONFIG,
      backends: results,
      hostEventLoopLagMs: hostLag,
      concurrency: { one, two: twoTotal, twoPerRun: two.samplesPerSec, ratio: one > 0 ? twoTotal / one : 0, backend: concBackend },
      dataParallel,
      stepSplitMs,
      stepProfile,
      store,
      timeToResult,
      evalThroughput,
      gemm,
      pytorch: pytorch.result(),
    };
  } finally {
    await service.close();
    rmSync(home, { recursive: true, force: true });
  }
}

/**
 * One run of the reference model, its batches in 1 shard, then in 2 shards on the 2-core service (the worker on the
 * idle core), then in 2 shards on a 1-core service (no worker: the cost of cutting alone); repeats interleaved.
 */
async function benchDataParallel(
  service: WorkbenchService,
  home: string,
  backend: string,
  steps: number,
  repeats: number,
  log: (message: string) => void,
): Promise<DataParallelBench> {
  const single = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
  const rows: DataParallelBench['repeats'] = [];
  try {
    for (let r = 0; r < repeats; r++) {
      log(`data-parallel: ${steps} steps in 1 shard, 2 shards on 2 cores, 2 shards on 1 core (${r + 1}/${repeats})…`);
      const oneShard = (await trainOnce(service, backend, steps, 1, 1)).samplesPerSec[0]!;
      const twoShards = (await trainOnce(service, backend, steps, 1, 2)).samplesPerSec[0]!;
      const twoShardsOneCore = (await trainOnce(single, backend, steps, 1, 2)).samplesPerSec[0]!;
      rows.push({ oneShard, twoShards, twoShardsOneCore });
    }
  } finally {
    await single.close();
  }
  const m = (k: keyof DataParallelBench['repeats'][number]) => median(rows.map((x) => x[k]));
  const [oneShard, twoShards, twoShardsOneCore] = [m('oneShard'), m('twoShards'), m('twoShardsOneCore')];
  log(
    `  1 shard ${Math.round(oneShard)}, 2 shards on 2 cores ${Math.round(twoShards)} (${(twoShards / oneShard).toFixed(2)}x), ` +
      `2 shards on 1 core ${Math.round(twoShardsOneCore)} samples/s (${(twoShardsOneCore / oneShard).toFixed(2)}x)`,
  );
  const splitCeiling = backend === 'wasm' ? await measureSplitCeiling(SPLIT_PROBE_STEPS, repeats, log) : null;
  return {
    backend,
    oneShard,
    twoShards,
    twoShardsOneCore,
    splitCeiling,
    repeats: rows,
    speedup: oneShard > 0 ? twoShards / oneShard : 0,
    oneCoreRatio: oneShard > 0 ? twoShardsOneCore / oneShard : 0,
  };
}

/** The GEMM figures (in this process, on wasm), logged one line per reference product. */
async function runGemmBench(quick: boolean, log: (message: string) => void): Promise<GemmBench | null> {
  log('matrix products: the stock route vs our wasm GEMM vs the GEMM alone, interleaved (CPU time)…');
  try {
    const g = await benchGemm({ rounds: quick ? 3 : 7 });
    log(`  variant ${g.variant ?? 'none'}, load ${g.loadavg.map((x) => x.toFixed(1)).join(' ')}`);
    log(
      `  core clock ${g.peak.clockGHz.toFixed(2)} GHz: wasm SIMD limit ${g.peak.wasmLimitGflops.toFixed(0)} GFLOP/s (16 flops a cycle; ` +
        `mul/add chains alone reach ${g.peak.simdGflops.toFixed(1)}), native AVX-512 limit ${g.peak.nativeLimitGflops.toFixed(0)}`,
    );
    log(
      `  training steps (reference model, CPU time): ours ${Math.round(g.step.ownSamplesPerSec)}, stock route ${Math.round(g.step.stockSamplesPerSec)} samples/s (${g.step.ratio.toFixed(2)}x)`,
    );
    for (const s of g.shapes)
      log(
        `  ${s.name}: stock ${s.stockGflops.toFixed(1)}, ours ${s.ownGflops.toFixed(1)} (${(s.ownGflops / s.stockGflops).toFixed(2)}x), ` +
          `GEMM alone ${s.kernelGflops.toFixed(1)} GFLOP/s`,
      );
    return g;
  } catch (err) {
    log(`GEMM bench skipped: ${(err as Error).message}`);
    return null;
  }
}

/** Time to prepare one batch as the training loop does (gather 128 rows of the dataset tensor). */
async function timeBatchPreparation(): Promise<number> {
  // the trainers' own gather (gatherBatch: rows copied in JS into one tensor's buffer), and the upload the step reads
  const { gatherBatch } = await import('../train/compute/shard-step');
  const data = new Float32Array(8000 * 784).map((_, i) => (i % 255) / 255);
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const idx = Array.from({ length: 128 }, (_, j) => (i * 131 + j * 61) % 8000);
    const t0 = performance.now();
    const batch = gatherBatch(data, 784, idx);
    batch.dataSync();
    times.push(performance.now() - t0);
    batch.dispose();
  }
  return median(times);
}
