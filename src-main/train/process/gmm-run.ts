// model.kind = 'gmm': the Gaussian-mixture baseline. EM on the training split, exact validation and test
// log-likelihood, the FID and the last checkpoint through the steps the VAE Trainer uses (RunSteps).
import { FD_CLASSIFIER_METRIC } from '@shared/metric-labels';
import type { MetricPoint } from '@shared/model-types';
import type { NamedTensor } from '../../checkpoints/checkpoint-dir';
import { fitGmm, type GmmModel } from '../../vae/gmm';
import { deriveSeed, SEED_STREAM } from '../../vae/seeds';
import type { TrainingContext } from '../common/messages';
import { imageArtifact, jsonArtifact } from './snapshots';
import type { PreparedData } from './prepare-data';
import { FID_EXAMPLES, PROGRESS_INTERVAL_MS, type RunSteps, type TrainingResult } from './run-steps';

const mean = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  return v.length ? s / v.length : NaN;
};

/** EM with train/loss per iteration and throttled progress; `diverged` is set on a non-finite log-likelihood. */
async function fit(
  ctx: TrainingContext,
  data: PreparedData,
  steps: RunSteps,
  t0: number,
): Promise<{ gmm: GmmModel; diverged: string | null }> {
  const { config } = ctx;
  const iterations = config.model.emIterations;
  let lastProgress = 0;
  let diverged: string | null = null;
  const gmm = await fitGmm(data.train.x, data.train.n, data.d, {
    components: config.model.components,
    iterations,
    seed: config.seed,
    signal: ctx.signal,
    onIteration: (it, avgLogLik) => {
      const step = it + 1;
      if (!Number.isFinite(avgLogLik) && !diverged) diverged = `EM diverged: the log-likelihood became ${avgLogLik} at iteration ${step}`;
      steps.emitMetrics([{ name: 'train/loss', step, epoch: 1, time: Date.now(), value: -avgLogLik }]);
      const now = Date.now();
      if (now - lastProgress >= PROGRESS_INTERVAL_MS) {
        lastProgress = now;
        const elapsed = (performance.now() - t0) / 1000;
        ctx.emit({
          type: 'progress',
          progress: {
            step,
            totalSteps: iterations,
            epoch: 0,
            totalEpochs: 1,
            samplesPerSec: (data.train.n * step) / Math.max(elapsed, 1e-9),
            etaSeconds: (elapsed / step) * (iterations - step),
            phase: 'train',
          },
        });
      }
    },
  });
  return { gmm, diverged };
}

/** The mixture's samples and component means (images), or samples as JSON. */
function gmmSnapshots(ctx: TrainingContext, data: PreparedData, gmm: GmmModel): void {
  const { config } = ctx;
  const shape = data.dataset.descriptor.shape;
  const at = { shape, epoch: 1, step: config.model.emIterations };
  if (data.dataset.descriptor.kind === 'image' && (shape[2] === 1 || shape[2] === 3)) {
    const g = config.snapshots.gridSize;
    ctx.emit(
      imageArtifact('prior-samples', gmm.sample(g * g, 12345), g * g, g, g, at, {
        description: 'samples from the fitted mixture',
        generative: true,
      }),
    );
    const k = gmm.components;
    const cols = Math.min(k, 10);
    ctx.emit(imageArtifact('reconstructions', gmm.means(), k, Math.ceil(k / cols), cols, at, { description: 'component means' }));
  } else {
    ctx.emit(jsonArtifact('prior-samples', { samples: Array.from(gmm.sample(16, 12345)), d: data.d }, at));
  }
}

/** model.kind = 'gmm': EM on the training split, exact test log-likelihood, samples. */
export async function runGmm(ctx: TrainingContext, data: PreparedData, steps: RunSteps): Promise<TrainingResult> {
  const { config } = ctx;
  const { final } = steps;
  const iterations = config.model.emIterations;
  const t0 = performance.now();
  ctx.emit({ type: 'started', backend: ctx.backend, totalSteps: iterations, totalEpochs: 1 });
  const { gmm, diverged } = await fit(ctx, data, steps, t0);
  if (ctx.signal.aborted) return { status: 'cancelled', final, samplesPerSec: 0 };
  const elapsed = (performance.now() - t0) / 1000;
  const samplesPerSec = (data.train.n * iterations) / Math.max(elapsed, 1e-9);
  if (diverged) return { status: 'diverged', error: diverged, final, samplesPerSec };
  const time = Date.now();
  const points: MetricPoint[] = [];
  if (data.val && data.val.n > 0)
    points.push({ name: 'val/loss', step: iterations, epoch: 1, time, value: -mean(gmm.logLikelihood(data.val.x, data.val.n)) });
  if (data.test.n > 0) {
    const nll = -mean(gmm.logLikelihood(data.test.x, data.test.n));
    points.push(
      { name: 'test/loss', step: iterations, epoch: 1, time, value: nll },
      { name: 'test/nll', step: iterations, epoch: 1, time, value: nll },
    );
  }
  points.push({ name: 'perf/samplesPerSec', step: iterations, epoch: 1, time, value: samplesPerSec });
  // The same sample-quality score as the VAEs' (on draws from the mixture), so the baseline sits beside them.
  const nFid = Math.min(FID_EXAMPLES, data.test.n);
  if (config.eval.fid && data.dataset.descriptor.kind === 'image' && nFid >= 2) {
    try {
      const value = await steps.fid(data, gmm.sample(nFid, deriveSeed(config.seed, SEED_STREAM.eval, 77)), nFid);
      if (value !== null) points.push({ name: FD_CLASSIFIER_METRIC, step: iterations, epoch: 1, time, value });
    } catch (err) {
      if (ctx.signal.aborted) return { status: 'cancelled', final, samplesPerSec };
      steps.log('warn', `test/fdClassifier failed: ${(err as Error).message}`);
    }
  }
  steps.emitMetrics(points);
  gmmSnapshots(ctx, data, gmm);
  const weights: NamedTensor[] = gmm.toNamedTensors();
  steps.writeCheckpoint('last', 'last', { epoch: 1, step: iterations }, weights, null, {});
  steps.log('info', `gmm: ${config.model.components} components, ${iterations} EM iterations in ${elapsed.toFixed(1)} s`);
  return { status: 'completed', final, samplesPerSec };
}
