// A counting semaphore for the web host's heavy calls (bundle import/export, exports, generate, evaluate): at most
// LIMITS.WEB_MAX_HEAVY_CALLS run at once, at most LIMITS.WEB_MAX_HEAVY_QUEUE wait; beyond that a call is refused
// with 503 (ApiError 'busy' would be nicer, but the contract's codes are fixed: 'invalid_input' names the limit).
import { ApiError } from '@shared/contract';
import { LIMITS } from '@shared/limits';

export const HEAVY_CALLS: ReadonlySet<string> = new Set([
  'bundles.import',
  'bundles.export',
  'runs.export',
  'runs.generate',
  'runs.evaluate',
]);

export class BusyError extends ApiError {
  constructor(message: string) {
    super('busy', message);
    this.name = 'BusyError';
  }
}

export class HeavyGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly max: number = LIMITS.WEB_MAX_HEAVY_CALLS,
    private readonly maxQueue: number = LIMITS.WEB_MAX_HEAVY_QUEUE,
  ) {}

  /** Throws BusyError when a call asking now would be refused (every slot taken, the queue full). */
  checkRoom(name: string): void {
    if (this.running >= this.max && this.waiting.length >= this.maxQueue)
      throw new BusyError(
        `${name}: ${this.running} heavy calls are running and ${this.waiting.length} waiting, the limit (WEB_MAX_HEAVY_CALLS ${this.max}, WEB_MAX_HEAVY_QUEUE ${this.maxQueue}); try again shortly`,
      );
  }

  /** Wait for a slot; resolves with the function that frees it (call it exactly once). */
  async acquire(name: string): Promise<() => void> {
    if (this.running >= this.max) {
      this.checkRoom(name);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}
