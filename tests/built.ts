// The integration suites drive the build users run (out/main/testkit.js, an entry of electron-vite's main
// build sharing its chunks with index.js, cli.js and trainer.js), typed from the sources. tests/global-setup.ts
// rebuilds out/ when it is older than the sources, so this is never a stale artifact. vitest.config.ts keeps
// out/ external: Node itself loads the bundle, as it does for users.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Kit from '../src-main/testkit';

export const ROOT = path.resolve(import.meta.dirname, '..');
export const TESTKIT = path.join(ROOT, 'out', 'main', 'testkit.js');
if (!existsSync(TESTKIT)) throw new Error(`${TESTKIT} is not built (run \`npm run build\`)`);

const kit = (await import(pathToFileURL(TESTKIT).href)) as typeof Kit;

export const {
  BundleError,
  DatasetError,
  FASHION_SYSTEM_DIR,
  HEALTH_WARNINGS,
  HeavyWork,
  LIMITS,
  MIGRATIONS,
  MetricWriter,
  RunNotFoundError,
  RunStore,
  SCHEMA_VERSION,
  SchemaVersionError,
  VaeModel,
  WorkbenchService,
  DataParallelSteps,
  EvalHelper,
  CTRL,
  ShardViews,
  createShardBuffers,
  exportReplicaState,
  benchStore,
  measureSplitCeiling,
  bucketCount,
  buildBundle,
  checkBundleTotals,
  clearDatasetMemo,
  corrupt,
  createOptimizer,
  dataSchema,
  decodeMeans,
  decoderMean,
  downloadDataset,
  encodeMeans,
  expectedWeightShapes,
  evaluateSplit,
  activeUnitsCov,
  exportRunBundle,
  extractTarGz,
  findPreset,
  heavyWorkerEntry,
  importRunBundle,
  prepareRunBundle,
  initBackend,
  knnAccuracy,
  getFeatureExtractor,
  loadDataset,
  manifoldCodes,
  migrate,
  minMaxIndices,
  modelSpecFromConfig,
  mulberry32,
  ownerAlive,
  packBundle,
  parseBundle,
  parseCsv,
  parseImportFile,
  parseRunConfig,
  parseUntrustedJson,
  readRegularFile,
  TaskHomeStore,
  UntrustedError,
  priorSamples,
  processStartToken,
  raisedWarnings,
  readCheckpointDir,
  readMaybeGzip,
  readPng,
  reconstruct,
  runTraining,
  setByPath,
  sharedCopy,
  startWebHost,
  stepBuckets,
  trainerEnv,
  writeCheckpointDir,
  writeFileAtomic,
} = kit;
export type BundleError = Kit.BundleError;
export type DatasetError = Kit.DatasetError;
export type HeavyWork = Kit.HeavyWork;
export type MetricWriter = Kit.MetricWriter;
export type RunNotFoundError = Kit.RunNotFoundError;
export type RunStore = Kit.RunStore;
export type SchemaVersionError = Kit.SchemaVersionError;
export type VaeModel = Kit.VaeModel;
export type WorkbenchService = Kit.WorkbenchService;
export type { WebHost } from '../src-main/hosts/web/server';
export type { RunConfigInput } from '@shared/run-config';
export type { TrainingResult } from '../src-main/train/process/run-training';
