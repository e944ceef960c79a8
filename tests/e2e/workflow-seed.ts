// Five finished runs written with the real RunStore into a fresh data home, shaped after issue 24's half hour of use:
// a learning rate of 0.05 (the value the Runs table used to cut to "0"), latent sizes 2..20 (the brush edge at 20),
// two optimizers (the axis that used to read "name"), evaluation settings that vary together (eval.iwSamples and
// eval.fid, the pair the importance panel used to rank as hyperparameters), long tags, per-step and per-epoch
// metrics, and a sample image per run. Shared by the browser suite of issue 24's UI items.
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig } from '@shared/run-config';
import { gridPng } from '../../src-main/train/common/png';
import { RunStore } from '../../src-main/store/run-store';

export interface SeededRun {
  id: number;
  lr: number;
  latentDim: number;
  optimizer: 'adam' | 'sgd';
  iwSamples: number;
  fid: boolean;
  testLoss: number;
  kl: number;
}

/** The five configurations (lr, latent size, optimizer, evaluation settings) and their final test loss and KL. */
const SHAPES = [
  { lr: 0.05, latentDim: 20, optimizer: 'adam', iwSamples: 500, fid: false, testLoss: 160.5, kl: 2.1 },
  { lr: 0.001, latentDim: 2, optimizer: 'sgd', iwSamples: 100, fid: true, testLoss: 141.25, kl: 6.4 },
  { lr: 0.003, latentDim: 11, optimizer: 'adam', iwSamples: 500, fid: false, testLoss: 118.75, kl: 24.5 },
  { lr: 0.01, latentDim: 5, optimizer: 'sgd', iwSamples: 100, fid: true, testLoss: 126.5, kl: 14.2 },
  { lr: 0.0003, latentDim: 20, optimizer: 'adam', iwSamples: 500, fid: false, testLoss: 122.0, kl: 27.9 },
] as const;

export const TAGS = ['sweep-2x2-learning-rate', 'collapse-on-purpose'];
const EPOCHS = 4;
const STEPS = 200;

function samplePng(shade: number): Buffer {
  const px = new Float32Array(4 * 8 * 8).map((_, j) => ((j % 8) / 8 + shade) % 1);
  return gridPng(px, 4, [8, 8, 1], 2, 2).png;
}

function metricsOf(s: (typeof SHAPES)[number], t0: number): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let step = 1; step <= STEPS; step++) {
    const value = s.testLoss + 150 * Math.exp(-step / 40) + 4 * Math.sin(step * 1.7);
    points.push({ name: 'train/loss', step, epoch: (step * EPOCHS) / STEPS, time: t0 + step * 50, value });
  }
  for (let e = 1; e <= EPOCHS; e++) {
    const step = (e * STEPS) / EPOCHS;
    const at = { step, epoch: e, time: t0 + step * 50 };
    const loss = s.testLoss + 40 / e;
    const kl = s.kl * (1 - Math.exp(-e));
    points.push({ name: 'test/loss', ...at, value: loss });
    points.push({ name: 'test/kl', ...at, value: kl });
    points.push({ name: 'test/recon', ...at, value: loss - kl });
    points.push({ name: 'test/nll', ...at, value: loss - 3 });
    points.push({ name: 'test/activeUnits', ...at, value: Math.min(s.latentDim, Math.round(s.kl / 3)) });
  }
  return points;
}

/** Write the five runs into `dbFile` (a new data home's database) and return them with their ids. */
export function seedWorkflowRuns(dbFile: string): SeededRun[] {
  const store = RunStore.open(dbFile);
  const out: SeededRun[] = [];
  try {
    SHAPES.forEach((s, i) => {
      const input = {
        name: `daily-${i + 1} lr${s.lr} z${s.latentDim}`,
        model: { kind: 'vae' as const, hidden: [64], latentDim: s.latentDim },
        optimizer: { name: s.optimizer, learningRate: s.lr },
        training: { epochs: EPOCHS },
        eval: { iwSamples: s.iwSamples, fid: s.fid },
        seed: i,
      };
      const config = parseRunConfig(input);
      const run = store.createRun({
        name: input.name,
        configText: JSON.stringify(input),
        config,
        dataset: 'mnist',
        seed: i,
        appVersion: 'workflow-test',
        backend: 'wasm',
        tags: i === 0 ? TAGS : ['daily'],
      });
      const t0 = Date.UTC(2026, 0, 1) + i * 3_600_000;
      store.appendMetrics(run.id, metricsOf(s, t0));
      store.addArtifact(run.id, {
        kind: 'prior-samples',
        epoch: EPOCHS,
        step: STEPS,
        mime: 'image/png',
        width: 17,
        height: 17,
        data: samplePng(i / 5),
      });
      store.updateProgress(run.id, STEPS, EPOCHS);
      store.setStatus(run.id, 'completed', { startedAt: t0, finishedAt: t0 + STEPS * 50 });
      out.push({ id: run.id, ...s, testLoss: s.testLoss + 40 / EPOCHS, kl: s.kl * (1 - Math.exp(-EPOCHS)) });
    });
  } finally {
    store.close();
  }
  return out;
}
