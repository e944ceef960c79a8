// The time-left estimate and the phase clock with a fake clock: the plan of a run (how many
// evaluations, snapshots and checkpoints are still to come), an ETA that counts them, and a simulated
// reference run whose ETA stays within 25 % of the real time left from 10 % on. Plus the CLI's epoch label.
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '@shared/run-config';
import { formatEpoch, runFraction } from '../../src-main/hosts/cli/progress-line';
import { EtaModel, planRun } from '../../src-main/train/progress/eta';
import { PhaseClock } from '../../src-main/train/progress/phase-clock';
import {
  LINKED_PRIOR_STEPS,
  LINKED_SPEEDUP_PRIOR,
  SplitStepRate,
  StepRate,
  UNLINKED_SHARE_PRIOR,
} from '../../src-main/train/progress/step-rate';

const reference = parseRunConfig({
  model: { kind: 'vae', hidden: [400], latentDim: 20 },
  training: { batchSize: 128, epochs: 10 },
});
const plan = (config = reference, step = 0) =>
  planRun(config, {
    step,
    startEpoch: 0,
    stepsPerEpoch: 63,
    totalSteps: 630,
    batchSize: 128,
    evalExamples: 2000,
    fid: true,
    intermediateNllDecoded: 5000,
    finalNllDecoded: 500_000,
  });

describe('planRun', () => {
  it('counts the evaluations, snapshots and checkpoints of the reference run', () => {
    // 9 intermediate epoch ends; the last epoch's work is the final evaluation, snapshot and checkpoints.
    expect(plan().planned).toEqual({ eval: 9, finalEval: 1, fid: 1, snapshots: 10, checkpoint: 11 });
    const sparse = parseRunConfig({
      ...reference,
      eval: { everyEpochs: 5, fid: false },
      snapshots: { everyEpochs: 100 },
      checkpoints: { everyEpochs: 0 },
    });
    expect(plan(sparse).planned).toEqual({ eval: 1, finalEval: 1, fid: 1, snapshots: 1, checkpoint: 1 });
  });
});

describe('EtaModel', () => {
  it('is null before the step time is known and counts the final -log p(x) at the measured rate', async () => {
    let now = 0;
    const eta = new EtaModel(plan(), () => now);
    expect(eta.remainingSeconds(0, null)).toBeNull();
    const trainOnly = 630 * 20; // ms at 20 ms a step
    const before = eta.remainingSeconds(0, 20)! * 1000;
    expect(before).toBeGreaterThan(trainOnly * 1.5); // the prior already counts a large final evaluation
    // One intermediate evaluation measured: 2000 ELBO examples in 100 ms, 5000 decoded samples in 250 ms.
    await eta.item('eval', () => {
      eta.observeEval({ n: 2000, elboMs: 100, nllMs: 250, nllDecoded: 5000 });
      now += 350;
    });
    expect(eta.estimateMs('finalEval', 20 / 128)).toBeCloseTo(100 + 500_000 * 0.05, 5);
    expect(eta.estimateMs('eval', 20 / 128)).toBeCloseTo(350, 5);
    // a second one, slower (a burst of load): the rates are those of both together, not of the last one
    await eta.item('eval', () => {
      eta.observeEval({ n: 2000, elboMs: 140, nllMs: 350, nllDecoded: 5000 });
      now += 490;
    });
    expect(eta.estimateMs('finalEval', 20 / 128)).toBeCloseTo(120 + 500_000 * 0.06, 5);
  });

  it('work beside the running item (the FID beside the final -log p(x)) does not count as progress of the item itself', async () => {
    let now = 0;
    const eta = new EtaModel(plan(), () => now);
    const fidMs = eta.estimateMs('fid', 20 / 128);
    let before = NaN;
    let after = NaN;
    await eta.item('finalEval', async () => {
      now += 300;
      eta.itemFraction(0.1); // its own first 10 % in 300 ms: 2.7 s of it to come
      before = eta.remainingSeconds(630, 20)! * 1000;
      await eta.inside('fid', async () => {
        now += 900;
      });
      after = eta.remainingSeconds(630, 20)! * 1000;
    });
    // the FID is done, and the evaluation's own pace is still 300 ms per 10 % (not 1,200 ms)
    expect(after).toBeCloseTo(before - fidMs, 6);
  });

  it('with a worker, the FID beside the final -log p(x) adds half its time: the worker works through the estimate meanwhile', () => {
    const msPerSample = 40 / 128;
    // what the FID adds to the time left at the end of the training steps, with and without a worker
    const fidShare = (worker: boolean, over: Partial<ReturnType<typeof plan>> = {}) => {
      const make = (fid: boolean) => {
        const p = { ...plan(), ...over };
        const eta = new EtaModel({ ...p, planned: { ...p.planned, fid: fid ? 1 : 0 } });
        eta.useWorker(worker);
        return eta;
      };
      const fidMs = make(true).estimateMs('fid', msPerSample);
      return { added: (make(true).remainingSeconds(630, 40)! - make(false).remainingSeconds(630, 40)!) * 1000, fidMs };
    };
    const alone = fidShare(false);
    expect(alone.added).toBeCloseTo(alone.fidMs, 6);
    const beside = fidShare(true);
    expect(beside.added).toBeCloseTo(beside.fidMs / 2, 6);
    // a FID that outlasts the worker's share of a small estimate (its classifier fitted at the end) counts in full beyond that share
    const long = fidShare(true, { finalNllDecoded: 1000, fidFit: true });
    expect(long.added).toBeGreaterThan(long.fidMs / 2 + 100);
    expect(long.added).toBeLessThan(long.fidMs);
  });

  it('a best checkpoint inside an evaluation is part of it, not an item of its own', async () => {
    let now = 0;
    const eta = new EtaModel(plan(), () => now);
    await eta.item('eval', async () => {
      await eta.item('checkpoint', () => {
        now += 40;
      });
      now += 60;
    });
    expect(eta.estimateMs('eval', 1)).toBe(100);
    expect(eta.estimateMs('checkpoint', 1)).toBe(100); // still the prior: no checkpoint item completed
  });

  it('a simulated reference run: the ETA is within 25 % of the real time left from 10 % on (until its last 2 s)', async () => {
    let now = 0;
    const eta = new EtaModel(plan(), () => now);
    const stepMs = 18;
    const trace: { t: number; eta: number }[] = [];
    let step = 0;
    let trainMs = 0;
    const sample = () => trace.push({ t: now, eta: eta.remainingSeconds(step, step > 0 ? trainMs / step : null) ?? NaN });
    // Evaluations and the FID report their fraction done (evaluateSplit's onBatch, the feature classifier's fit); the rest do not.
    const work = async (item: Parameters<EtaModel['item']>[0], ms: number, observe?: () => void) =>
      eta.item(item, () => {
        for (let i = 0; i < 10; i++) {
          now += ms / 10;
          if (item === 'eval' || item === 'finalEval' || item === 'fid') eta.itemFraction((i + 1) / 10);
          sample();
        }
        observe?.();
      });
    for (let e = 0; e < 10; e++) {
      for (let b = 0; b < 63; b++) {
        now += stepMs;
        trainMs += stepMs;
        step++;
        sample();
      }
      if (e < 9) {
        await work('eval', 300, () => eta.observeEval({ n: 2000, elboMs: 120, nllMs: 180, nllDecoded: 5000 }));
        await work('snapshots', 120);
        await work('checkpoint', 60);
      }
    }
    await work('finalEval', 120 + 500_000 * 0.036, () => eta.observeEval({ n: 2000, elboMs: 120, nllMs: 18_000, nllDecoded: 500_000 }));
    await work('fid', 900); // ~6,500 training-sample times, as measured with the classifier fit
    await work('snapshots', 120);
    await work('checkpoint', 60);
    await work('checkpoint', 60);
    const end = now;
    const errors = trace.filter((p) => p.t >= 0.1 * end && end - p.t > 2000).map((p) => Math.abs(p.eta * 1000 - (end - p.t)) / (end - p.t));
    expect(errors.length).toBeGreaterThan(500);
    expect(Math.max(...errors)).toBeLessThan(0.25);
  });
});

describe('PhaseClock', () => {
  it('charges every millisecond to one phase; nested phases to the inner one', async () => {
    let now = 0;
    const clock = new PhaseClock(500, () => now);
    now = 100;
    clock.enter('data');
    now = 300;
    clock.enter('train');
    now = 1300;
    await clock.during('eval', async () => {
      now += 200;
      await clock.during('checkpoints', () => {
        now += 50;
      });
      now += 100;
    });
    now += 10;
    const s = clock.seconds();
    expect(s).toMatchObject({ startup: 0.6, data: 0.2, eval: 0.3, checkpoints: 0.05, snapshots: 0, fid: 0 });
    expect(s.train).toBeCloseTo(1.01, 10);
    expect(Object.values(s).reduce((a, b) => a + b, 0)).toBeCloseTo(0.5 + now / 1000, 10);
    expect(clock.count('eval')).toBe(1);
  });
});

describe('the CLI progress label', () => {
  it('prints epochs as a person writes them', () => {
    expect(formatEpoch(1 / 63)).toBe('0.0');
    expect(formatEpoch(0.015873015873015872 * 214)).toBe('3.3');
    expect(formatEpoch(3.4285714)).toBe('3.4');
    expect(formatEpoch(9.99)).toBe('9.9'); // never rounded up to an epoch not yet done
    expect(formatEpoch(10)).toBe('10');
  });

  it('fills the bar by wall time when the ETA is known', () => {
    expect(runFraction(30, 90, 630, 630)).toBeCloseTo(0.25, 10); // training done, evaluation still to come
    expect(runFraction(0, null, 63, 630)).toBeCloseTo(0.05, 10);
  });
});

/** Feeds a rate n steps of msPerStep each (the train phase's total milliseconds and steps after every step). */
function stepsOf(observe: (ms: number, steps: number, linked: boolean) => void) {
  let ms = 0;
  let steps = 0;
  return (n: number, msPerStep: number, linked = false) => {
    for (let i = 0; i < n; i++) {
      ms += msPerStep;
      steps++;
      observe(ms, steps, linked);
    }
  };
}

describe('the step rate the ETA extrapolates', () => {
  it('leaves the slow warm-up steps out, then follows the recent pace, not the average since the start', () => {
    const rate = new StepRate();
    expect(rate.msPerStep()).toBeNull();
    const run = stepsOf((ms, steps) => rate.observe(ms, steps));
    run(3, 400); // warm-up: tfjs compiling, a worker starting its backend
    expect(rate.msPerStep()).toBeNull(); // no guess from the warm-up alone (a 10x too long ETA in a run's first second)
    run(20, 30);
    expect(rate.msPerStep()).toBeCloseTo(30, 6);
    run(200, 20); // a worker joined the steps: 6 s at the new pace
    expect(rate.msPerStep()).toBeCloseTo(20, 6);
    run(200, 35); // and left
    expect(rate.msPerStep()).toBeCloseTo(35, 6);
  });

  it('before a whole window has run, follows the more recent half of the steps, not the erratic first seconds', () => {
    const rate = new StepRate();
    const run = stepsOf((ms, steps) => rate.observe(ms, steps));
    run(3, 400); // warm-up
    run(10, 110); // the first erratic steps (a worker starting beside them, the first allocations)
    run(10, 60); // 2.9 s in all: less than a window
    // steps 12-23 (the recent half: two slow ones, ten at 60 ms), where an average since the warm-up would say
    // (1,100 + 600) / 20 = 85 ms
    expect(rate.msPerStep()).toBeCloseTo((2 * 110 + 10 * 60) / 12, 6);
  });

  it('over a long run, a short slow stretch (a burst of load from a neighbour) moves the rate only by its share of the window', () => {
    const rate = new StepRate();
    const run = stepsOf((ms, steps) => rate.observe(ms, steps));
    run(1000, 20); // 20 s
    run(60, 35); // 2.1 s slower: the window is a third of the 22.1 s so far (7.4 s), not the last 3 s
    const r = rate.msPerStep()!;
    expect(r).toBeGreaterThan(21);
    expect(r).toBeLessThan(25);
    run(600, 35); // the slower pace lasts: the window holds nothing else
    expect(rate.msPerStep()).toBeCloseTo(35, 6);
  });
});

describe('the step rate of a data-parallel run whose worker comes and goes', () => {
  it('expects the linked pace once the worker has joined, mixed with the pace alone in the share of steps alone', () => {
    const rate = new SplitStepRate();
    const run = stepsOf((ms, steps, linked) => rate.observe(ms, steps, linked));
    expect(rate.msPerStep(true)).toBeNull();
    run(3, 400, false); // warm-up
    run(100, 42, false); // the worker starting its backend (or fitting the FID classifier): both shards here
    expect(rate.msPerStep(false)).toBeCloseTo(42, 6); // no worker to come: the pace alone
    expect(rate.msPerStep(true)).toBeCloseTo((42 / LINKED_SPEEDUP_PRIOR) * (1 - UNLINKED_SHARE_PRIOR) + 42 * UNLINKED_SHARE_PRIOR, 6);
    run(1, 600, true); // the first linked step waits for the worker to take the state: not a pace yet
    expect(rate.msPerStep(true)).toBeCloseTo((42 / LINKED_SPEEDUP_PRIOR) * (1 - 0) + 42 * 0, 6);
    run(59, 30, true); // linked: 1.8 s, less than a 3 s window over both paces would need to forget the start
    expect(rate.msPerStep(true)).toBeCloseTo(30, 6); // no step alone since the first link yet
    run(20, 42, false); // the worker evaluates an epoch
    run(100, 30, true);
    // 20 of the 180 steps since the first link ran alone
    expect(rate.msPerStep(true)).toBeCloseTo(30 * (8 / 9) + 42 * (1 / 9), 6);
  });

  it('weighs the prior against the measured linked pace as LINKED_PRIOR_STEPS steps, so a slow first linked stretch does not swing the ETA', () => {
    const rate = new SplitStepRate();
    const run = stepsOf((ms, steps, linked) => rate.observe(ms, steps, linked));
    run(3, 400, false);
    run(60, 56, false); // alone beside the worker's FID fit: prior 56 / 1.4 = 40 ms linked
    const prior = 56 / LINKED_SPEEDUP_PRIOR;
    run(LINKED_PRIOR_STEPS, 60, true); // the worker's first linked steps run slow
    // as much evidence as the prior: half way between them, not the 60 ms of the slow start
    expect(rate.msPerStep(true)).toBeCloseTo((60 + prior) / 2, 6);
    run(400, 40, true); // 16 s later the window holds the steady pace only, and the prior weighs 30 of 430 steps
    const n = LINKED_PRIOR_STEPS + 400;
    expect(rate.msPerStep(true)).toBeCloseTo((n * 40 + LINKED_PRIOR_STEPS * prior) / (n + LINKED_PRIOR_STEPS), 6);
  });
});
