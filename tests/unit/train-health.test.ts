// The health monitor: which metric sequences raise (and clear) which warning.
import { describe, expect, it } from 'vitest';
import { DIVERGE_WINDOW, HealthMonitor, healthLogLine } from '../../src-main/train/process/health';
import { raisedWarnings } from '@shared/health-warnings';

const pt = (name: string, value: number, epoch = 1, step = 0) => ({ name, value, epoch, step, time: 0 });

describe('HealthMonitor', () => {
  it('raises posterior collapse when the test KL is near zero, once, and clears it when the KL recovers', () => {
    const h = new HealthMonitor({ latentDim: 2, stochastic: true });
    expect(h.observe([pt('test/kl', 5), pt('test/activeUnits', 2)])).toEqual([]);
    // one low evaluation in the first epochs is a transient, not yet a warning
    expect(h.observe([pt('test/kl', 0.29, 2), pt('test/activeUnits', 1, 2)])).toEqual([]);
    const c = h.observe([pt('test/kl', 0.29, 3), pt('test/activeUnits', 1, 3)]);
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ code: 'posterior-collapse', active: true, metric: 'health/posteriorCollapse' });
    expect(healthLogLine(c[0]!)).toMatch(/Posterior collapse: test KL 0\.29 nats, 1 of 2 units active.*try/);
    expect(h.observe([pt('test/kl', 0.2)])).toEqual([]);
    expect(h.observe([pt('test/kl', 3), pt('test/activeUnits', 2)])[0]).toMatchObject({ active: false });
  });
  it('raises collapse when the active units drop to one of several', () => {
    const h = new HealthMonitor({ latentDim: 8, stochastic: true });
    h.observe([pt('test/kl', 9), pt('test/activeUnits', 3)]);
    expect(h.observe([pt('test/kl', 2, 5), pt('test/activeUnits', 1, 5)])[0]).toMatchObject({ code: 'posterior-collapse', active: true });
  });
  it('never raises collapse for deterministic autoencoders, nor for a healthy run', () => {
    const ae = new HealthMonitor({ latentDim: 2, stochastic: false });
    expect(ae.observe([pt('test/kl', 0)])).toEqual([]);
    const ok = new HealthMonitor({ latentDim: 20, stochastic: true });
    const changes = [];
    for (let e = 1; e <= 10; e++)
      changes.push(
        ...ok.observe([
          pt('train/loss', 200 - 8 * e, e),
          pt('train/kl', 20, e),
          pt('test/loss', 200 - 8 * e, e),
          pt('test/kl', 20, e),
          pt('test/activeUnits', 18, e),
        ]),
      );
    expect(changes).toEqual([]);
  });
  it('raises a plateau after five evaluations without improvement', () => {
    const h = new HealthMonitor({ latentDim: 2, stochastic: true });
    const all = [];
    for (const v of [150, 139, 139.5, 139.2, 139.1, 139.3, 139.2]) all.push(...h.observe([pt('test/loss', v)]));
    expect(all.map((c) => [c.code, c.active])).toEqual([['plateau', true]]);
  });
  it('raises divergence when the training loss climbs far above its best', () => {
    const h = new HealthMonitor({ latentDim: 2, stochastic: true });
    const all = [];
    for (const v of [300, 200, 150, 120, 110, 108, 400]) all.push(...h.observe([pt('train/loss', v)]));
    expect(all.map((c) => [c.code, c.active])).toEqual([['divergence', true]]);
  });
  it('calls a run diverged when the training loss stays far above its best for DIVERGE_WINDOW log points in a row', () => {
    const h = new HealthMonitor({ latentDim: 2, stochastic: true });
    for (const v of [300, 200, 150, 120, 110]) h.observe([pt('train/loss', v)]);
    // above for DIVERGE_WINDOW - 1 points, then back near the best: not diverged, the count starts again
    for (let i = 0; i < DIVERGE_WINDOW - 1; i++) h.observe([pt('train/loss', 400)]);
    expect(h.divergedWhy()).toBeNull();
    h.observe([pt('train/loss', 112)]);
    for (let i = 0; i < DIVERGE_WINDOW - 1; i++) h.observe([pt('train/loss', 5000)]);
    expect(h.divergedWhy()).toBeNull();
    h.observe([pt('train/loss', 5000)]);
    expect(h.divergedWhy()).toMatch(/^training diverged: .* \(110\.00\) for 10 log points in a row .*lower optimizer\.learningRate/);
  });
  it('judges against the starting loss when the loss was never good (lr 0.05: astronomically large from the first log point)', () => {
    const h = new HealthMonitor({ latentDim: 20, stochastic: true });
    h.setInitialLoss(549);
    const changes = [];
    for (let i = 0; i < DIVERGE_WINDOW; i++) changes.push(...h.observe([pt('train/loss', 1e24 * (1 + (i % 3)))]));
    expect(changes.map((c) => [c.code, c.active])).toEqual([['divergence', true]]);
    expect(h.divergedWhy()).toMatch(/\(549\.00\) for 10 log points/);
    // without the starting loss the same points are each other's best: never diverged
    const blind = new HealthMonitor({ latentDim: 20, stochastic: true });
    for (let i = 0; i < 3 * DIVERGE_WINDOW; i++) blind.observe([pt('train/loss', 1e24 * (1 + (i % 3)))]);
    expect(blind.divergedWhy()).toBeNull();
  });
  it('raises sigma-at-floor for a learned variance mostly at its floor', () => {
    const h = new HealthMonitor({ latentDim: 2, stochastic: true });
    expect(h.observe([pt('test/sigmaAtFloor', 0.1)])).toEqual([]);
    expect(h.observe([pt('test/sigmaAtFloor', 0.7)])[0]).toMatchObject({ code: 'sigma-at-floor', active: true });
  });
  it('raises variance overfitting for a learned sigma whose test loss rises while the training loss falls', () => {
    // the shape of the MNIST run with a learned σ: test loss from -1054.7 up to -989.0 over the last
    // evaluations while the training loss kept falling (train and test 517 nats apart at the end)
    const seq: [number, number][] = [
      [-900, -950],
      [-1000, -1030],
      [-1100, -1054.7],
      [-1250, -1040],
      [-1400, -1020],
      [-1506, -989],
    ];
    const run = (learnedSigma: boolean) => {
      const h = new HealthMonitor({ latentDim: 20, stochastic: true, learnedSigma });
      return seq.flatMap(([train, test], i) => h.observe([pt('train/loss', train, i + 1), pt('test/loss', test, i + 1)]));
    };
    const changes = run(true).filter((c) => c.code === 'variance-overfit');
    // -1040 is 14.7 nats above the best, beyond 1 % of 1054.7 (10.5 nats), with the training loss 150 nats lower
    expect(changes.map((c) => c.active)).toEqual([true]);
    expect(healthLogLine(changes[0]!)).toMatch(/Learned variance overfitting: test loss -1040\.00 against its best -1054\.70.*sigmaFloor/);
    // a fixed σ or a Bernoulli decoder: never this warning
    expect(run(false).filter((c) => c.code === 'variance-overfit')).toEqual([]);
    // a test loss that rises only within noise (below the margin), or with a training loss that rises too: no warning
    const h = new HealthMonitor({ latentDim: 20, stochastic: true, learnedSigma: true });
    const noisy = [
      [-100, -90],
      [-110, -95],
      [-120, -94],
      [-90, -80],
    ].flatMap(([train, test], i) => h.observe([pt('train/loss', train!, i + 1), pt('test/loss', test!, i + 1)]));
    expect(noisy.filter((c) => c.code === 'variance-overfit')).toEqual([]);
    // and it clears once the test loss comes back to its best
    const back = new HealthMonitor({ latentDim: 20, stochastic: true, learnedSigma: true });
    const all = [...seq, [-1600, -1060] as [number, number]].flatMap(([train, test], i) =>
      back.observe([pt('train/loss', train, i + 1), pt('test/loss', test, i + 1)]),
    );
    expect(all.filter((c) => c.code === 'variance-overfit').map((c) => c.active)).toEqual([true, false]);
  });
  it('raisedWarnings reads the health/* metrics of a run', () => {
    expect(raisedWarnings({ 'health/posteriorCollapse': 1, 'health/plateau': 0 }).map((w) => w.code)).toEqual(['posterior-collapse']);
  });
});
