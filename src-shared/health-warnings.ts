// Health warnings of a training run: what each one means, its likely cause and what to try. Pure data shared
// by the trainer (which raises them, src-main/train/process/health.ts), the store (as `health/*` metrics: 1 = raised,
// 0 = cleared) and the renderer (the run view's warning panel and the runs table's badge). No Node imports.

export const HEALTH_CODES = ['posterior-collapse', 'sigma-at-floor', 'plateau', 'divergence', 'variance-overfit'] as const;
export type HealthCode = (typeof HEALTH_CODES)[number];

export interface HealthWarningInfo {
  code: HealthCode;
  /** The metric that records it: 1 while raised, 0 once cleared. */
  metric: string;
  title: string;
  /** One sentence: the likely cause and what to try. */
  advice: string;
}

export const HEALTH_WARNINGS: Record<HealthCode, HealthWarningInfo> = {
  'posterior-collapse': {
    code: 'posterior-collapse',
    metric: 'health/posteriorCollapse',
    title: 'Posterior collapse',
    advice:
      'The KL term is near zero or the active units are dropping, so the decoder ignores the latent code: the ' +
      'reconstruction term is too weak against the KL (a Gaussian decoder with too large a σ, or β too high) or ' +
      'the decoder is too strong — try a smaller decoder σ, a lower β, KL warm-up (objective.klWarmupEpochs) or a smaller decoder.',
  },
  'sigma-at-floor': {
    code: 'sigma-at-floor',
    metric: 'health/sigmaAtFloor',
    title: 'Decoder variance at its floor',
    advice:
      'Most output dimensions of the learned decoder σ sit at model.sigmaFloor, usually pixels that are (almost) ' +
      'constant such as an image background, so the likelihood is dominated by them — raise model.sigmaFloor, ' +
      'use a fixed σ (likelihood gaussian) or a Bernoulli decoder for images in [0, 1].',
  },
  plateau: {
    code: 'plateau',
    metric: 'health/plateau',
    title: 'Loss not improving',
    advice:
      'The loss has not improved for several evaluations: the run may have converged, the learning rate may be too ' +
      'small (or too large and bouncing), or the model is overfitting — compare train and test loss, try another ' +
      'learning rate, or stop here.',
  },
  divergence: {
    code: 'divergence',
    metric: 'health/divergence',
    title: 'Loss diverging',
    advice:
      'The training loss has risen far above its best value, usually a learning rate that is too large or ' +
      'exploding gradients — lower optimizer.learningRate or set optimizer.clipNorm (e.g. 5).',
  },
  'variance-overfit': {
    code: 'variance-overfit',
    metric: 'health/varianceOverfit',
    title: 'Learned variance overfitting',
    advice:
      'The test loss rises while the training loss still falls: the learned decoder σ shrinks to fit the training ' +
      'examples ever more tightly, and the test examples pay for it in log-density — raise model.sigmaFloor, use a ' +
      'fixed σ (likelihood gaussian), hold out a validation split with early stopping (data.validationFraction, ' +
      'training.earlyStoppingPatience), or keep the checkpoint of the best test loss.',
  },
};

/** The warnings a run's final metrics say are raised now (health/* = 1). */
export function raisedWarnings(final: Record<string, number>): HealthWarningInfo[] {
  return HEALTH_CODES.map((c) => HEALTH_WARNINGS[c]).filter((w) => final[w.metric] === 1);
}
