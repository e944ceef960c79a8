// The diagnostics reported beside each test evaluation (see README "What the numbers mean"):
//   test/activeUnitsCov  Burda et al.'s active units, Cov_x(E_q[z_u|x]) > 0.01
//   test/inferenceGap    -ELBO minus the importance-sampled -log p(x), both from the same k importance samples
//   test/mcc             mean correlation coefficient between latent means and the true sources (ica-synthetic)
//   test/sigmaAtFloor    fraction of a learned decoder σ sitting at model.sigmaFloor
// Called by the training loop with a few lines; the computations live in src-main/vae/diagnostics.ts.
import type { MetricPoint } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';
import type { LoadedDataset, Split } from '../../data/types';
import { activeUnitsCov, fractionAtSigmaFloor, meanCorrelationCoefficient } from '../../vae/diagnostics';
import { encodeMeans } from '../../vae/sampling';
import type { LatentModel } from '../../vae/types';

/** Test examples the latent statistics (active units by covariance, MCC) are computed on. */
export const DIAGNOSTIC_EXAMPLES = 2000;

export interface DiagnosticInput {
  model: LatentModel;
  config: RunConfig;
  test: Split;
  testSources?: LoadedDataset['testSources'];
  /** The -log p(x) estimate of this evaluation, the number of (first) test examples it used, and the -ELBO of its k samples. */
  nll: number;
  nllExamples: number;
  nllElbo: number;
  /** The encoder means of the first test examples, when the evaluation kept them (else they are computed here). */
  latentMeans?: Float32Array;
  at: { step: number; epoch: number; time: number };
}

export function diagnosticPoints(input: DiagnosticInput): MetricPoint[] {
  const { model, config, test, at } = input;
  const points: MetricPoint[] = [];
  const n = Math.min(test.n, DIAGNOSTIC_EXAMPLES);
  if (n < 2) return points;
  const D = model.latentDim;
  const means = input.latentMeans && input.latentMeans.length >= n * D ? input.latentMeans : encodeMeans(model, test.x, n);
  if (model.stochastic) points.push({ name: 'test/activeUnitsCov', ...at, value: activeUnitsCov(means, n, D).count });
  const truth = input.testSources;
  if (truth && truth.values.length >= n * truth.dim)
    points.push({ name: 'test/mcc', ...at, value: meanCorrelationCoefficient(means, D, truth.values, truth.dim, n).mcc });
  // the k-sample ELBO and the IW bound of the same samples: the gap costs no decoder pass and is never negative
  if (model.stochastic && input.nllExamples > 0 && Number.isFinite(input.nll) && Number.isFinite(input.nllElbo))
    points.push({ name: 'test/inferenceGap', ...at, value: input.nllElbo - input.nll });
  if (config.model.likelihood === 'gaussian-learned')
    points.push({ name: 'test/sigmaAtFloor', ...at, value: fractionAtSigmaFloor(model, Math.log(config.model.sigmaFloor)) });
  return points;
}
