// The pure logic behind issue 24's Compare items and issue 26's moves: brush bounds that name what they select.
import { describe, expect, it } from 'vitest';
import { boundText, passes, roundBound, snapRange } from '../../src-renderer/src/lib/brush';
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
