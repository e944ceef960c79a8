// The heavy operations themselves, the same code in the worker thread and (where the worker is not built) inline.
// `generate` loads the checkpoint and (for reconstructions) the dataset, which may be large and hostile: it runs
// here, off the host's main thread, with its own tfjs backend.
import type { ApiErrorCode } from '@shared/errors';
import { buildBundle, parseBundle, type BundleInput, type ParsedBundle } from '../checkpoints/bundle';
import { RunStore } from '../store/run-store';
import type { GenerateOptions } from './generate';
import type { EvaluateOptions } from './evaluate-checkpoint';

export type HeavyOp =
  | { op: 'parseBundle'; bytes: Uint8Array }
  | { op: 'buildBundle'; input: BundleInput }
  | {
      op: 'exportText';
      database: string;
      nativeBinding?: string;
      what: 'runs' | 'series';
      format: 'csv' | 'json';
      runIds?: number[];
      metrics?: string[];
    }
  | { op: 'generate'; dir: string; options: GenerateOptions }
  | { op: 'evaluate'; dir: string; options: EvaluateOptions };

export type HeavyRequest = HeavyOp & { id: number };
/** An error crosses back with its name, message and, for an ApiError, its code (so the caller re-throws an ApiError). */
export type HeavyResponse =
  { id: number; ok: true; result: unknown } | { id: number; ok: false; error: { name: string; message: string; code?: ApiErrorCode } };

/** Give every large array its own buffer (copied here, on the worker) so it can be moved, not cloned, to the caller. */
function collectBuffers(value: ParsedBundle, transfer: ArrayBuffer[]): void {
  const own = <T extends Uint8Array | Float32Array>(a: T): T => {
    const b = (
      a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !transfer.includes(a.buffer as ArrayBuffer) ? a : a.slice()
    ) as T;
    if (b.buffer instanceof ArrayBuffer) transfer.push(b.buffer);
    return b;
  };
  for (const w of value.weights) w.data = own(w.data);
  for (const s of value.optimizer?.slots ?? []) s.data = own(s.data);
  for (const s of value.snapshots) s.data = own(s.data);
}

async function generate(dir: string, options: GenerateOptions): Promise<unknown> {
  const { initBackend } = await import('../train/compute/backend');
  await initBackend();
  const { generateFromCheckpoint } = await import('./generate');
  return generateFromCheckpoint(dir, options);
}

async function evaluate(dir: string, options: EvaluateOptions): Promise<unknown> {
  const { initBackend } = await import('../train/compute/backend');
  await initBackend();
  const { evaluateCheckpoint } = await import('./evaluate-checkpoint');
  return evaluateCheckpoint(dir, options);
}

/** Run one operation; buffers that may be moved (not copied) to the caller are pushed onto `transfer`. */
export function runHeavyOp(request: HeavyOp, transfer: ArrayBuffer[] = []): unknown {
  switch (request.op) {
    case 'generate':
      return generate(request.dir, request.options);
    case 'evaluate':
      return evaluate(request.dir, request.options);
    case 'parseBundle': {
      const parsed = parseBundle(request.bytes);
      collectBuffers(parsed, transfer);
      return parsed;
    }
    case 'buildBundle': {
      const bytes = buildBundle(request.input);
      if (bytes.buffer instanceof ArrayBuffer && bytes.byteLength === bytes.buffer.byteLength) transfer.push(bytes.buffer);
      return bytes;
    }
    case 'exportText': {
      const store = RunStore.open(request.database, request.nativeBinding ? { nativeBinding: request.nativeBinding } : undefined);
      try {
        return request.what === 'series'
          ? store.exportSeries(request.format, request.runIds ?? store.listRuns({}).runs.map((r) => r.id), request.metrics)
          : store.exportRuns(request.format, request.runIds);
      } finally {
        store.close();
      }
    }
  }
}
