// The example shape and kind of a run's dataset, found from its config and checked against its weights.
// The store records only the dataset id, so this is how exporters and generators learn [h, w, c].
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '@shared/run-config';
import { formatFromName, parseImportFile } from '../data/import-file';
import { listDatasets } from '../data/registry';
import { expectedWeightShapes, type InputShape } from './architecture';
import type { NamedTensor } from './checkpoint-dir';
import { ApiError } from '@shared/errors';

export interface DatasetShape {
  id: string;
  /** [h, w, c] of one example. */
  shape: InputShape;
  kind: 'image' | 'series';
}

export class DatasetShapeError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'DatasetShapeError';
  }
}

function shapesFit(config: RunConfig, shape: InputShape, weights: NamedTensor[]): boolean {
  const byName = new Map(weights.map((w) => [w.name, w.shape.join()]));
  const expected = expectedWeightShapes(config, shape);
  return expected.length === weights.length && expected.every((e) => byName.get(e.name) === e.shape.join());
}

/**
 * The dataset's example shape and kind for a run. The store keeps only the dataset id, so: ica-synthetic from the
 * config, an imported file by reading it (if it is still there), other datasets from the registry; as a last resort
 * (an MLP or gmm whose file is gone) a [1, d, 1] shape read off the weights. The result must fit the weights.
 */
export function resolveDataset(config: RunConfig, weights: NamedTensor[]): DatasetShape {
  const id = config.data.dataset;
  const candidates: DatasetShape[] = [];
  if (id === 'ica-synthetic') candidates.push({ id, shape: [1, config.data.observedDim, 1], kind: 'series' });
  else if (id === 'import') {
    const file = config.data.path ? path.resolve(config.data.path) : null;
    const format = config.data.format ?? (file ? formatFromName(file) : null);
    if (file && format && existsSync(file)) {
      try {
        const parsed = parseImportFile(file, format);
        candidates.push({ id, shape: parsed.shape, kind: parsed.kind });
      } catch {
        /* unreadable now: fall back to the weights */
      }
    }
  } else {
    const d = listDatasets().find((x) => x.id === id);
    if (d && d.shape.every((s) => s > 0)) candidates.push({ id, shape: d.shape, kind: d.kind });
  }
  const byName = new Map(weights.map((w) => [w.name, w]));
  const flatDim =
    byName.get('gmm/means')?.shape[1] ?? (config.model.arch === 'mlp' ? byName.get('decoder/out/kernel')?.shape[1] : undefined);
  if (flatDim) candidates.push({ id, shape: [1, flatDim, 1], kind: candidates[0]?.kind ?? 'image' });
  const fit = candidates.find((c) => shapesFit(config, c.shape, weights));
  if (!fit)
    throw new DatasetShapeError(
      `the checkpoint's weights do not fit the run's config on dataset "${id}"` +
        (candidates.length
          ? ` (tried shapes ${candidates.map((c) => `[${c.shape.join(', ')}]`).join(', ')})`
          : ' (its example shape is unknown)'),
    );
  return fit;
}
