// Reading one API request's JSON body on the web host: at most `limit` bytes (a declared Content-Length over it is
// refused before a byte is read), and an upload that sends nothing for `idleMs` is answered 408 (BodyTimeoutError)
// and dropped. Bodies are read before a call takes the heavy slot, so a slow uploader holds no slot.
import type { IncomingMessage } from 'node:http';
import { ApiError } from '@shared/contract';

/** The body stalled: answered with HTTP 408 (the JSON error keeps the contract's code `invalid_input`). */
export class BodyTimeoutError extends ApiError {
  readonly httpStatus = 408;
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'BodyTimeoutError';
  }
}

export interface BodyBounds {
  /** The call's name, for messages. */
  name: string;
  limit: number;
  /** Named in the too-large message: WEB_MAX_BODY_BYTES or WEB_MAX_SMALL_BODY_BYTES. */
  limitName: string;
  idleMs: number;
}

export function bodyTooLarge(b: BodyBounds, size: number): ApiError {
  return new ApiError(
    'invalid_input',
    `${b.name}: request body is ${size} bytes or more, more than the limit of ${b.limit} bytes (${b.limitName})`,
  );
}

/** The declared Content-Length, or null when the request declares none (chunked) or an unreadable one. */
export function declaredLength(req: IncomingMessage): number | null {
  const n = Number(req.headers['content-length']);
  return req.headers['content-length'] !== undefined && Number.isFinite(n) && n >= 0 ? n : null;
}

/** The JSON body ({} when empty). On a refusal the request is paused: the caller answers and closes. */
export function readJsonBody(req: IncomingMessage, b: BodyBounds): Promise<unknown> {
  const declared = declaredLength(req);
  if (declared !== null && declared > b.limit) return Promise.reject(bodyTooLarge(b, declared));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err: Error | null, value?: unknown) => {
      clearTimeout(idle);
      req.off('data', onData).off('end', onEnd).off('error', finish);
      if (err) {
        req.pause();
        reject(err);
      } else resolve(value);
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => finish(new BodyTimeoutError(`${b.name}: the request body stalled for ${b.idleMs / 1000} s (WEB_BODY_IDLE_MS)`)),
        b.idleMs,
      );
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > b.limit) return finish(bodyTooLarge(b, size));
      chunks.push(chunk);
      arm();
    };
    const onEnd = () => {
      if (!size) return finish(null, {});
      try {
        finish(null, JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        finish(new ApiError('invalid_input', 'request body is not valid JSON'));
      }
    };
    req.on('data', onData).on('end', onEnd).on('error', finish);
    arm();
  });
}
