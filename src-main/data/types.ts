// What a dataset is to the rest of the app. Loaders live beside this file; the registry lists them.
import { ApiError } from '@shared/errors';

export interface DatasetDescriptor {
  id: string;
  title: string;
  description: string;
  /** [height, width, channels] for images; [1, observedDim, 1] for series. */
  shape: [number, number, number];
  kind: 'image' | 'series';
  /** Class names, or null when the dataset has no labels. */
  labels: string[] | null;
  /** Number of examples in each split (as loaded by default). */
  splits: { train: number; test: number };
  source: string;
  license: string;
  /** Whether the loader needs data.path (a local directory or file). */
  needsPath: boolean;
  /** Whether it can be loaded right now without further input, and if not, why. */
  available: boolean;
  unavailableReason?: string;
  /** Synthetic data with a known generative structure (ica-synthetic): the true number of sources. */
  trueSources?: number;
}

export interface Split {
  /** Row-major n x d values; images in [0, 1]. */
  x: Float32Array;
  /** Integer labels, or null. */
  y: Int32Array | null;
  n: number;
}

export interface LoadedDataset {
  descriptor: DatasetDescriptor;
  /** Features per example: h * w * c. */
  d: number;
  train: Split;
  test: Split;
  /** Synthetic data with known latent structure (ica-synthetic): the true sources of the test split, row-aligned (n x dim). */
  testSources?: { values: Float32Array; dim: number };
}

export class DatasetError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'DatasetError';
  }
}
