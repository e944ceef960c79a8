// The handlers that move runs out of and into the workbench: `runs.export` (runs or series as CSV/JSON) and
// `bundles.export` / `bundles.import` (one run as a verified zip). The heavy parts (queries, zip, checksums) run
// on the heavy worker (heavy-work.ts); only the store's writes of an import happen on the service's thread.
import { checkLimit } from '@shared/limits';
import type { RunStore } from '../store/run-store';
import type { DataHomeLayout } from './data-home';
import type { Handlers } from './handler-types';
import type { HeavyWork } from './heavy-work';

export interface ExportContext {
  store: RunStore;
  layout: DataHomeLayout;
  heavy: HeavyWork;
  appVersion: string;
  nativeBinding?: string;
  /** Write the trainers' pending metric points, so an export sees them. */
  flushMetrics(): void;
  /** Announce a run imported from a bundle (`run.created`). */
  onImported(runId: number): void;
}

export function exportHandlers(ctx: ExportContext): Pick<Handlers, 'runs.export' | 'bundles.export' | 'bundles.import'> {
  return {
    'runs.export': async (input) => {
      ctx.flushMetrics();
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      // Off the event loop (its own connection; WAL readers never block the writer).
      const text = await ctx.heavy.exportText({
        database: ctx.layout.database,
        nativeBinding: ctx.nativeBinding,
        what: input.what === 'series' ? 'series' : 'runs',
        format: input.format,
        runIds: input.matching ? ctx.store.matchingRunIds(input.matching) : input.runIds,
        metrics: input.metrics,
      });
      return {
        filename: `vae-workbench-${input.what}-${stamp}.${input.format}`,
        mime: input.format === 'csv' ? 'text/csv' : 'application/json',
        text,
      };
    },
    'bundles.export': async (input) => {
      const { prepareRunBundle } = await import('./bundle-service');
      const prepared = prepareRunBundle(ctx.store, input.runId, { appVersion: ctx.appVersion, checkpointId: input.checkpointId });
      const filename = prepared.filename;
      const bytes = await ctx.heavy.buildBundle(prepared.input); // zip + checksums off the event loop
      return { filename, dataBase64: Buffer.from(bytes).toString('base64'), bytes: bytes.byteLength };
    },
    'bundles.import': async (input) => {
      const { importRunBundle } = await import('./bundle-service');
      checkLimit('the bundle file', Math.floor((input.dataBase64.length * 3) / 4), 'BUNDLE_MAX_FILE_BYTES', { unit: 'bytes' });
      const bytes = new Uint8Array(Buffer.from(input.dataBase64, 'base64'));
      const parsed = await ctx.heavy.parseBundle(bytes); // verified off the event loop; only the writes happen here
      const result = importRunBundle(ctx.store, parsed, {
        again: input.again,
        dataHome: ctx.layout.root,
        runsDir: ctx.layout.runsDir,
      });
      ctx.onImported(result.runId);
      return { runId: result.runId };
    },
  };
}
