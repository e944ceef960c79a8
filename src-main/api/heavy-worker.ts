// Entry of the heavy-work worker thread (built to out/main/heavy-worker.js): bundle parsing and building and the
// runs/series exports run here, off the host's event loop, so HTTP, WebSocket and IPC traffic keeps flowing.
// It never writes the database: exports open their own read-only-in-practice connection (WAL: readers never
// block the writer), and a parsed bundle goes back to the service, which writes it.
import { ApiError } from '@shared/errors';
import { parentPort } from 'node:worker_threads';
import { runHeavyOp, type HeavyRequest, type HeavyResponse } from './heavy-ops';

parentPort?.on('message', async (request: HeavyRequest) => {
  let response: HeavyResponse;
  const transfer: ArrayBuffer[] = [];
  try {
    const result = await runHeavyOp(request, transfer);
    response = { id: request.id, ok: true, result };
  } catch (err) {
    const e = err as Error;
    const code = err instanceof ApiError ? err.code : undefined;
    response = { id: request.id, ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), code } };
    transfer.length = 0;
  }
  parentPort!.postMessage(response, transfer);
});
