// What a metric's best value is and what unit it is in, for tables that mark a best value and charts that label
// their axes. For a VAE, lower loss (-ELBO), nll (-log p(x)), reconstruction and Frechet distances are better; the KL
// and the active units have no "best": a low KL is often posterior collapse, a high one an unused prior (issue 24).
export type MetricDirection = 'lower' | 'higher' | null;

const LOWER = /(^|\/)(loss|nll|recon|elbo-gap|inferenceGap|fid|fd|classifierFd|fdClassifier)$|\/(loss|nll|recon)[A-Z_]/;
const HIGHER = /(^|\/)(accuracy|samplesPerSec|mcc)$/;
// the examples (n) and importance samples (k) a figure was computed on are settings, not results
const NO_BEST = /(^|\/)(kl|activeUnits|activeUnitsCov)([A-Z_]|$)|(^|\/)(examples|nllExamples|nllK)$/;

/** 'lower' or 'higher' when one end is better, null when the metric has no best (KL, active units, unknown). */
export function metricDirection(metric: string): MetricDirection {
  if (NO_BEST.test(metric)) return null;
  if (LOWER.test(metric)) return 'lower';
  if (HIGHER.test(metric)) return 'higher';
  return null;
}

/** The best of `values` for `metric` (undefined when it has no best or fewer than two finite values). */
export function bestOf(values: readonly (number | undefined | null)[], metric: string): number | undefined {
  const dir = metricDirection(metric);
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (!dir || nums.length < 2) return undefined;
  return dir === 'higher' ? Math.max(...nums) : Math.min(...nums);
}

/** The unit of a metric's values, for an axis title ('' when it has none worth saying). */
export function metricUnit(metric: string): string {
  if (/(^|\/)(loss|nll|recon|kl|inferenceGap)([A-Z_]|$)/.test(metric)) return 'nats / example';
  if (/(^|\/)(activeUnits|activeUnitsCov)$/.test(metric)) return 'latent dimensions';
  if (/samplesPerSec$/.test(metric)) return 'examples / s';
  return '';
}

/** An axis title: the metric with its unit. */
export function metricAxisTitle(metric: string): string {
  const unit = metricUnit(metric);
  return unit ? `${metric} (${unit})` : metric;
}
