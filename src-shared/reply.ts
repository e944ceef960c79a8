// The reply envelope every host hands back for a call: the Electron IPC host (and the preload that unwraps it),
// the web host's HTTP answers (and the web client in src-renderer/src/lib/api.ts), and the tests that read them.
// Pure TypeScript: no Node imports.
import type { ApiErrorShape } from './errors';

export type OkReply<T = unknown> = { ok: true; result: T };
export type ErrorReply = { ok: false; error: ApiErrorShape };
export type Reply<T = unknown> = OkReply<T> | ErrorReply;

export function okReply<T>(result: T): OkReply<T> {
  return { ok: true, result };
}

export function errorReply(error: ApiErrorShape): ErrorReply {
  return { ok: false, error };
}
