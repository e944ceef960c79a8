// The resource limits of bundle import, checked from the zip directory and the manifest before the big entries
// are inflated: entry count, total inflated size, the claimed dataset shape against the known dataset, the
// model's size; and, once the weights are read, their values (finite, within LIMITS.BUNDLE_MAX_ABS_WEIGHT).
import { LIMITS, limitError, type LimitName } from '@shared/limits';
import { parseRunConfig, type RunConfig } from '@shared/run-config';
import { listDatasets } from '../data/registry';
import type { InputShape } from './architecture';
import { BundleError } from './bundle-error';
import type { NamedTensor } from './checkpoint-dir';
import { checkModelSize } from './model-size';

/** A limit refusal as a BundleError (so every import refusal has one type), its message naming the limit. */
function over(what: string, value: number, limit: LimitName, unit?: string): BundleError {
  return new BundleError(limitError(what, value, limit, unit ? { unit } : {}).message);
}

/** Entry count and the sum of the entries' inflated sizes, as the central directory states them. */
export function checkBundleTotals(entries: { originalSize: number }[]): void {
  if (entries.length > LIMITS.BUNDLE_MAX_ENTRIES) throw over('the number of entries in the bundle', entries.length, 'BUNDLE_MAX_ENTRIES');
  const total = entries.reduce((n, e) => n + e.originalSize, 0);
  if (total > LIMITS.BUNDLE_MAX_INFLATED_BYTES)
    throw over('the bundle inflated (the sum of its entries)', total, 'BUNDLE_MAX_INFLATED_BYTES', 'bytes');
}

/**
 * The dataset the manifest claims must be the dataset the config names, with that dataset's real example shape,
 * and the model must respect MODEL_MAX_PARAMETERS and BUNDLE_MAX_WEIGHT_BYTES for that shape.
 */
export function checkBundleDataset(rawConfig: unknown, dataset: { id: string; shape: InputShape }, weightEntryBytes: number): void {
  let config: RunConfig;
  try {
    config = parseRunConfig(rawConfig);
  } catch {
    return; // reported later, in full, as "the run config does not validate"
  }
  const claimed = `[${dataset.shape.join(', ')}]`;
  if (config.data.dataset !== dataset.id)
    throw new BundleError(
      `damaged bundle: the manifest's dataset "${dataset.id}" is not the config's data.dataset "${config.data.dataset}"`,
    );
  let real: InputShape | null = null;
  if (dataset.id === 'ica-synthetic') real = [1, config.data.observedDim, 1];
  else if (dataset.id !== 'import') {
    const known = listDatasets().find((d) => d.id === dataset.id);
    if (known && known.shape.every((n) => n > 0)) real = known.shape;
  }
  if (real && real.join() !== dataset.shape.join())
    throw new BundleError(
      `damaged bundle: the manifest says dataset "${dataset.id}" has examples of shape ${claimed}, but its examples are [${real.join(', ')}]`,
    );
  let parameters: number;
  try {
    parameters = checkModelSize(config, dataset.shape, "the bundle's model");
  } catch (err) {
    throw new BundleError((err as Error).message);
  }
  if (parameters * 4 > LIMITS.BUNDLE_MAX_WEIGHT_BYTES)
    throw over("the bundle's weights", parameters * 4, 'BUNDLE_MAX_WEIGHT_BYTES', 'bytes');
  if (weightEntryBytes > LIMITS.BUNDLE_MAX_WEIGHT_BYTES + 1024 * 1024)
    throw over('the bundle entry weights.safetensors', weightEntryBytes, 'BUNDLE_MAX_WEIGHT_BYTES', 'bytes');
}

/** Every value finite and |v| <= max (default LIMITS.BUNDLE_MAX_ABS_WEIGHT); the error names the tensor and index. */
export function checkWeightValues(tensors: NamedTensor[], file: string, max: number = LIMITS.BUNDLE_MAX_ABS_WEIGHT): void {
  for (const t of tensors) {
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (!(v <= max && v >= -max)) {
        const what = Number.isNaN(v) ? 'NaN' : !Number.isFinite(v) ? String(v) : v.toExponential(3);
        throw new BundleError(
          `damaged bundle: ${file}: tensor "${t.name}" holds ${what} at index ${i}; weights must be finite with magnitude at most ${max} (BUNDLE_MAX_ABS_WEIGHT)`,
        );
      }
    }
  }
}
