// Time to result: one whole experiment through the real service and trainer process, from the
// runs.start call to its final metrics in the store, split into the trainer's phases (perf/time/*),
// with the evaluation's throughput beside the training's (measured in the same run) and how well the
// progress bar's ETA predicted the real time left.
import type { WorkbenchService } from '../api/service';
import type { RunConfigInput } from '@shared/run-config';
import { PRESETS } from '@shared/presets';

/** Seconds per phase of one run, as the trainer measured them (startup is process start + tfjs init). */
export interface PhaseSeconds {
  startup: number;
  data: number;
  train: number;
  eval: number;
  fid: number;
  snapshots: number;
  checkpoints: number;
  /** The rest of the wall time: forking the trainer, IPC, the store's writes after the trainer's last message. */
  other: number;
}

export interface TimeToResult {
  /** Which configuration: the reference experiment with the defaults, or evaluated as the PyTorch script does. */
  variant: string;
  status: string;
  /** Wall seconds from the runs.start call to the run's final metrics in the store. */
  wallSeconds: number;
  phases: PhaseSeconds;
  /** wallSeconds / phases.train: what the user waits for, per second of training. */
  ratioToTraining: number;
  /** Training samples per second (in the steps) and wall seconds of the whole training phase. */
  trainSamplesPerSec: number;
  /** Decoder passes per second of the final importance-weighted -log p(x), in the same run. */
  nllDecodedPerSec: number | null;
  /** nllDecodedPerSec / trainSamplesPerSec (a training sample costs ~6 decoder passes of work: encoder + decoder, forward + backward). */
  nllPerTrainSample: number | null;
  /** The same ratio in matrix-multiply work: decoder MACs x decoded/s over training MACs x samples/s (1 = as fast as training). */
  nllWorkRatio: number | null;
  /** ETA error |eta - real remaining| / real remaining over progress events from 10 % of the wall time on, until the last 2 s. */
  eta: {
    maxRelError: number;
    p90RelError: number;
    samples: number;
    trace: { at: number; eta: number; real: number }[];
    /** The three judged points with the largest errors (where in the run the ETA was worst). */
    worst: { at: number; eta: number; real: number }[];
  } | null;
  final: Record<string, number>;
}

/** The reference experiment: the pytorch-examples preset (784-400-20, Bernoulli, analytic KL, Adam 1e-3, batch 128, 10 epochs). */
export function referenceExperiment(): RunConfigInput {
  const preset = PRESETS.find((p) => p.id === 'pytorch-examples');
  if (!preset) throw new Error('the pytorch-examples preset is missing');
  return { ...(preset.config as RunConfigInput), name: 'bench time to result' };
}

/** A preset as shipped (e.g. keras-classic, 300 epochs: the progress bar's ETA over a long run); its own config, never the larger dataset it may prefer (Preset.prefers). */
export function presetExperiment(id: string): RunConfigInput {
  const preset = PRESETS.find((p) => p.id === id);
  if (!preset) throw new Error(`no preset "${id}" (see vae-workbench presets)`);
  return { ...(preset.config as RunConfigInput), name: `bench time to result (${id})` };
}

/** Evaluated as a plain PyTorch script does: test ELBO every epoch, IW NLL k = 200 on all test digits at the end, no FID. */
export function pytorchLikeExperiment(): RunConfigInput {
  const ref = referenceExperiment();
  return { ...ref, name: 'bench time to result (pytorch-like eval)', eval: { iwSamples: 200, nllExamples: 0, fid: false } };
}

/** Multiply-accumulates of one decoder pass and of one training sample (forward + backward of encoder and decoder) of an MLP VAE. */
function macs(d: number, hidden: number[], latent: number): { decoder: number; train: number } {
  const enc = [d, ...hidden];
  let encoder = 0;
  for (let i = 1; i < enc.length; i++) encoder += enc[i - 1]! * enc[i]!;
  encoder += 2 * enc[enc.length - 1]! * latent;
  const dec = [latent, ...[...hidden].reverse(), d];
  let decoder = 0;
  for (let i = 1; i < dec.length; i++) decoder += dec[i - 1]! * dec[i]!;
  return { decoder, train: 3 * (encoder + decoder) };
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

export async function measureTimeToResult(service: WorkbenchService, config: RunConfigInput, variant: string): Promise<TimeToResult> {
  const etas: { t: number; eta: number }[] = [];
  let runId = -1;
  const off = service.onEvent((e) => {
    if (e.event === 'run.progress' && e.payload.runId === runId && e.payload.etaSeconds !== null)
      etas.push({ t: performance.now(), eta: e.payload.etaSeconds });
  });
  const t0 = performance.now();
  try {
    runId = (await service.call('runs.start', { config })).runId;
    const run = await service.waitForRun(runId);
    const t1 = performance.now();
    const wall = (t1 - t0) / 1000;
    const f = run.final;
    const get = (name: string) => f[`perf/time/${name}`] ?? 0;
    const known = {
      startup: get('startup'),
      data: get('data'),
      train: get('train'),
      eval: get('eval'),
      fid: get('fdClassifier'),
      snapshots: get('snapshots'),
      checkpoints: get('checkpoints'),
    };
    const phases: PhaseSeconds = { ...known, other: Math.max(0, wall - Object.values(known).reduce((a, b) => a + b, 0)) };
    const sps = f['perf/samplesPerSec'] ?? 0;
    const nll = f['perf/evalNllDecodedPerSec'] ?? null;
    const m = macs(784, [400], 20);
    const judged = etas.filter((e) => e.t - t0 >= 0.1 * (t1 - t0) && t1 - e.t > 2000);
    const errors = judged.map((e) => Math.abs(e.eta - (t1 - e.t) / 1000) / ((t1 - e.t) / 1000));
    // About 20 points of the ETA against the real time left (at = fraction of the wall time).
    const every = Math.max(1, Math.floor(etas.length / 20));
    const point = (e: { t: number; eta: number }) => ({ at: (e.t - t0) / (t1 - t0), eta: e.eta, real: (t1 - e.t) / 1000 });
    const trace = etas.filter((_, i) => i % every === 0).map(point);
    const worst = judged
      .map((e, i) => ({ e, err: errors[i]! }))
      .sort((a, b) => b.err - a.err)
      .slice(0, 3)
      .map(({ e }) => point(e));
    return {
      variant,
      status: run.status,
      wallSeconds: wall,
      phases,
      ratioToTraining: known.train > 0 ? wall / known.train : 0,
      trainSamplesPerSec: sps,
      nllDecodedPerSec: nll,
      nllPerTrainSample: nll !== null && sps > 0 ? nll / sps : null,
      nllWorkRatio: nll !== null && sps > 0 ? (nll * m.decoder) / (sps * m.train) : null,
      eta: errors.length
        ? { maxRelError: Math.max(...errors), p90RelError: quantile(errors, 0.9), samples: errors.length, trace, worst }
        : null,
      final: Object.fromEntries(Object.entries(f).filter(([k]) => k.startsWith('test/'))),
    };
  } finally {
    off();
  }
}
