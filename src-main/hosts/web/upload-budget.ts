// The web host's bound on request bodies held in memory at once for bundle uploads. An upload is read whole BEFORE
// it takes the single heavy slot (a slow uploader must not hold the slot: heavy-calls.ts), so several uploads may
// be in memory together; each reserves its declared size (or the largest body, when it declares none) from
// LIMITS.WEB_MAX_UPLOAD_BYTES until its call ends. Past the budget a new upload is refused with 503 before a byte
// of it is read.
import { LIMITS } from '@shared/limits';
import { BusyError } from './heavy-calls';

export class UploadBudget {
  private used = 0;

  constructor(private readonly max: number = LIMITS.WEB_MAX_UPLOAD_BYTES) {}

  /** Reserve `bytes`; resolves the function that gives them back (call it exactly once), or throws BusyError. */
  reserve(bytes: number, name: string): () => void {
    if (this.used > 0 && this.used + bytes > this.max)
      throw new BusyError(
        `${name}: uploads of ${this.used} bytes are being received or imported; ${bytes} more would pass the limit of ${this.max} bytes (WEB_MAX_UPLOAD_BYTES); try again shortly`,
      );
    this.used += bytes;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= bytes;
    };
  }
}
