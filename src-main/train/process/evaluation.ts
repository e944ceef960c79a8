// The evaluations between epochs and at the end of a VAE-family run: the validation loss (the loop keeps the best
// checkpoint on it), the test evaluation (on the worker when it is usable, its points landing when done, else on
// this thread) with its diagnostics and the snapshots' latent view, the importance-sampled -log p(x) (shared with the
// worker at the end), and test/fdClassifier on images decoded from prior draws.
import * as tf from '@tensorflow/tfjs';
import { FD_CLASSIFIER_METRIC } from '@shared/metric-labels';
import type { MetricPoint } from '@shared/model-types';
import type { Split } from '../../data/types';
import { evaluateSplit, type EvalResult } from '../../vae/evaluate';
import { decodeMeans } from '../../vae/sampling';
import { deriveSeed, SEED_STREAM } from '../../vae/seeds';
import { DIAGNOSTIC_EXAMPLES } from '../compute/eval-diagnostics';
import { testPoints } from '../compute/test-split-points';
import type { EvalJobOptions } from '../worker/eval-messages';
import type { EvalWorkerCallback } from './eval-worker-callback';
import type { RunState } from './run-state';
import { FID_EXAMPLES } from './run-steps';
import { LATENT_POINTS, latentSnapshots } from './snapshots';

type At = { step: number; epoch: number; time: number };

/** What the evaluator asks of the loop: progress, the cancel check, and what a validation loss leads to. */
export interface EvaluationHooks {
  progress(phase: string, force?: boolean): void;
  checkCancel(): Promise<void>;
  /** A validation loss of the current epoch (the loop keeps the best checkpoint). */
  onValidationLoss(loss: number): Promise<void>;
}

export class Evaluator {
  /** The epoch whose test evaluation brings the snapshots' latent view (its encoder means and KL), -1 for none. */
  latentsFromEval = -1;
  /** Decoder passes per second of the final -log p(x) (NaN until measured). */
  finalNllRate = NaN;
  private fidDone = false;
  private pendingTest: Promise<void> | null = null;

  constructor(
    private readonly run: RunState,
    private readonly worker: EvalWorkerCallback,
    private readonly hooks: EvaluationHooks,
  ) {}

  /** Evaluate on validation and test; isFinal: the full -log p(x) estimate. */
  async evaluate(isFinal: boolean): Promise<void> {
    const { eta, clock } = this.run;
    return eta.item(isFinal ? 'finalEval' : 'eval', () => clock.during('eval', () => this.evalPoints(isFinal)));
  }

  /** The FID at the end, unless it ran beside the final evaluation's -log p(x). */
  async finalFid(): Promise<void> {
    const { eta, clock, withFid } = this.run;
    if (withFid && !this.fidDone) await eta.item('fid', () => clock.during('fid', () => this.computeFid()));
  }

  /** The options of one evaluation (what the trainer and its worker both run). */
  private evalOptions(isFinal: boolean, withNll: boolean): EvalJobOptions {
    const { config, model, plan } = this.run;
    return {
      // a test evaluation keeps the encoder means it computes: the diagnostics and the snapshots' latent view use them
      latentMeans: withNll ? Math.max(LATENT_POINTS, DIAGNOSTIC_EXAMPLES) : 0,
      batchSize: plan.evalBatch,
      estimator: config.objective.estimator,
      samples: 1,
      iwSamples: withNll && model.stochastic ? plan.nllK(isFinal) : 0,
      nllLimit: Math.max(1, plan.nllExamples(isFinal)),
      seed: deriveSeed(config.seed, SEED_STREAM.eval),
      // conv decoders hold feature maps per row: decode fewer importance samples at once.
      nllRows: config.model.arch === 'conv' ? 1024 : 8192,
      // a DAE's test loss also on inputs corrupted as in training (its training loss sees those), beside the clean one
      ...(config.model.kind === 'dae' ? { corruption: { kind: config.model.corruption, level: config.model.corruptionLevel } } : {}),
    };
  }

  private evaluateSplit(split: Split, isFinal: boolean, withNll: boolean): Promise<EvalResult> {
    const { model, eta, withFid, data } = this.run;
    const options = this.evalOptions(isFinal, withNll);
    const helper = withNll && this.worker.usable() ? this.worker.helper! : null;
    return evaluateSplit(model, split.x, split.n, {
      ...options,
      // an idle core shares the -log p(x) batches (the same value whoever computes which batch)
      nllHelper: helper
        ? (share) => helper.nll(model.namedWeights(), share, { iwSamples: options.iwSamples, seed: options.seed })
        : undefined,
      onBatch: async (fraction) => {
        eta.itemFraction(fraction);
        this.hooks.progress('eval');
        await this.hooks.checkCancel();
      },
      // at the end, this thread computes the FID while the worker starts on the -log p(x) batches
      beside: isFinal && helper && withFid && split === data.test ? () => this.fidBeside() : undefined,
    });
  }

  private async fidBeside(): Promise<void> {
    const { eta, clock } = this.run;
    await eta.inside('fid', () => clock.during('fid', () => this.computeFid(false)));
    this.fidDone = true;
  }

  private async evalPoints(isFinal: boolean): Promise<void> {
    const { data, epoch, config, step, steps } = this.run;
    this.worker.parallelUnlink(); // the worker's evaluations come after its training loop
    this.hooks.progress('eval', true); // the phase and its ETA show at once, however short the evaluation
    const points: MetricPoint[] = [];
    const at = { step, epoch: epoch + 1, time: Date.now() };
    if (data.val && data.val.n > 0) {
      const v = await this.evaluateSplit(data.val, isFinal, false);
      points.push({ name: 'val/loss', ...at, value: v.loss });
      await this.hooks.onValidationLoss(v.loss);
    }
    // The previous test evaluation of the worker first (points stay in epoch order; it is rarely still running).
    await this.settleTest();
    // This epoch's snapshots take their latent view from this evaluation (it encodes the test examples anyway).
    const latents = data.test.n > 0 && (isFinal || (epoch + 1) % config.snapshots.everyEpochs === 0);
    if (latents) this.latentsFromEval = epoch;
    if (data.test.n > 0 && !isFinal && this.worker.usable()) this.offloadTest(at, latents);
    else if (data.test.n > 0) points.push(...(await this.inlineTestPoints(isFinal, at, latents)));
    steps.emitMetrics(points);
  }

  /** Wait for the worker's test evaluation, if one is running. */
  private async settleTest(): Promise<void> {
    const pending = this.pendingTest;
    this.pendingTest = null;
    await pending;
  }

  /** The test evaluation of this epoch's weights on the worker; its points land, tagged with this epoch, when done. */
  private offloadTest(at: At, latents: boolean): void {
    const { epoch, model, eta, steps } = this.run;
    this.worker.testBusy = true;
    this.pendingTest = this.worker.helper!.test(model.namedWeights(), this.evalOptions(false, true), at).then(
      ({ points, result }) => {
        eta.observeEval(result);
        this.afterTest(result, false, epoch, at, latents);
        steps.emitMetrics(points);
      },
      (err: unknown) => {
        if ((err as Error).message !== 'closed')
          steps.log('warn', `test evaluation of epoch ${at.epoch} on the worker failed: ${(err as Error).message}`);
      },
    );
    void this.pendingTest.finally(() => {
      this.worker.testBusy = false;
    });
  }

  private async inlineTestPoints(isFinal: boolean, at: At, latents: boolean): Promise<MetricPoint[]> {
    const { config, data, epoch, model, dataset, eta } = this.run;
    const t = await this.evaluateSplit(data.test, isFinal, true);
    eta.observeEval(t);
    if (isFinal && t.nllMs > 0) this.finalNllRate = (t.nllDecoded * 1000) / t.nllMs;
    this.afterTest(t, isFinal, epoch, at, latents);
    return testPoints(t, { model, config, test: data.test, testSources: dataset.testSources, at });
  }

  /** What a test evaluation leaves behind: the snapshots' latent view and KL per dimension (when asked), the log line on the nll subset. */
  private afterTest(t: EvalResult, isFinal: boolean, epoch: number, at: { step: number; epoch: number }, latents: boolean): void {
    const { data, model, dataset, steps, plan } = this.run;
    if (latents && t.latentMeans) {
      const n = Math.min(LATENT_POINTS, t.latentMeans.length / model.latentDim);
      const view = {
        means: t.latentMeans.subarray(0, n * model.latentDim),
        n,
        dims: model.latentDim,
        stochastic: model.stochastic,
        klPerDim: model.stochastic ? t.klPerDim : null,
        klExamples: null,
      };
      for (const a of latentSnapshots(view, data.test.y, { epoch: at.epoch, step: at.step, labelNames: dataset.descriptor.labels }))
        steps.emit(a);
    }
    if (t.nllExamples > 0 && t.nllExamples < data.test.n && (isFinal || epoch === plan.startEpoch))
      steps.log(
        'info',
        `test/nll ${isFinal ? 'at the end' : 'during training'}: estimated on the first ${t.nllExamples} of ${data.test.n} test examples with k = ${plan.nllK(isFinal)}`,
      );
  }

  /** test/fid on images decoded from prior draws; `ownItem`: it is an ETA item of its own (not inside the final evaluation). */
  private async computeFid(ownItem = true): Promise<void> {
    const { config, data, model, eta, steps } = this.run;
    this.hooks.progress('eval', true);
    const n = Math.min(FID_EXAMPLES, data.test.n);
    if (n < 2) return;
    await this.worker.pendingFidFit; // the worker's fit of the feature classifier (it never rejects)
    const fake = new Float32Array(n * data.d);
    const chunk = 500;
    const D = model.latentDim;
    const noise = tf
      .tidy(() => tf.randomNormal([n, D], 0, 1, 'float32', deriveSeed(config.seed, SEED_STREAM.eval, 77)).dataSync() as Float32Array)
      .slice();
    for (let s = 0; s < n; s += chunk) {
      const e = Math.min(n, s + chunk);
      fake.set(decodeMeans(model, noise.subarray(s * D, e * D), e - s), s * data.d);
      await this.hooks.checkCancel();
    }
    const value = await steps.fid(data, fake, n, (fraction) => {
      if (ownItem) eta.itemFraction(fraction);
      this.hooks.progress('eval');
    });
    if (value !== null)
      steps.emitMetrics([{ name: FD_CLASSIFIER_METRIC, step: this.run.step, epoch: this.run.epoch + 1, time: Date.now(), value }]);
  }
}
