// The workbench's evaluation of one saved checkpoint, without training: test -ELBO (recon + KL), KL per dimension,
// active units counted both ways and the importance-sampled -log p(x) with its inference gap, by the trainer's own
// evaluateSplit on the checkpoint's test split. It is how a checkpoint that did not come from the workbench (one
// saved from PyTorch by the vaewb client, or imported by hand) gets the workbench's figures. Runs on the heavy
// worker (the dataset is loaded and parsed there). Needs an initialised tfjs backend.
import { parseRunConfig } from '@shared/run-config';
import { loadDataset } from '../data/registry';
import { modelSpecFromConfig, VaeModel } from '../vae/model';
import { evaluateSplit } from '../vae/evaluate';
import { activeUnitsCov } from '../vae/diagnostics';
import { readCheckpointDir } from '../checkpoints/checkpoint-dir';
import { resolveDataset } from '../checkpoints/dataset-shape';
import { GenerateError } from './generate';

/** Latent means kept for Burda's active units (the trainer's figure uses the first 2,000 examples too). */
const COV_EXAMPLES = 2000;

export interface EvaluateOptions {
  /** Importance samples per example of the -log p(x) estimate. */
  k: number;
  /** Test examples evaluated (the first ones); 0 = the whole test split. */
  examples: number;
  /** Reparameterized samples per example of the reconstruction term. */
  samples: number;
  seed: number;
  dataHome: string;
}

export interface CheckpointEvaluation {
  epoch: number;
  step: number;
  /** Test examples of the -ELBO, and the examples and k of the -log p(x). */
  n: number;
  nllExamples: number;
  k: number;
  samples: number;
  /** Nats per example, lower is better (the run's own metric names). */
  figures: Record<string, number>;
  klPerDim: number[];
}

export async function evaluateCheckpoint(dir: string, opts: EvaluateOptions): Promise<CheckpointEvaluation> {
  const contents = readCheckpointDir(dir);
  const config = parseRunConfig(contents.config);
  if (config.model.kind === 'gmm') throw new GenerateError('a gmm run has no encoder: there is no ELBO to evaluate');
  const dataset = resolveDataset(config, contents.weights);
  const data = await loadDataset(config.data, { dataHome: opts.dataHome, seed: config.seed });
  const d = dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
  if (data.d !== d) throw new GenerateError(`the dataset now has ${data.d} features per example, the model ${d}`);
  const n = opts.examples > 0 ? Math.min(opts.examples, data.test.n) : data.test.n;
  if (n < 1) throw new GenerateError(`the test split of ${config.data.dataset} is empty`);
  const model = new VaeModel(modelSpecFromConfig(config, dataset.shape, dataset.kind));
  try {
    model.loadNamedWeights(contents.weights);
    const r = await evaluateSplit(model, data.test.x, n, {
      batchSize: 100,
      estimator: config.objective.estimator,
      samples: opts.samples,
      iwSamples: model.stochastic ? opts.k : 0,
      nllLimit: 0,
      seed: opts.seed,
      latentMeans: COV_EXAMPLES,
    });
    const figures: Record<string, number> = { 'test/loss': r.loss, 'test/recon': r.recon };
    if (model.stochastic) {
      figures['test/kl'] = r.kl;
      figures['test/activeUnits'] = r.activeUnits;
      if (r.latentMeans) figures['test/activeUnitsCov'] = activeUnitsCov(r.latentMeans, Math.min(n, COV_EXAMPLES), model.latentDim).count;
    }
    if (Number.isFinite(r.nll)) {
      figures['test/nll'] = r.nll;
      figures['test/inferenceGap'] = r.nllElbo - r.nll;
    }
    return {
      epoch: contents.epoch,
      step: contents.step,
      n,
      nllExamples: r.nllExamples,
      k: r.nllK,
      samples: opts.samples,
      figures,
      klPerDim: r.klPerDim,
    };
  } finally {
    model.dispose();
  }
}
