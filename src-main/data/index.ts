// The datasets layer's public surface.
export { listDatasets, describeDataset, loadDataset, knownDatasetIds, clearDatasetMemo } from './registry';
export { downloadDataset, DOWNLOADS, type DownloadOptions, type DownloadResult } from './download';
export { binarizeStatic, splitValidation, limitSplit } from './split-utils';
export { generateIcaSynthetic, type IcaSynthetic } from './ica-synthetic';
export { DatasetError, type DatasetDescriptor, type LoadedDataset, type Split } from './types';
