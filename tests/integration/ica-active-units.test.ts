// The nonlinear-ICA use of the AEVB notes: observations mixed from a known number of independent sources
// through a fixed nonlinear map. A VAE with a learned-variance Gaussian decoder and more latent dimensions
// than sources should switch off the surplus: the count of active units (KL_j > 0.01 nats) recovers the
// number of sources. A real training run on the wasm backend, seeded.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findPreset, parseRunConfig, initBackend, runTraining } from '../built';
import type { TrainerEvent } from '../../src-main/train/common/messages';

let backend = '';
beforeAll(async () => {
  backend = (await initBackend()).active;
});

async function activeUnits(sources: number, seed: number): Promise<number> {
  const preset = findPreset('nonlinear-ica')!;
  const config = parseRunConfig({ ...preset.config, seed, data: { ...preset.config.data, sources }, snapshots: { everyEpochs: 30 } });
  const events: TrainerEvent[] = [];
  const home = mkdtempSync(path.join(os.tmpdir(), 'vae-ica-'));
  const result = await runTraining({
    runId: 1,
    config,
    dataHome: home,
    runDir: path.join(home, 'run'),
    backend,
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
  });
  expect(result.status, result.error).toBe('completed');
  // The kl-per-dim artifact the UI draws says the same as the metric.
  const kl = events
    .filter((e): e is Extract<TrainerEvent, { type: 'artifact' }> => e.type === 'artifact' && e.kind === 'kl-per-dim')
    .pop()!;
  const artifact = JSON.parse(Buffer.from(kl.dataBase64, 'base64').toString('utf8')) as { klPerDim: number[]; activeUnits: number };
  expect(artifact.klPerDim).toHaveLength(8);
  expect(artifact.activeUnits).toBe(result.final['test/activeUnits']);
  return result.final['test/activeUnits']!;
}

describe('nonlinear ICA on ica-synthetic', () => {
  it('keeps as many latent dimensions active as there are sources (3 of 8)', async () => {
    expect(await activeUnits(3, 1)).toBe(3);
  });
  it('follows the number of sources (2 of 8)', async () => {
    expect(await activeUnits(2, 1)).toBe(2);
  });
});
