// A run alone on a 2-core machine uses the idle core: the trainer's worker (out/main/eval-worker.js) computes one
// shard of every data-parallel training step, runs the per-epoch test evaluations while the trainer trains on
// (each landing with its own epoch), and shares the final -log p(x). With training.dataParallel fixed, the figures
// are meant to be bit-identical to those of the same run with no idle core (two services: concurrency 2 with one
// run, concurrency 1), since every shard's and batch's noise comes from the seed and its index alone, and gradients
// are summed in shard order on both threads. At the end the
// trainer computes the FID while the worker starts on the final -log p(x) batches. On a fresh data home the worker
// also fits the FID's feature classifier while training runs (alone, the trainer fits it at the end), and every
// epoch's snapshots take their latent view from that epoch's test evaluation.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkbenchService } from '../built';

const homes: string[] = [];
const services: WorkbenchService[] = [];
afterAll(async () => {
  for (const s of services) await s.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const config = {
  name: 'eval-worker',
  seed: 7,
  data: { trainLimit: 0, testLimit: 300 },
  model: { hidden: [64], latentDim: 4 },
  training: { epochs: 3, batchSize: 100, dataParallel: 2 },
  eval: { iwSamples: 40, fid: true },
  snapshots: { everyEpochs: 1 },
};

/** One run of `config` in a fresh data home (with a copy of another home's FID classifier when given). */
async function trainWith(concurrency: number, fidCacheOf?: string) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'vae-evalworker-'));
  homes.push(home);
  if (fidCacheOf) cpSync(path.join(fidCacheOf, 'fid-cache'), path.join(home, 'fid-cache'), { recursive: true });
  const service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency });
  services.push(service);
  const { runId } = await service.call('runs.start', { config });
  const run = await service.waitForRun(runId);
  expect(run.status, run.error ?? '').toBe('completed');
  const log = (await service.call('runs.log', { runId })).map((e) => e.message);
  const [loss] = await service.call('runs.series', { runIds: [runId], metric: 'test/loss', x: 'epoch' });
  const [nll] = await service.call('runs.series', { runIds: [runId], metric: 'test/nll', x: 'epoch' });
  const [train] = await service.call('runs.series', { runIds: [runId], metric: 'train/loss', x: 'step' });
  const klArtifacts = await service.call('runs.artifacts', { runId, kind: 'kl-per-dim' });
  const kl = await Promise.all(
    klArtifacts.map(async (a) => {
      const { dataBase64 } = await service.call('artifacts.get', { artifactId: a.id });
      return {
        epoch: a.epoch,
        ...(JSON.parse(Buffer.from(dataBase64, 'base64').toString()) as { klPerDim: number[]; examples: number | null }),
      };
    }),
  );
  const latent = await service.call('runs.artifacts', { runId, kind: 'latent-pca' });
  // the FID classifier this data home fitted (its index records the weights' SHA-256)
  const fidIndex = JSON.parse(
    readFileSync(
      path.join(
        home,
        'fid-cache',
        readdirSync(path.join(home, 'fid-cache')).find((f) => f.endsWith('.json'))!,
      ),
      'utf8',
    ),
  ) as {
    sha256: string;
  };
  return { home, run, log, loss: loss!, nll: nll!, train: train!, kl, latent, fidSha: fidIndex.sha256 };
}

describe('the evaluation worker on an idle core', () => {
  /** A data home whose FID classifier is fitted (by the first test): the second one's worker links for the steps at once. */
  let fitted: string | null = null;

  it("fits the classifier FD's feature classifier while training runs; snapshots take their latent view from the evaluations", async () => {
    const [helped, alone] = await Promise.all([trainWith(2), trainWith(1)]);
    expect(helped.log.filter((m) => /worker.*(failed|exited|could not)/.test(m))).toEqual([]);
    // fitted on the worker while training ran (helped), at the end (alone): the same classifier weights
    expect(helped.log.some((m) => m.startsWith('classifier FD: the feature classifier of this dataset was fitted on the worker'))).toBe(
      true,
    );
    expect(alone.log.some((m) => m.startsWith('classifier FD: the feature classifier'))).toBe(false);
    expect(helped.fidSha).toBe(alone.fidSha);
    expect(Number.isFinite(helped.run.final['test/fdClassifier'])).toBe(true);
    fitted = helped.home;
    // every epoch's latent view and KL per dimension come from that epoch's test evaluation (examples: null), on the
    // worker when helped; the same KL as alone
    for (const r of [helped, alone]) {
      expect(r.latent.map((a) => a.epoch)).toEqual([1, 2, 3]);
      expect(r.kl.map((k) => [k.epoch, k.examples])).toEqual([
        [1, null],
        [2, null],
        [3, null],
      ]);
    }
    helped.kl.forEach((k, e) =>
      k.klPerDim.forEach((v, j) =>
        expect(Math.abs(v - alone.kl[e]!.klPerDim[j]!), `epoch ${e + 1} dim ${j}`).toBeLessThan(0.02 * Math.abs(v) + 0.01),
      ),
    );
  }, 240_000);

  it('evaluates every epoch beside training and shares the final -log p(x), with the same figures as without it', async () => {
    if (!fitted) throw new Error('needs the FID classifier of the first test');
    const [helped, alone] = await Promise.all([trainWith(2, fitted), trainWith(1, fitted)]);
    expect(helped.log.some((m) => m.startsWith('evaluation worker started on an idle core'))).toBe(true);
    expect(alone.log.some((m) => m.startsWith('evaluation worker'))).toBe(false);
    expect(helped.log.filter((m) => /worker.*(failed|exited|could not)/.test(m))).toEqual([]);
    // the worker took a shard of most steps (not those beside its test evaluations); alone, none
    const onWorker = (log: string[]) => Number(/the worker computed a shard in (\d+) of (\d+) steps/.exec(log.join('\n'))?.[1] ?? NaN);
    expect(onWorker(helped.log)).toBeGreaterThan(0); // of 240 steps (its backend starts while the first steps run)
    expect(onWorker(alone.log)).toBe(0);
    expect(helped.run.final['perf/dataParallel']).toBe(2);
    // the same training: every logged training loss and the final test figures, bit for bit. (They once drifted
    // apart by ~1 nat after the worker's first return to the steps: a worker descheduled between its DONE and its
    // look at MAIN found the trainer a step further, skipped that step's update and went on from stale weights; see
    // shard-link.ts and the deterministic case in tests/integration/data-parallel.test.ts.)
    const values0 = (s: { points: { y: number }[] }) => s.points.map((p) => p.y);
    expect(values0(helped.train).length).toBeGreaterThan(2);
    expect(values0(helped.train).length).toBe(values0(alone.train).length);
    expect(values0(helped.train)).toEqual(values0(alone.train));
    expect(helped.run.final['test/loss']).toBe(alone.run.final['test/loss']);
    expect(helped.run.final['test/nll']).toBe(alone.run.final['test/nll']);
    // the FID, computed beside the worker's share of the final -log p(x) when helped, after it when alone
    expect(Number.isFinite(helped.run.final['test/fdClassifier'])).toBe(true);
    expect(Math.abs(helped.run.final['test/fdClassifier']! - alone.run.final['test/fdClassifier']!)).toBeLessThan(
      0.05 * alone.run.final['test/fdClassifier']! + 0.5,
    );
    // one test evaluation per epoch, tagged with the epoch it belongs to, in order
    const epochs = (s: { points: { x: number }[] }) => s.points.map((p) => p.x);
    expect(epochs(helped.loss)).toEqual([1, 2, 3]);
    expect(epochs(helped.loss)).toEqual(epochs(alone.loss));
    const values = (s: { points: { y: number }[] }) => s.points.map((p) => p.y);
    expect(values(helped.loss)).toEqual(values(alone.loss));
    expect(values(helped.nll)).toEqual(values(alone.nll));
    expect(Number.isFinite(helped.run.final['test/nll'])).toBe(true);
  }, 240_000);
});
