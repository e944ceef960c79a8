import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '@shared/run-config';
import { writeCheckpointDir } from '../../src-main/checkpoints/checkpoint-dir';
import { generateFromCheckpoint } from '../../src-main/api/generate';
import { loadDataset } from '../../src-main/data/registry';
import { initBackend } from '../../src-main/train/compute/backend';
import { readPng } from '../../src-main/train/common/png';
import { fitGmm } from '../../src-main/vae/gmm';
import { modelSpecFromConfig, VaeModel } from '../../src-main/vae/model';
import { decodeMeans, encodeMeans } from '../../src-main/vae/sampling';

/** The grey value of pixel (x, y) of cell (row, col) of a grid PNG with 28x28 cells and 1px gaps. */
function cellPixel(png: { width: number; data: Buffer }, row: number, col: number, x: number, y: number): number {
  return png.data[((row * 29 + y) * png.width + col * 29 + x) * 4]!;
}

describe('generate from a checkpoint', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'gen-'));
  const config = parseRunConfig({ seed: 11, model: { hidden: [32], latentDim: 2 }, data: { dataset: 'mnist', testLimit: 50 } });
  let model: VaeModel;
  const dir = path.join(tmp, 'runs', '1', 'checkpoints', 'best');

  beforeAll(async () => {
    await initBackend();
    model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    writeCheckpointDir(dir, {
      runId: 1,
      epoch: 4,
      step: 40,
      config,
      weights: model.namedWeights(),
      optimizer: null,
      metrics: {},
      backend: tf.getBackend(),
      createdAt: Date.now(),
    });
  });
  afterAll(() => {
    model?.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('prior: decoder means of seeded N(0, I) codes, in a grid', async () => {
    const out = await generateFromCheckpoint(dir, { kind: 'prior', n: 9, seed: 4, dataHome: tmp });
    expect(out.mime).toBe('image/png');
    expect([out.width, out.height]).toEqual([3 * 28 + 2, 3 * 28 + 2]);
    expect(out.meta).toMatchObject({ rows: 3, cols: 3, count: 9, seed: 4, epoch: 4, step: 40 });
    const png = readPng(Buffer.from(out.dataBase64, 'base64'));
    const z = tf.tidy(() => tf.randomNormal([9, 2], 0, 1, 'float32', 4 + 1).dataSync() as Float32Array).slice(); // seeds shift by one (tfjs: 0 = unseeded)
    const means = decodeMeans(model, z, 9);
    for (const [k, x, y] of [
      [0, 14, 14],
      [4, 3, 20],
      [8, 27, 0],
    ] as const)
      expect(cellPixel(png, Math.floor(k / 3), k % 3, x, y)).toBe(Math.round(255 * means[k * 784 + y * 28 + x]!));
    const again = await generateFromCheckpoint(dir, { kind: 'prior', n: 9, seed: 4, dataHome: tmp });
    expect(again.dataBase64).toBe(out.dataBase64);
    const other = await generateFromCheckpoint(dir, { kind: 'prior', n: 9, seed: 5, dataHome: tmp });
    expect(other.dataBase64).not.toBe(out.dataBase64);
  });

  it("prior: seed 0 (the contract's default) is a seed too, the same images every time", async () => {
    const a = await generateFromCheckpoint(dir, { kind: 'prior', n: 9, seed: 0, dataHome: tmp });
    const b = await generateFromCheckpoint(dir, { kind: 'prior', n: 9, seed: 0, dataHome: tmp });
    expect(b.dataBase64).toBe(a.dataBase64);
  });

  it('reconstruct: real test digits above their reconstructions', async () => {
    const out = await generateFromCheckpoint(dir, { kind: 'reconstruct', n: 16, seed: 0, indices: [3, 7], dataHome: tmp });
    expect(out.meta).toMatchObject({ rows: 2, cols: 2, indices: [3, 7] });
    const png = readPng(Buffer.from(out.dataBase64, 'base64'));
    const data = await loadDataset(config.data, { dataHome: tmp, seed: config.seed });
    const x7 = data.test.x.subarray(7 * 784, 8 * 784);
    const recon = decodeMeans(model, encodeMeans(model, Float32Array.from(x7), 1), 1);
    let ink = 0;
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        expect(cellPixel(png, 0, 1, x, y)).toBe(Math.round(255 * x7[y * 28 + x]!));
        expect(cellPixel(png, 1, 1, x, y)).toBe(Math.round(255 * recon[y * 28 + x]!));
        ink += x7[y * 28 + x]!;
      }
    expect(ink).toBeGreaterThan(20); // a real digit, not an empty cell
    await expect(generateFromCheckpoint(dir, { kind: 'reconstruct', n: 1, seed: 0, indices: [50], dataHome: tmp })).rejects.toThrow(
      /index 50 is out of range/,
    );
  });

  it('traversal and interpolation', async () => {
    const t = await generateFromCheckpoint(dir, { kind: 'traversal', n: 5, seed: 0, dataHome: tmp });
    expect([t.width, t.height]).toEqual([5 * 28 + 4, 2 * 28 + 1]);
    expect(t.meta).toMatchObject({ dims: [0, 1], range: [-3, 3] });
    const png = readPng(Buffer.from(t.dataBase64, 'base64'));
    const expected = decodeMeans(model, new Float32Array([0, -3]), 1); // row 1 (dimension 1), first step
    expect(cellPixel(png, 1, 0, 10, 10)).toBe(Math.round(255 * expected[10 * 28 + 10]!));
    await expect(generateFromCheckpoint(dir, { kind: 'traversal', n: 5, seed: 0, indices: [2], dataHome: tmp })).rejects.toThrow(
      /dimension 2 does not exist/,
    );

    const i = await generateFromCheckpoint(dir, { kind: 'interpolate', n: 6, seed: 0, indices: [0, 1], dataHome: tmp });
    expect([i.width, i.height]).toEqual([6 * 28 + 5, 28]);
    expect(i.meta).toMatchObject({ from: 0, to: 1 });
  });

  it('gmm: prior draws only', async () => {
    const gmmConfig = parseRunConfig({ seed: 2, model: { kind: 'gmm', components: 2 }, data: { dataset: 'mnist' } });
    const data = await loadDataset({ ...gmmConfig.data, trainLimit: 200 }, { dataHome: tmp, seed: 2 });
    const gmm = await fitGmm(data.train.x, data.train.n, data.d, { components: 2, iterations: 3, seed: 2 });
    const gdir = path.join(tmp, 'runs', '2', 'checkpoints', 'last');
    writeCheckpointDir(gdir, {
      runId: 2,
      epoch: 1,
      step: 3,
      config: gmmConfig,
      weights: gmm.toNamedTensors(),
      optimizer: null,
      metrics: {},
      backend: 'cpu',
      createdAt: 0,
    });
    const out = await generateFromCheckpoint(gdir, { kind: 'prior', n: 4, seed: 1, dataHome: tmp });
    expect([out.width, out.height]).toEqual([2 * 28 + 1, 2 * 28 + 1]);
    await expect(generateFromCheckpoint(gdir, { kind: 'reconstruct', n: 4, seed: 1, dataHome: tmp })).rejects.toThrow(
      /only generate prior samples/,
    );
  });
});
