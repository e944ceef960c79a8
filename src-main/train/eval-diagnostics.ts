// The diagnostics reported beside each test evaluation (see README "What the numbers mean"):
//   test/activeUnitsCov  Burda et al.'s active units, Cov_x(E_q[z_u|x]) > 0.01
//   test/inferenceGap    -ELBO minus the importance-sampled -log p(x), both on the same examples
//   test/mcc             mean correlation coefficient between latent means and the true sources (ica-synthetic)
//   test/sigmaAtFloor    fraction of a learned decoder σ sitting at model.sigmaFloor
// Called by the training loop with a few lines; the computations live in src-main/vae/diagnostics.ts.
import type { MetricPoint } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';
import type { LoadedDataset, Split } from '../data/types';
import { activeUnitsCov, elboOnRows, fractionAtSigmaFloor, meanCorrelationCoefficient } from '../vae/diagnostics';
import { encodeMeans } from '../vae/sampling';
import { deriveSeed, SEED_STREAM } from '../vae/seeds';
import type { LatentModel } from '../vae/types';

/** Test examples the latent statistics (active units by covariance, MCC) are computed on. */
export const DIAGNOSTIC_EXAMPLES = 2000;
/** Samples of z per example for the -ELBO of the inference gap (lowers its Monte-Carlo noise). */
const GAP_SAMPLES = 4;

export interface DiagnosticInput {
  model: LatentModel;
  config: RunConfig;
  test: Split;
  testSources?: LoadedDataset['testSources'];
  /** The -log p(x) estimate of this evaluation and the number of (first) test examples it used. */
  nll: number;
  nllExamples: number;
  at: { step: number; epoch: number; time: number };
}

export function diagnosticPoints(input: DiagnosticInput): MetricPoint[] {
  const { model, config, test, at } = input;
  const points: MetricPoint[] = [];
  const n = Math.min(test.n, DIAGNOSTIC_EXAMPLES);
  if (n < 2) return points;
  const D = model.latentDim;
  const means = encodeMeans(model, test.x, n);
  if (model.stochastic) points.push({ name: 'test/activeUnitsCov', ...at, value: activeUnitsCov(means, n, D).count });
  const truth = input.testSources;
  if (truth && truth.values.length >= n * truth.dim)
    points.push({ name: 'test/mcc', ...at, value: meanCorrelationCoefficient(means, D, truth.values, truth.dim, n).mcc });
  if (model.stochastic && input.nllExamples > 0 && Number.isFinite(input.nll)) {
    const elbo = elboOnRows(model, test.x, input.nllExamples, {
      estimator: config.objective.estimator,
      samples: GAP_SAMPLES,
      seed: deriveSeed(config.seed, SEED_STREAM.eval, 4242),
    });
    points.push({ name: 'test/inferenceGap', ...at, value: elbo.loss - input.nll });
  }
  if (config.model.likelihood === 'gaussian-learned')
    points.push({ name: 'test/sigmaAtFloor', ...at, value: fractionAtSigmaFloor(model, Math.log(config.model.sigmaFloor)) });
  return points;
}
