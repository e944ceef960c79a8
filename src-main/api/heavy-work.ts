// The service's handle on the heavy-work worker thread (out/main/heavy-worker.js): one worker, started on first
// use, unref'd (it never keeps a process alive), restarted after a crash. Errors come back with their name and
// message and API code, re-thrown as an ApiError with that code. Every call settles: a reply that cannot be
// deserialized ('messageerror'), a worker error or exit, or a call past its deadline (LIMITS.HEAVY_CALL_DEADLINE_MS)
// rejects every pending call and terminates the worker, so a caller's heavy slot is always freed. Where the worker entry
// is not built, the operation runs inline (same code, on the caller's thread).
import { Worker } from 'node:worker_threads';
import type { BundleInput, ParsedBundle } from '../checkpoints/bundle';
import { ApiError, type ApiErrorCode } from '@shared/errors';
import { LIMITS } from '@shared/limits';
import { builtEntry } from '../os/built-entry';
import { runHeavyOp, type HeavyOp, type HeavyResponse } from './heavy-ops';
import type { GeneratedImage, GenerateOptions } from './generate';
import type { CheckpointEvaluation, EvaluateOptions } from './evaluate-checkpoint';

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

  constructor(
    private readonly entry: string | null = heavyWorkerEntry(),
    private readonly deadlineMs: number = LIMITS.HEAVY_CALL_DEADLINE_MS,
  ) {}

  /** `bytes` is moved to the worker (the caller must not use it afterwards). */
  parseBundle(bytes: Uint8Array): Promise<ParsedBundle> {
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const own = whole ? bytes : bytes.slice(); // a memcpy here is far cheaper than cloning on postMessage
    return this.run({ op: 'parseBundle', bytes: own }, [own.buffer as ArrayBuffer]) as Promise<ParsedBundle>;
  }

  buildBundle(input: BundleInput): Promise<Uint8Array> {
    return this.run({ op: 'buildBundle', input }) as Promise<Uint8Array>;
  }

  /** Images from a checkpoint (the dataset, for reconstructions, is loaded on the worker). */
  generate(dir: string, options: GenerateOptions): Promise<GeneratedImage> {
    return this.run({ op: 'generate', dir, options }) as Promise<GeneratedImage>;
  }

  /** The workbench's evaluation of a checkpoint (the test split is loaded on the worker). */
  evaluate(dir: string, options: EvaluateOptions): Promise<CheckpointEvaluation> {
    return this.run({ op: 'evaluate', dir, options }) as Promise<CheckpointEvaluation>;
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
      const timer = setTimeout(
        () =>
          this.stop(
            worker,
            new ApiError('internal', `${op.op} did not finish within ${this.deadlineMs / 1000} s (HEAVY_CALL_DEADLINE_MS)`),
          ),
        this.deadlineMs,
      );
      timer.unref();
      const settle =
        <T>(fn: (v: T) => void) =>
        (v: T) => (clearTimeout(timer), fn(v));
      this.pending.set(id, { resolve: settle(resolve), reject: settle(reject) });
      worker.ref();
      try {
        worker.postMessage({ ...op, id }, transfer);
      } catch (err) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new ApiError('invalid_input', `${op.op}: the input cannot be handed to the worker (${(err as Error).message})`));
      }
    });
  }

  /** Reject every pending call with `err` and end this worker (the next call starts a fresh one). */
  private stop(worker: Worker, err: Error): void {
    if (this.worker === worker) this.worker = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
    void worker.terminate();
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
    const fail = (err: Error) => this.stop(worker, new ApiError('internal', `the heavy-work thread stopped: ${err.message}`));
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    // A reply that cannot be deserialized (e.g. nested too deep for the structured clone) names no call: fail all.
    worker.on('messageerror', (err) =>
      this.stop(worker, new ApiError('invalid_input', `the heavy-work result could not be passed back (${err.message})`)),
    );
    this.worker = worker;
    return worker;
  }
}
