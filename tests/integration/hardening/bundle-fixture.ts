// A small valid bundle (MLP on an imported 4x4 dataset) and a repacker that edits it and keeps its checksums right.
import { createHash } from 'node:crypto';
import { unzipSync } from 'fflate';
import type { RunConfigInput } from '@shared/run-config';
import type { InputShape } from '../../../src-main/checkpoints/architecture';
import type { NamedTensor } from '../../../src-main/checkpoints/checkpoint-dir';
import { parseRunConfig, expectedWeightShapes, buildBundle, packBundle } from '../../built';

export function smallBundle(
  opts: { name?: string; tag?: string; poison?: number; dataset?: string; shape?: InputShape; dataPath?: string; format?: 'csv' } = {},
): Uint8Array {
  const shape: InputShape = opts.shape ?? [4, 4, 1];
  const dataset = opts.dataset ?? 'import';
  const configInput: RunConfigInput = {
    name: 'small',
    model: { hidden: [8], latentDim: 2 },
    data: dataset === 'import' ? { dataset, path: opts.dataPath ?? 'x.npy', ...(opts.format ? { format: opts.format } : {}) } : { dataset },
    training: { epochs: 2 },
  };
  const config = parseRunConfig(configInput);
  const weights: NamedTensor[] = expectedWeightShapes(config, shape).map((e, i) => {
    const data = new Float32Array(e.shape.reduce((a, b) => a * b, 1)).map((_, j) => Math.sin(i * 31 + j) * 0.1);
    if (i === 0 && opts.poison !== undefined) data[3] = opts.poison;
    return { name: e.name, shape: e.shape, data };
  });
  return buildBundle({
    appVersion: '0.0.0-test',
    createdAt: 1_700_000_100_000,
    run: {
      name: opts.name ?? 'small',
      config,
      configText: JSON.stringify(configInput),
      dataset: { id: dataset, shape, kind: 'image' },
      seed: 1,
      backend: 'wasm',
      status: 'completed',
      tags: [],
      notes: '',
      createdAt: 1_700_000_000_000,
      startedAt: 1_700_000_000_500,
      finishedAt: 1_700_000_090_000,
      sourceRunId: 1,
    },
    finalMetrics: {},
    metrics: [{ name: 'train/loss', step: 1, epoch: 1, time: 1_700_000_000_000, value: 1 }],
    checkpoint: { epoch: 1, step: 1, tag: opts.tag ?? 'last', metrics: {}, backend: 'wasm', createdAt: 1_700_000_080_000 },
    weights,
    optimizer: null,
    snapshots: [],
  });
}

/** Unzip, let `edit` change files and the manifest, recompute the manifest's entries (true sha256s), repack. */
export function repack(
  bytes: Uint8Array,
  edit: (files: Record<string, Uint8Array>, manifest: Record<string, any>) => void,
  compress: (path: string) => boolean = () => false,
  editManifestText: (json: string) => string = (json) => json,
): Uint8Array {
  const files = unzipSync(bytes);
  const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString()) as Record<string, any>;
  delete files['manifest.json'];
  edit(files, manifest);
  manifest.entries = Object.fromEntries(
    Object.entries(files).map(([p, d]) => [p, { sha256: createHash('sha256').update(d).digest('hex'), bytes: d.byteLength }]),
  );
  return packBundle([
    { path: 'manifest.json', data: new Uint8Array(Buffer.from(editManifestText(JSON.stringify(manifest)))), compress: true },
    ...Object.entries(files).map(([path, data]) => ({ path, data, compress: compress(path) })),
  ]);
}
