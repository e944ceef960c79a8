// The run store: one SQLite file holding every run and what it produced. See run-store.ts.
export {
  RunStore,
  RunNotFoundError,
  type CreateRunInput,
  type OpenOptions,
  type StatusUpdate,
  type ParamFilter,
  type ParamValue,
  type RunQuery,
  type SeriesOptions,
  type ParamDiffRow,
  type NewArtifact,
  type NewCheckpoint,
  type RunBatch,
} from './run-store';
export { MetricWriter, type MetricWriterOptions } from './metric-writer';
export { MIGRATIONS, SCHEMA_VERSION, SchemaVersionError, migrate, type Migration } from './migrations';
