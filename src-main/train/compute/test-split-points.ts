// The metric points of one test evaluation (test/loss, recon, kl, active units, -log p(x)) with the
// diagnostics beside them; the same whether the trainer's own thread or its evaluation worker computed it.
import type { MetricPoint } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';
import type { LoadedDataset, Split } from '../../data/types';
import type { EvalResult } from '../../vae/evaluate';
import type { LatentModel } from '../../vae/types';
import { diagnosticPoints } from './eval-diagnostics';

export interface TestPointsInput {
  model: LatentModel;
  config: RunConfig;
  test: Split;
  testSources?: LoadedDataset['testSources'];
  at: { step: number; epoch: number; time: number };
}

export function testPoints(t: EvalResult, input: TestPointsInput): MetricPoint[] {
  const { model, at } = input;
  const points: MetricPoint[] = [
    { name: 'test/loss', ...at, value: t.loss },
    { name: 'test/recon', ...at, value: t.recon },
    { name: 'test/examples', ...at, value: t.n },
  ];
  // a denoising autoencoder: the loss on inputs corrupted as in training, beside test/loss on clean inputs
  if (Number.isFinite(t.lossCorrupted)) points.push({ name: 'test/lossCorrupted', ...at, value: t.lossCorrupted });
  if (model.stochastic) {
    points.push({ name: 'test/kl', ...at, value: t.kl }, { name: 'test/activeUnits', ...at, value: t.activeUnits });
    // the nll, and beside it the -ELBO on the same (first) examples from the same k samples: comparable figures
    if (t.nllExamples > 0)
      points.push(
        { name: 'test/nll', ...at, value: t.nll },
        { name: 'test/nllLoss', ...at, value: t.nllElbo },
        { name: 'test/nllExamples', ...at, value: t.nllExamples },
        { name: 'test/nllK', ...at, value: t.nllK },
      );
  }
  points.push(
    ...diagnosticPoints({
      ...input,
      nll: t.nll,
      nllExamples: t.nllExamples,
      nllElbo: t.nllElbo,
      ...(t.latentMeans ? { latentMeans: t.latentMeans } : {}),
    }),
  );
  return points;
}
