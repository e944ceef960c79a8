// Pure helpers of the renderer: form text parsing, sweep values, JSON artifact readers, smoothing, colours.
import { describe, expect, it } from 'vitest';
import {
  FIELD_GROUPS,
  fieldText,
  getPath,
  parseFieldText,
  parseSweepValue,
  setPath,
  splitTopLevel,
} from '../../src-renderer/src/lib/config-fields';
import { flattenConfig, parseRunConfig } from '@shared/run-config';
import { readKl, readScatter } from '../../src-renderer/src/lib/artifact-json';
import { viridis, withAlpha } from '../../src-renderer/src/lib/colors';
import { fmtDuration, fmtNum } from '../../src-renderer/src/lib/format';
import { atEpoch, newestByKind } from '../../src-renderer/src/lib/artifact-select';
import type { ArtifactMeta } from '@shared/model-types';

describe('launch form fields', () => {
  it('cover every key of the run config (a new schema key needs a form field)', () => {
    const keys = Object.keys(flattenConfig(parseRunConfig({})));
    const fields = new Set(FIELD_GROUPS.flatMap((g) => g.fields.map((f) => f.path)));
    // optional keys without a default do not appear in the flattened defaults
    for (const optional of ['data.path', 'data.format']) expect(fields.has(optional)).toBe(true);
    expect(keys.filter((k) => !fields.has(k))).toEqual([]);
  });
});

describe('launch form text', () => {
  it('parses numbers and lists, and leaves bad text as text so validation names the field', () => {
    expect(parseFieldText('int', ' 20 ')).toBe(20);
    expect(parseFieldText('number', '1e-3')).toBe(0.001);
    expect(parseFieldText('number', 'abc')).toBe('abc');
    expect(parseFieldText('intlist', '200, 200')).toEqual([200, 200]);
    expect(parseFieldText('intlist', '500 x')).toBe('500 x');
    expect(parseFieldText('taglist', 'a, b ,,c')).toEqual(['a', 'b', 'c']);
    expect(fieldText('intlist', [200, 200])).toBe('200, 200');
  });

  it('sets and reads dotted paths', () => {
    const o: Record<string, unknown> = { model: { latentDim: 2 } };
    setPath(o, 'model.latentDim', 5);
    setPath(o, 'data.path', '/x');
    expect(getPath(o, 'model.latentDim')).toBe(5);
    expect(getPath(o, 'data.path')).toBe('/x');
    setPath(o, 'data.path', undefined);
    expect(getPath(o, 'data.path')).toBeUndefined();
  });

  it('splits sweep values on top-level commas and types them', () => {
    expect(splitTopLevel('2, 10,[200,200], x')).toEqual(['2', '10', '[200,200]', 'x']);
    expect(['1e-3', 'true', 'null', 'adam'].map(parseSweepValue)).toEqual([0.001, true, null, 'adam']);
    expect(splitTopLevel('[400], [200, 200]').map(parseSweepValue)).toEqual([[400], [200, 200]]);
    expect(parseSweepValue('[400, "x"]')).toBe('[400, "x"]');
  });
});

describe('JSON artifacts', () => {
  it('reads scatter points in the shapes a trainer may write', () => {
    expect(
      readScatter(
        {
          points: [
            [1, 2],
            [3, 4],
          ],
          labels: [0, 1],
        },
        'latent-scatter',
      ).points,
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(readScatter({ points: [{ x: 1, y: 2 }], labels: [7] }, 'latent-scatter').points).toEqual([[1, 2]]);
    const pca = readScatter({ points: [1, 2, 3, 4], labels: [0, 1] }, 'latent-pca');
    expect(pca.points).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(pca.axes).toEqual(['PC 1', 'PC 2']);
  });

  it('reads KL per dimension from an array or an object', () => {
    expect(readKl([0.1, 2])).toEqual([0.1, 2]);
    expect(readKl({ values: [1, 2, 3] })).toEqual([1, 2, 3]);
    expect(readKl({ threshold: 0.01, perDimension: [4, 5] })).toEqual([4, 5]);
  });
});

describe('artifact selection', () => {
  const a = (id: number, kind: ArtifactMeta['kind'], epoch: number): ArtifactMeta => ({
    id,
    runId: 1,
    kind,
    epoch,
    step: epoch * 10,
    mime: 'image/png',
    width: 1,
    height: 1,
    meta: {},
    createdAt: 0,
  });
  it('picks the newest per kind and the one at or before an epoch', () => {
    const list = [a(1, 'prior-samples', 1), a(2, 'prior-samples', 3), a(3, 'manifold', 2)];
    expect(newestByKind(list).get('prior-samples')!.id).toBe(2);
    expect(
      atEpoch(
        list.filter((x) => x.kind === 'prior-samples'),
        2,
      )!.id,
    ).toBe(1);
    expect(
      atEpoch(
        list.filter((x) => x.kind === 'prior-samples'),
        0,
      ),
    ).toBeNull();
  });
});

describe('formatting and colours', () => {
  it('formats numbers and durations for dense tables', () => {
    expect(fmtNum(98.23456)).toBe('98.23');
    expect(fmtNum(0.0003)).toBe('3.00e-4');
    expect(fmtNum(undefined)).toBe('—');
    expect(fmtDuration(75)).toBe('1m 15s');
    expect(fmtDuration(3720)).toBe('1h 02m');
  });
  it('maps [0,1] onto viridis end points', () => {
    expect(viridis(0)).toBe('rgb(68, 1, 84)');
    expect(viridis(1)).toBe('rgb(253, 231, 37)');
    expect(withAlpha('#ff0000', 0.5)).toBe('rgba(255, 0, 0, 0.5)');
  });
});
