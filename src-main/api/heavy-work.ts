// The service's handle on the heavy-work worker thread (out/main/heavy-worker.js): one worker, started on first
// use, unref'd (it never keeps a process alive), restarted after a crash. Errors come back with their name and
// message and API code, re-thrown as an ApiError with that code. Where the worker entry
// is not built, the operation runs inline (same code, on the caller's thread).
import { Worker } from 'node:worker_threads';
import type { BundleInput, ParsedBundle } from '../checkpoints/bundle';
import { ApiError, type ApiErrorCode } from '@shared/errors';
import { builtEntry } from '../os/built-entry';
import { runHeavyOp, type HeavyOp, type HeavyResponse } from './heavy-ops';

/** `<build>/heavy-worker.js` beside the bundle this code is in, or `<root>/out/main/heavy-worker.js` from the sources. */
export function heavyWorkerEntry(): string | null {
  return builtEntry('heavy-worker.js');
}

/** An error the worker threw: an ApiError again with its code (BundleError, LimitError, ...), else internal. */
class HeavyWorkerError extends ApiError {
  constructor(name: string, message: string, code: ApiErrorCode = 'internal') {
    super(code, message);
    this.name = name;
  }
}

export class HeavyWork {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly entry: string | null = heavyWorkerEntry()) {}

  /** `bytes` is moved to the worker (the caller must not use it afterwards). */
  parseBundle(bytes: Uint8Array): Promise<ParsedBundle> {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const own = whole ? bytes : bytes.slice(); // a memcpy here is far cheaper than cloning on postMessage
    return this.run({ op: 'parseBundle', bytes: own }, [own.buffer as ArrayBuffer]) as Promise<ParsedBundle>;
  }

  buildBundle(input: BundleInput): Promise<Uint8Array> {
    return this.run({ op: 'buildBundle', input }) as Promise<Uint8Array>;
  }

  exportText(request: Omit<Extract<HeavyOp, { op: 'exportText' }>, 'op'>): Promise<string> {
    return this.run({ op: 'exportText', ...request }) as Promise<string>;
  }

  /** Whether operations run on a worker thread (false: inline, the worker entry is not built). */
  get offThread(): boolean {
    return this.entry !== null;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private run(op: HeavyOp, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (!this.entry) return Promise.resolve().then(() => runHeavyOp(op));
    const worker = this.ensureWorker(this.entry);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ ...op, id }, transfer);
    });
  }

  private ensureWorker(entry: string): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(entry);
    worker.unref();
    worker.on('message', (m: HeavyResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (!this.pending.size) worker.unref();
      if (m.ok) p.resolve(m.result);
      else p.reject(new HeavyWorkerError(m.error.name, m.error.message, m.error.code));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const p of this.pending.values()) p.reject(new Error(`the heavy-work thread stopped: ${err.message}`));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
