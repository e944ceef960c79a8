// The labels every view puts beside a figure: its n and k, the active-unit thresholds, and the classifier FD's name
// (old runs' test/fid read as test/fdClassifier).
import { describe, expect, it } from 'vitest';
import { canonicalFinal, canonicalMetricName, metricDefinition, metricLabel } from '@shared/metric-labels';

describe('metric labels', () => {
  const final = { 'test/examples': 2000, 'test/nllExamples': 1000, 'test/nllK': 100 };
  it('label each figure with the examples and samples it was computed on', () => {
    expect(metricLabel('test/loss', final)).toBe('test/loss (−ELBO, n 2,000)');
    expect(metricLabel('test/nll', final)).toBe('test/nll (k 100, n 1,000)');
    expect(metricLabel('test/nllLoss', final)).toBe('test/nllLoss (−ELBO, same n 1,000)');
    expect(metricLabel('test/inferenceGap', final)).toBe('test/inferenceGap (k 100, n 1,000)');
    expect(metricLabel('test/nll', {})).toBe('test/nll (k ?, n ?)');
    expect(metricLabel('test/loss', { ...final, 'test/lossCorrupted': 90 })).toBe('test/loss (clean, n 2,000)');
    expect(metricDefinition('test/inferenceGap')).toMatch(/grows with k/);
    expect(metricDefinition('test/activeUnits')).toMatch(/0\.01 nats/);
  });
  it('read the old test/fid as test/fdClassifier, never called FID', () => {
    expect(canonicalMetricName('test/fid')).toBe('test/fdClassifier');
    expect(metricLabel('test/fid')).toBe('test/fdClassifier (not FID)');
    expect(canonicalFinal({ 'test/fid': 9, 'test/loss': 1 })).toEqual({ 'test/fdClassifier': 9, 'test/loss': 1 });
    expect(canonicalFinal({ 'test/fid': 9, 'test/fdClassifier': 7 })).toEqual({ 'test/fdClassifier': 7 });
  });
});
