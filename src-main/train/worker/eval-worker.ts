// Entry of a trainer's worker (built as out/main/eval-worker.js): a thread with its own tfjs backend and its
// own copy of the model, started when a core is idle. It takes a shard of every data-parallel training step,
// evaluates snapshots of the weights while the trainer trains on, fits the FID's feature classifier the first
// time a dataset needs it, and shares the batches of the final -log p(x) with the trainer.
// Jobs run one at a time, in the order they come.
import { parentPort, workerData } from 'node:worker_threads';
import { evaluateSplit, workThroughNll } from '../../vae/evaluate';
import { getFeatureExtractor } from '../../vae/fid';
import { VaeModel, modelSpecFromConfig } from '../../vae/model';
import { initBackend } from '../compute/backend';
import { serveShardSteps } from './shard-replica';
import type { EvalJob, EvalReply, EvalWorkerInit } from './eval-messages';
import { testPoints } from '../compute/test-split-points';

const init = workerData as EvalWorkerInit;
const port = parentPort!;
const reply = (r: EvalReply) => port.postMessage(r);

async function start(): Promise<VaeModel> {
  await initBackend(init.backend);
  return new VaeModel(modelSpecFromConfig(init.config, init.shape, init.datasetKind));
}

async function runJob(model: VaeModel, job: EvalJob): Promise<EvalReply> {
  if (job.type === 'train') {
    const steps = await serveShardSteps(model, { config: init.config, dynamicBinarize: job.dynamicBinarize }, job);
    return { id: job.id, ok: true, steps };
  }
  if (job.type === 'fidFit') {
    await getFeatureExtractor(job.datasetId, job.train, job.d, { cacheDir: job.cacheDir, seed: job.seed });
    return { id: job.id, ok: true };
  }
  model.loadNamedWeights(job.weights);
  const x = init.test.x;
  if (job.type === 'nll') {
    await workThroughNll(model, x, job.share, { iwSamples: job.iwSamples, seed: job.seed });
    return { id: job.id, ok: true };
  }
  const result = await evaluateSplit(model, x, init.test.n, job.options);
  const test = { x, y: null, n: init.test.n };
  const points = testPoints(result, { model, config: init.config, test, testSources: init.testSources, at: job.at });
  return { id: job.id, ok: true, points, result };
}

const ready = start();
let queue: Promise<unknown> = ready.catch(() => undefined);
ready.then(
  () => reply({ id: 0, ok: true, ready: true }),
  (err: unknown) => reply({ id: 0, ok: false, error: (err as Error).message }),
);
port.on('message', (job: EvalJob) => {
  queue = queue.then(async () => {
    try {
      reply(await runJob(await ready, job));
    } catch (err) {
      reply({ id: job.id, ok: false, error: (err as Error).message || String(err) });
    }
  });
});
