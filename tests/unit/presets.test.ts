// The launch presets are valid run configs and say what the papers/examples they name say.
import { describe, expect, it } from 'vitest';
import { PRESETS, findPreset, presetConfig } from '@shared/presets';
import { parseRunConfig } from '@shared/run-config';

describe('launch presets', () => {
  it('every preset parses with the run-config schema and has a unique id', () => {
    const ids = new Set<string>();
    for (const p of PRESETS) {
      expect(() => parseRunConfig(p.config), p.id).not.toThrow();
      expect(ids.has(p.id), p.id).toBe(false);
      ids.add(p.id);
      expect(p.title.length).toBeGreaterThan(3);
      expect(p.source.length).toBeGreaterThan(3);
    }
  });

  it('reproduces the named setups', () => {
    const kw = parseRunConfig(findPreset('kingma-welling-mnist-z20')!.config);
    expect(kw.model).toMatchObject({ hidden: [500], activation: 'tanh', latentDim: 20, initStd: 0.01 });
    expect(kw.optimizer).toMatchObject({ name: 'adagrad', learningRate: 0.01 });
    expect(kw.training.batchSize).toBe(100);
    expect(kw.objective.mcSamples).toBe(1);
    expect(PRESETS.filter((p) => p.id.startsWith('kingma-welling-mnist-z')).map((p) => parseRunConfig(p.config).model.latentDim)).toEqual([
      3, 5, 10, 20, 200,
    ]);

    const keras = parseRunConfig(findPreset('keras-classic')!.config);
    expect(keras.model).toMatchObject({ hidden: [256], activation: 'relu', latentDim: 2 });
    expect(keras.optimizer.name).toBe('rmsprop');
    expect(keras.training).toMatchObject({ batchSize: 100, epochs: 300 }); // the script's 30,000 updates on 10,000 digits
    expect(keras.snapshots.manifoldSize).toBe(15);
    expect(keras.data).toMatchObject({ dataset: 'mnist', trainOnTest: true }); // keras.io trains on train + test

    const torch = parseRunConfig(findPreset('pytorch-examples')!.config);
    expect(torch.model).toMatchObject({ hidden: [400], latentDim: 20, activation: 'relu' });
    expect(torch.optimizer).toMatchObject({ name: 'adam', learningRate: 0.001 });
    expect(torch.training).toMatchObject({ batchSize: 128, epochs: 10 });

    for (const k of [5, 50]) {
      const iwae = parseRunConfig(findPreset(`iwae-k${k}`)!.config);
      expect(iwae.model).toMatchObject({ kind: 'iwae', hidden: [200, 200], latentDim: 50, activation: 'tanh' });
      expect(iwae.objective.iwSamples).toBe(k);
    }

    const phys = parseRunConfig(findPreset('phys449')!.config);
    expect(phys.data.dataset).toBe('mnist-14x14-even');
    expect(phys.model).toMatchObject({ likelihood: 'gaussian', hidden: [128] });

    expect(parseRunConfig(findPreset('beta-vae-4')!.config).objective.beta).toBe(4);
    expect(parseRunConfig(findPreset('dae-mask')!.config).model).toMatchObject({ kind: 'dae', corruption: 'mask', corruptionLevel: 0.3 });

    const sweep = findPreset('kingma-welling-sweep')!;
    expect(sweep.sweep).toEqual([{ key: 'model.latentDim', values: [3, 5, 10, 20, 200] }]);
    expect(parseRunConfig(sweep.config).model).toMatchObject({ hidden: [500], activation: 'tanh', initStd: 0.01 });
    expect(phys.model.sigma).toBe(0.1);

    const quick = parseRunConfig(findPreset('quick-test')!.config);
    expect(quick.data).toMatchObject({ trainLimit: 0, testLimit: 500 });
    expect(quick.training.epochs).toBe(3);
    expect(quick.eval).toMatchObject({ iwSamples: 50, fid: false });
  });

  it('a preset that prefers a larger dataset takes it only when it is available, and every preference parses', () => {
    const keras = findPreset('keras-classic')!;
    expect(keras.prefers?.dataset).toBe('mnist-full');
    const bundled = presetConfig(keras, ['mnist', 'fashion-mnist']);
    expect(bundled.usesPreferred).toBe(false);
    expect(parseRunConfig(bundled.config).data.dataset).toBe('mnist');
    const full = presetConfig(keras, ['mnist', 'mnist-full']);
    expect(full.usesPreferred).toBe(true);
    const parsed = parseRunConfig(full.config);
    expect(parsed.data).toMatchObject({ dataset: 'mnist-full', trainOnTest: true });
    expect(parsed.training).toMatchObject({ batchSize: 100, epochs: 50 }); // the Keras script's 50 epochs on all of MNIST
    expect(parsed.model).toMatchObject({ hidden: [256], latentDim: 2 }); // the rest of the preset is kept
    // the preset itself is not changed by resolving it
    expect(parseRunConfig(keras.config).data.dataset).toBe('mnist');
    for (const p of PRESETS.filter((q) => q.prefers)) {
      expect(() => parseRunConfig(presetConfig(p, [p.prefers!.dataset]).config), p.id).not.toThrow();
      expect(p.description, p.id).toContain(p.prefers!.dataset);
    }
  });
});
