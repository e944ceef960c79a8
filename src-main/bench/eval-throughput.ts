// Evaluation beside training, interleaved in one process so that background load hits both alike: rounds
// of (training steps of the reference model | the importance-weighted -log p(x) as evaluateSplit runs it,
// with the fused SIMD likelihood | the same with the stock kernels). Medians over rounds. This is the
// load-robust companion of the whole-run figures in time-to-result.ts, whose phases run at different times.
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig } from '@shared/run-config';
import { initBackend } from '../train/compute/backend';
import { importanceWeightedBound, trainingObjective } from '../vae/estimators';
import { VaeModel, modelSpecFromConfig } from '../vae/model';
import { createOptimizer, optimizerStep } from '../vae/optimizer';

export interface EvalThroughput {
  backend: string;
  rounds: number;
  /** Training samples per second (batch 128, Adam, the training loop's objective and optimizer step). */
  trainSamplesPerSec: number;
  /** Decoder passes per second of the IW NLL (k = 500, 16 examples x 500 samples decoded at once). */
  nllDecodedPerSec: number;
  /** The same with the stock likelihood kernels (VAE_WORKBENCH_WASM_FUSED_BCE=0). */
  nllDecodedPerSecStock: number;
  nllPerTrainSample: number;
  /** In multiply-accumulates: (decoder MACs x decoded/s) / (training MACs x samples/s); 1 = the matrix kernels run as fast as in training. */
  nllWorkRatio: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Run fn repeatedly for about `ms` milliseconds and at least 3 times (after one warm-up call); calls per second. */
function rate(fn: () => void, ms: number): number {
  fn();
  const t0 = performance.now();
  let calls = 0;
  while (calls < 3 || performance.now() - t0 < ms) {
    fn();
    calls++;
  }
  return (calls * 1000) / (performance.now() - t0);
}

export async function benchEvalThroughput(opts: { rounds?: number; msPerPart?: number } = {}): Promise<EvalThroughput> {
  const backend = (await initBackend('wasm')).active; // the backend the trainers use here, and the one the step profile (step-profile.ts) times
  const rounds = opts.rounds ?? 5;
  const ms = opts.msPerPart ?? 2000;
  const config = parseRunConfig({
    model: { kind: 'vae', hidden: [400], latentDim: 20, likelihood: 'bernoulli' },
    optimizer: { name: 'adam', learningRate: 1e-3 },
  });
  const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
  const optimizer = createOptimizer(config.optimizer);
  const vars = model.variables();
  const binary = (n: number, seed: number) =>
    tf.tidy(() => tf.cast(tf.greater(tf.randomUniform([n, 784], 0, 1, 'float32', seed), 0.8), 'float32')) as tf.Tensor2D;
  const batch = binary(128, 1);
  const examples = binary(16, 2);
  let step = 0;
  const train = () => {
    optimizerStep(
      optimizer,
      vars,
      () =>
        trainingObjective(model, batch, batch, {
          kind: 'vae',
          estimator: 'analytic',
          samples: 1,
          iwSamples: 1,
          klWeight: 1,
          seed: 1000 + step++,
        }).loss,
      0,
    );
  };
  const nll = () => tf.tidy(() => void importanceWeightedBound(model, examples, examples, 500, 7, 512).dataSync());
  const previous = process.env.VAE_WORKBENCH_WASM_FUSED_BCE;
  const t: number[] = [];
  const f: number[] = [];
  const s: number[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      t.push(rate(train, ms) * 128);
      delete process.env.VAE_WORKBENCH_WASM_FUSED_BCE;
      f.push(rate(nll, ms) * 16 * 500);
      process.env.VAE_WORKBENCH_WASM_FUSED_BCE = '0';
      s.push(rate(nll, ms) * 16 * 500);
    }
  } finally {
    if (previous === undefined) delete process.env.VAE_WORKBENCH_WASM_FUSED_BCE;
    else process.env.VAE_WORKBENCH_WASM_FUSED_BCE = previous;
    tf.dispose([batch, examples]);
    model.dispose();
    optimizer.dispose();
  }
  const trainSps = median(t);
  const decoded = median(f);
  // MACs: decoder pass 20*400 + 400*784; training sample 3 x (encoder 784*400 + 400*40, decoder).
  const decoderMacs = 20 * 400 + 400 * 784;
  const trainMacs = 3 * (784 * 400 + 400 * 40 + decoderMacs);
  return {
    backend,
    rounds,
    trainSamplesPerSec: trainSps,
    nllDecodedPerSec: decoded,
    nllDecodedPerSecStock: median(s),
    nllPerTrainSample: decoded / trainSps,
    nllWorkRatio: (decoded * decoderMacs) / (trainSps * trainMacs),
  };
}
