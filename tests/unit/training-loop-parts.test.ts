// The parts that hang on the training loop (src-main/train/process/), each on its own: the plan of a run (steps,
// the -log p(x) budgets, the KL warm-up), early stopping, the interval-checkpoint rule, the loss log's running sums
// and divergence check (real tfjs on the cpu backend), and the progress callback with a fake clock.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '@shared/run-config';
import { intervalDue } from '../../src-main/train/process/checkpointing';
import { EarlyStopping } from '../../src-main/train/process/early-stopping';
import { LossLog } from '../../src-main/train/process/loss-log';
import { ProgressCallback } from '../../src-main/train/process/progress-callback';
import { Diverged, PROGRESS_INTERVAL_MS } from '../../src-main/train/process/run-steps';
import { klWeightAt, NLL_K_INTERMEDIATE, planTraining } from '../../src-main/train/process/training-plan';
import { EtaModel, planRun } from '../../src-main/train/progress/eta';

const config = (over: object = {}) =>
  parseRunConfig({ training: { batchSize: 100, epochs: 3 }, eval: { iwSamples: 500, nllExamples: 0 }, ...over });

describe('the plan of a run', () => {
  it('counts steps (the last batch partial), caps them by maxSteps and keeps the resumed start', () => {
    const plan = planTraining(config(), { trainN: 1050, testN: 500, stochastic: true, startEpoch: 1 });
    expect([plan.B, plan.stepsPerEpoch, plan.totalEpochs, plan.totalSteps, plan.startEpoch, plan.evalBatch]).toEqual([
      100, 11, 3, 33, 1, 256,
    ]);
    const capped = planTraining(config({ training: { batchSize: 100, epochs: 3, maxSteps: 20 } }), {
      trainN: 1050,
      testN: 0,
      stochastic: true,
      startEpoch: 0,
    });
    expect(capped.totalSteps).toBe(20);
    expect(planTraining(config(), { trainN: 40, testN: 0, stochastic: true, startEpoch: 0 }).B).toBe(40); // never above the split
  });

  it('bounds the -log p(x) by its budgets: k = 50 on 100 examples during training, k = iwSamples at the end', () => {
    const plan = planTraining(config(), { trainN: 1000, testN: 5000, stochastic: true, startEpoch: 0 });
    expect([plan.nllK(false), plan.nllExamples(false)]).toEqual([NLL_K_INTERMEDIATE, 100]);
    expect([plan.nllK(true), plan.nllExamples(true)]).toEqual([500, 1000]); // 500,000 decoder passes
    const small = planTraining(config(), { trainN: 1000, testN: 30, stochastic: true, startEpoch: 0 });
    expect(small.nllExamples(true)).toBe(30);
    expect(planTraining(config(), { trainN: 1000, testN: 500, stochastic: false, startEpoch: 0 }).nllExamples(true)).toBe(0);
  });

  it('ramps the KL weight over the warm-up epochs, then holds beta', () => {
    const c = config({ objective: { beta: 2, klWarmupEpochs: 1 } });
    const plan = planTraining(c, { trainN: 400, testN: 0, stochastic: true, startEpoch: 0 });
    expect(plan.klWarmupSteps).toBe(4);
    expect([0, 1, 3, 10].map((s) => klWeightAt(c, plan, s))).toEqual([0.5, 1, 2, 2]);
    expect(klWeightAt(config(), planTraining(config(), { trainN: 400, testN: 0, stochastic: true, startEpoch: 0 }), 0)).toBe(1);
  });
});

describe('early stopping and the interval checkpoints', () => {
  it('keeps the best validation loss and stops after `patience` epochs without improvement', () => {
    const stop = new EarlyStopping(2, true);
    expect([stop.observe(10, 0), stop.observe(9, 1), stop.observe(9.5, 2)]).toEqual([true, true, false]);
    expect(stop.stopAfterEpoch(2)).toBeNull();
    expect(stop.observe(9, 3)).toBe(false); // equal is no improvement
    expect(stop.stopAfterEpoch(3)).toBe('early stopping: no validation improvement for 2 epochs (best 9.000 at epoch 2)');
    expect(stop.stopped).toBe(true);
    const off = new EarlyStopping(0, true);
    off.observe(1, 0);
    expect(off.stopAfterEpoch(50)).toBeNull();
    expect(new EarlyStopping(1, false).stopAfterEpoch(5)).toBeNull();
  });

  it('writes an interval checkpoint every checkpoints.everyEpochs epochs, once per epoch', () => {
    const c = config({ checkpoints: { everyEpochs: 2 } });
    expect([0, 1, 2, 3].map((e) => intervalDue(c, e, -1))).toEqual([false, true, false, true]);
    expect(intervalDue(c, 1, 1)).toBe(false);
    expect(intervalDue(config({ checkpoints: { everyEpochs: 0 } }), 1, -1)).toBe(false);
  });
});

describe('the loss log', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const value = (loss: number, recon: number, kl: number) => ({ loss: tf.scalar(loss), recon: tf.scalar(recon), kl: tf.scalar(kl) });

  it('reports the means since the last log point at fractional epochs, and nothing when empty', () => {
    const log = new LossLog();
    const before = tf.memory().numTensors;
    log.add(value(3, 2, 1));
    log.add(value(5, 3, 2));
    expect(tf.memory().numTensors).toBe(before); // the step's scalars are disposed, the sums replaced
    const points = log.flush(15, 10, 2);
    expect(points.map((p) => [p.name, p.step, p.epoch, p.value])).toEqual([
      ['train/loss', 15, 1.5, 4],
      ['train/recon', 15, 1.5, 2.5],
      ['train/kl', 15, 1.5, 1.5],
    ]);
    expect(log.flush(16, 10, 2)).toEqual([]);
    log.dispose();
  });

  it('ends the run on a NaN or infinite mean, naming the steps', () => {
    const log = new LossLog();
    log.add(value(1, 1, 0));
    log.add(value(NaN, 1, 0));
    expect(() => log.flush(20, 10, 2)).toThrow(Diverged);
    log.add(value(Infinity, 1, 0));
    expect(() => log.flush(21, 10, 3)).toThrow(
      'training diverged: the loss became infinite by step 21 (epoch 3; averaged over steps 21-21)',
    );
    log.add(value(1, Infinity, 0));
    expect(() => log.flush(22, 10, 3)).toThrow('the loss became infinite in its terms by step 22');
    log.dispose();
  });
});

describe('the progress callback', () => {
  it('sends progress at most every PROGRESS_INTERVAL_MS (at once when forced) with the speed of the steps', () => {
    let now = 10_000;
    let step = 0;
    const sent: { step: number; phase: string; samplesPerSec: number; epoch: number }[] = [];
    const c = parseRunConfig({ training: { batchSize: 100, epochs: 2 } });
    const eta = new EtaModel(
      planRun(c, {
        step: 0,
        startEpoch: 0,
        stepsPerEpoch: 10,
        totalSteps: 20,
        batchSize: 100,
        evalExamples: 0,
        fid: false,
        intermediateNllDecoded: 0,
        finalNllDecoded: 0,
      }),
    );
    const progress = new ProgressCallback(
      eta,
      {
        position: () => ({ step, totalSteps: 20, stepsPerEpoch: 10, totalEpochs: 2 }),
        trainMs: () => step * 50,
        expectLinked: () => false,
        emit: (p) => sent.push(p),
      },
      () => now,
    );
    for (let i = 0; i < 5; i++) {
      step++;
      now += 50;
      progress.afterStep({ ms: 50, rows: 100, stepsRun: step, linked: false });
    }
    // 250 ms of steps: the first one reported, the next ones inside the interval until 250 ms passed
    expect(sent.map((p) => p.step)).toEqual([1]);
    expect(sent[0]!.samplesPerSec).toBe(2000);
    now += PROGRESS_INTERVAL_MS;
    progress.report('eval');
    progress.report('snapshot', true);
    expect(sent.map((p) => [p.step, p.phase, p.epoch])).toEqual([
      [1, 'train', 0.1],
      [5, 'eval', 0.5],
      [5, 'snapshot', 0.5],
    ]);
    expect(progress.samplesPerSec).toBe(2000);
  });
});
