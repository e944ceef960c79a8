// What a metric is, said beside its value: the examples (n) and importance samples (k) a figure was computed on,
// each active-unit count's definition and threshold, and the classifier Fréchet distance's name (it is not an
// Inception FID). One place for the UI, the CLI, the bench output and the comparison report. Pure (no Node).

/** The Fréchet distance on a small domain classifier's features (see README "What the numbers mean"). */
export const FD_CLASSIFIER_METRIC = 'test/fdClassifier';

/** A run's final test figures in the order the CLI's summary and the run view list them (each shown when the run has it). */
export const SUMMARY_TEST_METRICS: readonly string[] = [
  'test/loss',
  'test/recon',
  'test/kl',
  'test/lossCorrupted',
  'test/nll',
  'test/nllLoss',
  'test/inferenceGap',
  'test/activeUnits',
  'test/activeUnitsCov',
  'test/mcc',
  FD_CLASSIFIER_METRIC,
];

/** Metric names of earlier releases and what they are called now (read and written under the new name). */
export const RENAMED_METRICS: Readonly<Record<string, string>> = { 'test/fid': FD_CLASSIFIER_METRIC };

/** The current name of a metric (an old run's `test/fid` is `test/fdClassifier`). */
export function canonicalMetricName(name: string): string {
  return RENAMED_METRICS[name] ?? name;
}

/** A run's final metrics with old names mapped to the current ones (a current name wins over an old one). */
export function canonicalFinal(final: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(final)) if (!(k in RENAMED_METRICS)) out[k] = v;
  for (const [k, v] of Object.entries(final)) {
    const now = RENAMED_METRICS[k];
    if (now && !(now in out)) out[now] = v;
  }
  return out;
}

/** One sentence on which figures may be set beside which (for tables of final metrics). */
export const FIGURES_NOTE =
  'test/loss, recon and kl are over n test examples; test/nll over the first n of them with k importance samples, beside ' +
  'test/nllLoss, the −ELBO on those same examples: compare nll with nllLoss. test/fdClassifier is a Fréchet distance on a ' +
  'small classifier fitted to the dataset, not an Inception FID.';

const count = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '?' : Math.round(v).toLocaleString('en-US'));

/** The KL-based and the covariance-based (Burda et al.) active-unit counts: definition and threshold. */
export const ACTIVE_UNITS_DEFINITION = 'KL-based: units whose KL(q(z_u|x) || p(z_u)), averaged over the test examples, exceeds 0.01 nats';
export const ACTIVE_UNITS_COV_DEFINITION = 'Burda et al.: units u with Cov_x(E_q[z_u|x]) > 0.01 over the first 2,000 test examples';

/**
 * A short label for a metric of a run, with the n and k it was computed on (from the run's own final metrics
 * `test/examples`, `test/nllExamples`, `test/nllK`), e.g. "test/nll (k 100, n 1,000)"; metricDefinition says the rest.
 */
export function metricLabel(name: string, final: Record<string, number> = {}): string {
  const n = count(final['test/examples']);
  const nllN = count(final['test/nllExamples']);
  const k = count(final['test/nllK']);
  switch (canonicalMetricName(name)) {
    case 'test/loss':
      return 'test/lossCorrupted' in final ? `test/loss (clean, n ${n})` : `test/loss (−ELBO, n ${n})`;
    case 'test/recon':
      return `test/recon (n ${n})`;
    case 'test/kl':
      return `test/kl (n ${n})`;
    case 'test/nll':
      return `test/nll (k ${k}, n ${nllN})`;
    case 'test/nllLoss':
      return `test/nllLoss (−ELBO, same n ${nllN})`;
    case 'test/inferenceGap':
      return `test/inferenceGap (k ${k}, n ${nllN})`;
    case 'test/activeUnits':
      return 'test/activeUnits (KL_u > 0.01)';
    case 'test/activeUnitsCov':
      return 'test/activeUnitsCov (Cov > 0.01)';
    case 'test/lossCorrupted':
      return `test/lossCorrupted (n ${n})`;
    case FD_CLASSIFIER_METRIC:
      return 'test/fdClassifier (not FID)';
    default:
      return name;
  }
}

/** One sentence defining a metric (a tooltip beside its label), or '' for metrics without one here. */
export function metricDefinition(name: string): string {
  switch (canonicalMetricName(name)) {
    case 'test/nll':
      return '−log p(x) estimated with k importance samples on the first n test examples; compare it with test/nllLoss.';
    case 'test/nllLoss':
      return "The −ELBO on the nll's own n examples, from the same k samples: the figure to set beside test/nll.";
    case 'test/inferenceGap':
      return '−ELBO minus −log p(x) from the same k samples; it grows with k as the estimate tightens: compare at equal k.';
    case 'test/activeUnits':
      return ACTIVE_UNITS_DEFINITION;
    case 'test/activeUnitsCov':
      return ACTIVE_UNITS_COV_DEFINITION;
    case 'test/lossCorrupted':
      return 'A denoising autoencoder’s test loss on inputs corrupted as in training (test/loss: clean inputs).';
    case FD_CLASSIFIER_METRIC:
      return 'Fréchet distance on a small classifier’s features, fitted on the whole training split: not comparable with Inception FIDs.';
    default:
      return '';
  }
}
