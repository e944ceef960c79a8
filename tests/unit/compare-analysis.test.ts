// The pure logic behind issue 24's UI items and issue 26's moves out of the views: brush bounds, Compare's view as a URL,
// metric directions and units, keys that vary together, traversal captions, metric filters, the runs page cache.
import { describe, expect, it } from 'vitest';
import { boundText, passes, roundBound, snapRange } from '../../src-renderer/src/lib/brush';
import { decodeCompareState, defaultCompareState, encodeCompareState } from '../../src-renderer/src/lib/compare-state';
import { bestOf, metricAxisTitle, metricDirection } from '../../src-renderer/src/lib/metric-direction';
import { confoundedKeys, isEvalSetting } from '../../src-renderer/src/lib/confounding';
import { traversalCaption } from '../../src-renderer/src/lib/traversal-caption';
import { parseMetricFilters } from '../../src-renderer/src/lib/runs-query';
import { RunsPageCache } from '../../src-renderer/src/lib/runs-page-cache';
import { colorScaleFor } from '../../src-renderer/src/lib/color-scale';
import { allEpochs, chooseEpoch, epochMetricNames, loadEpochData, valueAt } from '../../src-renderer/src/lib/epoch-metrics';
import type { RunSummary } from '@shared/model-types';

function run(id: number, params: Record<string, string | number | null>, final: Record<string, number> = {}): RunSummary {
  return {
    id,
    name: `r${id}`,
    status: 'completed',
    createdAt: 0,
    startedAt: null,
    finishedAt: null,
    dataset: 'mnist',
    seed: 0,
    epoch: 1,
    step: 1,
    backend: 'wasm',
    appVersion: 't',
    tags: [],
    notes: '',
    parentId: null,
    imported: false,
    error: null,
    params,
    final,
  } as unknown as RunSummary;
}

describe('brush bounds', () => {
  it('snaps a drag that stops a hair short of a value to that value (latentDim = 20 is selected)', () => {
    const values = [20, 2, 11, 5, 20];
    const b = snapRange('model.latentDim', values, 8.2, 19.98, [7.9, 20.3]);
    expect(b).toEqual({ key: 'model.latentDim', min: 11, max: 20 });
    const runs = values.map((v, i) => run(i + 1, { 'model.latentDim': v }));
    expect(runs.filter((r) => passes(r, [b])).map((r) => r.id)).toEqual([1, 3, 5]);
  });
  it('with no value near, rounds the dragged range outwards', () => {
    expect(snapRange('k', [1, 100], 12.345, 56.789)).toEqual({ key: 'k', min: 12.3, max: 56.8 });
    expect(roundBound(0.0012345, 'down', 3)).toBe(0.00123);
    expect(roundBound(0.0012345, 'up', 3)).toBe(0.00124);
    expect(roundBound(-1.234, 'up', 2)).toBe(-1.2);
  });
  it('prints bounds exactly when short, else outwards', () => {
    expect(boundText(20, 'up')).toBe('20');
    expect(boundText(0.0003, 'down')).toBe('0.0003');
    expect(boundText(118.754321987, 'down')).toBe('118.754');
    expect(boundText(118.754321987, 'up')).toBe('118.755');
  });
});

describe("Compare's view as a URL query", () => {
  it('round-trips every setting, leaves defaults out and reads commas and slashes as typed', () => {
    const s = defaultCompareState([3, 1, 2]);
    expect(encodeCompareState(s)).toBe('ids=3,1,2');
    const full = {
      ...s,
      metric: 'test/loss',
      x: 'metric:test/kl',
      logY: true,
      smoothing: { kind: 'ema' as const, window: 25 },
      group: 'keys' as const,
      groupKeys: ['model.latentDim', 'objective.beta'],
      band: 'std' as const,
      colorBy: '',
      pcMetric: 'test/nll',
      axes: ['optimizer.name', 'model.latentDim', 'test/loss'],
      brushes: [
        { key: 'model.latentDim', min: 11, max: 20 },
        { key: 'optimizer.name', values: ['adam'] },
      ],
      scatter: { x: 'optimizer.learningRate', y: 'test/loss', color: 'seed', logX: true, logY: false },
      epoch: 3,
      showSame: true,
      hidden: ['rate' as const, 'traversals' as const],
    };
    const q = encodeCompareState(full);
    expect(q).toContain('metric=test/loss');
    expect(q).toContain('axes=optimizer.name,model.latentDim,test/loss');
    expect(decodeCompareState(new URLSearchParams(q))).toEqual(full);
    expect(encodeCompareState(decodeCompareState(new URLSearchParams(q)))).toBe(q);
  });
  it('ignores what is malformed instead of throwing', () => {
    const d = decodeCompareState(new URLSearchParams('ids=1,x,-2,1,3&smooth=ema:zz&group=bogus&brush={not json&epoch=abc&hide=rate,nope'));
    expect(d.ids).toEqual([1, 3]);
    expect(d.smoothing).toEqual({ kind: 'none', window: 100 });
    expect(d.group).toBe('none');
    expect(d.brushes).toEqual([]);
    expect(d.epoch).toBeNull();
    expect(d.hidden).toEqual(['rate']);
    expect(decodeCompareState(new URLSearchParams('brush=[{"key":"a","min":1},{"key":"b","min":1,"max":2}]')).brushes).toEqual([
      { key: 'b', min: 1, max: 2 },
    ]);
  });
});

describe('metric direction and units', () => {
  it('marks loss, nll and recon lower-is-better; KL and active units have no best', () => {
    expect(metricDirection('test/loss')).toBe('lower');
    expect(metricDirection('test/nll')).toBe('lower');
    expect(metricDirection('test/recon')).toBe('lower');
    expect(metricDirection('test/kl')).toBeNull();
    expect(metricDirection('test/activeUnits')).toBeNull();
    expect(metricDirection('test/activeUnitsCov')).toBeNull();
    expect(metricDirection('test/mcc')).toBe('higher');
    // the classifier FD is lower-is-better; n and k are settings with no best (issue 27)
    expect(metricDirection('test/fdClassifier')).toBe('lower');
    expect(metricDirection('test/nllLoss')).toBe('lower');
    for (const m of ['test/examples', 'test/nllExamples', 'test/nllK']) expect(metricDirection(m), m).toBeNull();
    expect(bestOf([3, 1, 2], 'test/kl')).toBeUndefined();
    expect(bestOf([3, 1, 2], 'test/loss')).toBe(1);
    expect(bestOf([3, undefined, NaN], 'test/loss')).toBeUndefined();
  });
  it('says nats per example for losses and the KL', () => {
    expect(metricAxisTitle('train/loss')).toBe('train/loss (nats / example)');
    expect(metricAxisTitle('test/kl')).toBe('test/kl (nats / example)');
    expect(metricAxisTitle('test/fid')).toBe('test/fid');
  });
});

describe('keys the runs cannot tell apart', () => {
  const rows = [
    { 'eval.iwSamples': 500, 'eval.fid': false, 'optimizer.learningRate': 0.05, 'model.latentDim': 20, 'optimizer.name': 'adam' },
    { 'eval.iwSamples': 100, 'eval.fid': true, 'optimizer.learningRate': 0.001, 'model.latentDim': 2, 'optimizer.name': 'sgd' },
    { 'eval.iwSamples': 500, 'eval.fid': false, 'optimizer.learningRate': 0.003, 'model.latentDim': 11, 'optimizer.name': 'adam' },
    { 'eval.iwSamples': 100, 'eval.fid': true, 'optimizer.learningRate': 0.01, 'model.latentDim': 5, 'optimizer.name': 'sgd' },
    { 'eval.iwSamples': 500, 'eval.fid': false, 'optimizer.learningRate': 0.0003, 'model.latentDim': 20, 'optimizer.name': 'adam' },
  ];
  it('finds keys whose values pair one to one (identical orderings), and only those', () => {
    const keys = ['eval.iwSamples', 'eval.fid', 'optimizer.learningRate', 'model.latentDim', 'optimizer.name'];
    expect(confoundedKeys(rows, keys)).toEqual([{ keys: ['eval.iwSamples', 'eval.fid', 'optimizer.name'], how: 'together', r: null }]);
    expect(confoundedKeys(rows, ['optimizer.learningRate', 'model.latentDim'])).toEqual([]);
  });
  it('flags numeric keys correlated beyond 0.95 and says eval.* are evaluation settings', () => {
    const b = [1, 2, 3.2, 3.1, 5, 6];
    const r = [1, 2, 3, 4, 5, 6].map((i) => ({ a: i, b: b[i - 1], c: i % 2, d: i * i }));
    const found = confoundedKeys(r, ['a', 'b', 'c']);
    expect(found.map((g) => [g.keys, g.how])).toEqual([[['a', 'b'], 'correlated']]);
    // identical orderings (a and its square) vary together
    expect(confoundedKeys(r, ['a', 'c', 'd']).map((g) => [g.keys, g.how])).toEqual([[['a', 'd'], 'together']]);
    expect(isEvalSetting('eval.fid')).toBe(true);
    expect(isEvalSetting('objective.beta')).toBe(false);
  });
});

describe('traversal captions', () => {
  it('name the dimension(s) and the range', () => {
    expect(traversalCaption({ dims: [3], range: [-3, 3] })).toBe(
      'Latent traversal of dimension z3; left to right z_j from -3 to 3, other coordinates 0',
    );
    expect(traversalCaption({ dims: [0, 1], range: [-3, 3] })).toBe(
      'Latent traversal of rows top to bottom: z0, z1; left to right z_j from -3 to 3, other coordinates 0',
    );
    expect(traversalCaption({})).toBe('');
  });
});

describe('metric filters typed in the Runs table', () => {
  it('parse conditions into runs.list metrics filters', () => {
    expect(parseMetricFilters('test/loss < 130, test/activeUnits >= 5')).toEqual({
      filters: [
        { key: 'test/loss', op: '<', value: 130 },
        { key: 'test/activeUnits', op: '>=', value: 5 },
      ],
      error: null,
    });
    expect(parseMetricFilters('test/kl!=0 and test/nll<=1e2').filters).toEqual([
      { key: 'test/kl', op: '!=', value: 0 },
      { key: 'test/nll', op: '<=', value: 100 },
    ]);
    expect(parseMetricFilters('').filters).toEqual([]);
    expect(parseMetricFilters('test/loss < abc').error).toMatch(/test\/loss < abc/);
    expect(parseMetricFilters('test/loss').error).toMatch(/<metric> <op> <number>/);
  });
});

describe('the Runs table page cache', () => {
  const all = Array.from({ length: 250 }, (_, i) => run(i + 1, {}));
  function harness(data: () => RunSummary[]) {
    const answers: number[] = [];
    const calls: number[] = [];
    const gates: (() => void)[] = [];
    let hold = false;
    const cache = new RunsPageCache(
      async (offset, limit) => {
        calls.push(offset);
        if (hold) await new Promise<void>((r) => gates.push(r));
        const d = data();
        return { runs: d.slice(offset, offset + limit), total: d.length };
      },
      (a) => answers.push(a.generation),
      (err) => {
        throw err;
      },
      100,
    );
    return { cache, answers, calls, gates, holdNext: (h: boolean) => (hold = h) };
  }

  it('fetches the pages a window needs, once each, and replaces one row in place', async () => {
    const h = harness(() => all);
    await h.cache.reset();
    expect(h.cache.total).toBe(250);
    expect(h.cache.rows.filter(Boolean)).toHaveLength(100);
    expect(h.cache.missingPages(90, 130)).toEqual([1]);
    h.cache.ensure(90, 130);
    h.cache.ensure(90, 130);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.calls).toEqual([0, 100]);
    expect(h.cache.missingPages(0, 200)).toEqual([]);
    const before = h.cache.rows;
    const after = h.cache.patch(150, (r) => ({ ...r, name: 'renamed' }))!;
    expect(after).not.toBe(before);
    expect(after[149]!.name).toBe('renamed');
    expect(h.cache.patch(999, (r) => r)).toBeNull();
  });

  it('drops the answer of an older query, and a new query leaves no row of the old one', async () => {
    let data = all;
    const h = harness(() => data);
    await h.cache.reset();
    h.cache.ensure(100, 250);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.cache.rows.filter(Boolean)).toHaveLength(250);
    // a slow page of the old query, then a new query (a filter keeping 150 runs) answers first
    h.holdNext(true);
    h.cache.refresh(100, 130);
    h.holdNext(false);
    data = all.filter((r) => r.id % 5 !== 0).slice(0, 150);
    await h.cache.reset();
    expect(h.cache.total).toBe(150);
    expect(h.cache.rows.filter(Boolean)).toHaveLength(100);
    expect(h.cache.missingPages(100, 150)).toEqual([1]);
    h.gates.forEach((g) => g());
    await new Promise((r) => setTimeout(r, 0));
    // the old query's late page was dropped: rows 100.. are still to fetch for the new query
    expect(h.cache.rows.slice(100).filter(Boolean)).toHaveLength(0);
    expect(new Set(h.answers).size).toBeGreaterThan(1);
  });

  it('a live refresh of an empty table fetches its first page', async () => {
    let data: RunSummary[] = [];
    const h = harness(() => data);
    await h.cache.reset();
    expect(h.cache.total).toBe(0);
    data = all.slice(0, 1);
    h.cache.refresh(0, 0);
    await new Promise((r) => setTimeout(r, 0));
    expect(h.cache.total).toBe(1);
  });
});

describe("Compare's colour scale and per-epoch loader (moved from Compare.svelte)", () => {
  it('colours by value in order for few numbers, log for a wide range, categorical otherwise, by run without a key', () => {
    const runs = [0.001, 0.01, 0.1].map((lr, i) => run(i + 1, { lr, opt: i % 2 ? 'sgd' : 'adam' }));
    const s = colorScaleFor(runs, 'lr');
    expect(s.continuous).toBe(true);
    expect(s.note).toBe('in value order');
    expect(s.legend.map((l) => l.label)).toEqual(['0.001', '0.01', '0.1']);
    const wide = Array.from({ length: 12 }, (_, i) => run(i + 1, { lr: 10 ** (-4 + i / 3) }));
    expect(colorScaleFor(wide, 'lr').note).toBe('log scale');
    const cat = colorScaleFor(runs, 'opt');
    expect(cat.continuous).toBe(false);
    expect(cat.legend.map((l) => l.label)).toEqual(['adam', 'sgd']);
    expect(cat.colors.get(1)).toBe(cat.colors.get(3));
    expect(colorScaleFor(runs, '').colors.size).toBe(3);
  });
  it('loads every per-epoch metric once and picks the last epoch every run reached', async () => {
    const calls: string[] = [];
    const series = async (input: { runIds: number[]; metric: string }) => {
      calls.push(input.metric);
      return input.runIds.map((runId) => ({
        runId,
        points: Array.from({ length: runId === 1 ? 3 : 5 }, (_, e) => ({ x: e + 1, y: 100 - e, step: (e + 1) * 10, epoch: e + 1 })),
      }));
    };
    expect(epochMetricNames(['train/loss', 'test/loss', 'val/kl', 'perf/x'])).toEqual(['test/loss', 'val/kl']);
    const data = await loadEpochData(series as never, [1, 2], ['test/loss', 'val/kl']);
    expect(calls).toEqual(['test/loss', 'val/kl']);
    expect(allEpochs(data)).toEqual([1, 2, 3, 4, 5]);
    expect(chooseEpoch(data, [1, 2], null)).toBe(3);
    expect(chooseEpoch(data, [1, 2], 5)).toBe(5);
    expect(chooseEpoch(data, [1, 2], 9)).toBe(3);
    expect(valueAt(data, 'test/loss', 2, 4)).toBe(97);
    expect(valueAt(data, 'test/loss', 1, 4)).toBeUndefined();
  });
});
