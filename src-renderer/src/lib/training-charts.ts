// The run view's training curves: loss (with the validation split), reconstruction and KL, train against test; one
// LiveChart each.

const TRAIN = { label: 'train', color: '#1f77b4' };
const TEST = { label: 'test', color: '#d62728' };
/** The training curves: loss, reconstruction and KL, train (and validation) against test. */
export const TRAINING_CHARTS = [
  {
    title: 'Loss (−ELBO)',
    lines: [
      { metric: 'train/loss', ...TRAIN },
      { metric: 'val/loss', label: 'validation', color: '#2ca02c', dashed: true },
      { metric: 'test/loss', ...TEST },
    ],
  },
  {
    title: 'Reconstruction −E[log p(x|z)]',
    lines: [
      { metric: 'train/recon', ...TRAIN },
      { metric: 'test/recon', ...TEST },
    ],
  },
  {
    title: 'KL(q(z|x) ‖ p(z))',
    lines: [
      { metric: 'train/kl', ...TRAIN },
      { metric: 'test/kl', ...TEST },
    ],
  },
];
