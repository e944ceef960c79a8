// The built entry the integration suites load (out/main/testkit.js): exactly the modules they drive, taken
// from the same build (and the same shared chunks) as the app, the CLI and the web host. Tests import it
// through tests/built.ts; they never run these modules from the TypeScript sources.
export { WorkbenchService } from './api/service';
export { findPreset } from '@shared/presets';
export { parseRunConfig } from '@shared/run-config';
export { startWebHost } from './hosts/web/server';
export { readCheckpointDir } from './checkpoints/checkpoint-dir';
export { initBackend } from './train/backend';
export { readPng } from './train/png';
export { runTraining } from './train/training-loop';
export { RunStore } from './store/run-store';
export { MIGRATIONS, SCHEMA_VERSION, SchemaVersionError, migrate } from './store/migrations';
