import { describe, expect, it } from 'vitest';
import { ConfigError, flattenConfig, parseRunConfig, setByPath } from '@shared/run-config';

describe('run config', () => {
  it('fills defaults for an empty config', () => {
    const c = parseRunConfig({});
    expect(c.data.dataset).toBe('mnist');
    expect(c.model.latentDim).toBe(20);
    expect(c.training.batchSize).toBe(128);
    expect(c.eval.iwSamples).toBe(100);
  });
  it('refuses a negative latent size naming model.latentDim', () => {
    expect(() => parseRunConfig({ model: { latentDim: -3 } })).toThrow(/model\.latentDim/);
    try {
      parseRunConfig({ model: { latentDim: -3 } });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).issues[0]!.path).toBe('model.latentDim');
    }
  });
  it("training.dataParallel: 'auto' by default, a shard count from 1 to 8, anything else refused by name", () => {
    expect(parseRunConfig({}).training.dataParallel).toBe('auto');
    expect(parseRunConfig({ training: { dataParallel: 2 } }).training.dataParallel).toBe(2);
    for (const bad of [0, 9, 1.5, 'fast', '2'])
      expect(() => parseRunConfig({ training: { dataParallel: bad } })).toThrow(/training\.dataParallel/);
  });
  it('refuses unknown keys naming them', () => {
    expect(() => parseRunConfig({ model: { latentDims: 3 } })).toThrow(/latentDims/);
  });
  it('sets dotted paths with JSON values', () => {
    const c: Record<string, unknown> = {};
    setByPath(c, 'model.latentDim', '2');
    setByPath(c, 'model.hidden', '[256,128]');
    setByPath(c, 'name', 'hello');
    expect(parseRunConfig(c).model).toMatchObject({ latentDim: 2, hidden: [256, 128] });
    expect(flattenConfig(parseRunConfig(c))['model.hidden']).toBe('[256,128]');
  });
});

describe('validation split', () => {
  it('trains on the whole training split by default, and early stopping asks for a validation split by name', () => {
    expect(parseRunConfig({}).data.validationFraction).toBe(0);
    expect(() => parseRunConfig({ training: { earlyStoppingPatience: 3 } })).toThrow(/data\.validationFraction/);
    expect(
      parseRunConfig({ training: { earlyStoppingPatience: 3 }, data: { validationFraction: 0.1 } }).training.earlyStoppingPatience,
    ).toBe(3);
  });
});
