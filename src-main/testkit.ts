// The built entry the integration suites load (out/main/testkit.js): exactly the modules they drive, taken
// from the same build (and the same shared chunks) as the app, the CLI and the web host. Tests import it
// through tests/built.ts; they never run these modules from the TypeScript sources.
export { exportRunBundle, importRunBundle } from './api/bundle-service';
export { HeavyWork, heavyWorkerEntry } from './api/heavy-work';
export { WorkbenchService } from './api/service';
export { benchStore } from './bench/store-bench';
export { expectedWeightShapes } from './checkpoints/architecture';
export { BundleError, buildBundle, packBundle, parseBundle } from './checkpoints/bundle';
export { checkBundleTotals } from './checkpoints/bundle-limits';
export { readCheckpointDir, writeCheckpointDir } from './checkpoints/checkpoint-dir';
export { parseCsv } from './data/csv';
export { downloadDataset, extractTarGz } from './data/download';
export { readMaybeGzip } from './data/idx';
export { FASHION_SYSTEM_DIR } from './data/idx-dataset';
export { parseImportFile } from './data/import-file';
export { clearDatasetMemo, loadDataset } from './data/registry';
export { DatasetError } from './data/types';
export { startWebHost } from './hosts/web/server';
export { writeFileAtomic } from './os/atomic-file';
export { ownerAlive, processStartToken } from './os/process-identity';
export { bucketCount, minMaxIndices, stepBuckets } from './store/downsample';
export { MetricWriter } from './store/metric-writer';
export { MIGRATIONS, SCHEMA_VERSION, SchemaVersionError, migrate } from './store/migrations';
export { RunNotFoundError, RunStore } from './store/run-store';
export { initBackend } from './train/backend';
export { readPng } from './train/png';
export { trainerEnv } from './train/trainer-launcher';
export { runTraining } from './train/training-loop';
export { corrupt } from './vae/corruption';
export { knnAccuracy } from './vae/diagnostics';
export { decoderMean } from './vae/likelihood';
export { VaeModel, modelSpecFromConfig } from './vae/model';
export { decodeMeans, encodeMeans, manifoldCodes, priorSamples, reconstruct } from './vae/sampling';
export { HEALTH_WARNINGS, raisedWarnings } from '@shared/health-warnings';
export { LIMITS } from '@shared/limits';
export { findPreset } from '@shared/presets';
export { mulberry32 } from '@shared/rng';
export { dataSchema, parseRunConfig, setByPath } from '@shared/run-config';
