// The bench's split ceiling (src-main/bench/split-ceiling.ts) from the build: its probe threads
// (out/main/split-probe-worker.js) run the engine's real training step of the reference model, one thread at
// 400 hidden units on 128 rows, two together at 400 units on 64 rows (the data split) and at 200 units on 128 rows
// (the tensor split). The figures themselves belong to `npm run bench`; this checks that the probe runs and
// measures steps of the right sizes.
import { describe, expect, it } from 'vitest';
import { measureSplitCeiling } from '../built';

describe('the split ceiling of the data-parallel bench', () => {
  it('times the real step on threads started together, cut by rows and by hidden units', async () => {
    const logged: string[] = [];
    const r = await measureSplitCeiling(14, 1, (m) => logged.push(m));
    for (const ms of [r.oneThreadMs, r.halfAloneMs, r.freeSplitMs, r.dataSplitMs, r.tensorSplitMs]) {
      expect(Number.isFinite(ms)).toBe(true);
      expect(ms).toBeGreaterThan(0.5); // a 784-400-20 step is tens of milliseconds, never a no-op
    }
    // each half of a split does half the work of the whole step: beside its twin (and the rest of a test suite) it may
    // lose all of the gain, so this only bounds it loosely (the figures themselves are the bench's)
    expect(r.dataSplitMs).toBeLessThan(3 * r.oneThreadMs);
    expect(r.tensorSplitMs).toBeLessThan(3 * r.oneThreadMs);
    expect(r.dataSplitCeiling).toBeCloseTo(r.oneThreadMs / r.dataSplitMs, 9);
    expect(r.workCeiling).toBeCloseTo(r.oneThreadMs / r.halfAloneMs, 9);
    expect(r.freeSplitCeiling).toBeCloseTo(r.oneThreadMs / r.freeSplitMs, 9);
    // half the rows is less work than all of them, alone on a core
    expect(r.halfAloneMs).toBeLessThan(r.oneThreadMs);
    // the ceilings are of the mean step (each step the slower twin's); the median step's are kept beside them
    expect(r.medians.dataSplitMs).toBeGreaterThan(0.5);
    expect(r.medians.dataSplitCeiling).toBeCloseTo(r.medians.oneThreadMs / r.medians.dataSplitMs, 9);
    expect(r.repeats).toHaveLength(1);
    expect(logged.some((m) => m.includes('tensor split'))).toBe(true);
  }, 120_000);
});
