// The shape every dataset loader has; the registry lists them.
import type { RunConfig } from '@shared/run-config';
import type { DatasetDescriptor, LoadedDataset } from './types';

export type DataConfig = RunConfig['data'];

export interface LoadContext {
  dataHome: string;
  seed: number;
  onProgress?: (fraction: number, message: string) => void;
}

export interface DatasetLoader {
  id: string;
  /**
   * The descriptor as listed (availability checked against the default location), or, given `data`, for that
   * config (its data.path, sources, observedDim) without loading the data (import reads its file for the shape).
   */
  describe(opts: { dataHome?: string; data?: DataConfig }): DatasetDescriptor;
  /** What identifies one parsed result in the per-process cache (null = do not cache). */
  memoKey(data: DataConfig, ctx: LoadContext): string | null;
  /** Parse the full splits (no limits, no binarization: the registry applies those). */
  load(data: DataConfig, ctx: LoadContext): Promise<LoadedDataset>;
}

export const DIGIT_LABELS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
