// The web host: the built renderer plus the API over HTTP (POST /api/<call>) and events over a WebSocket
// (/ws), bound to 127.0.0.1 only. A random token is made at each start; every /api/ request and every
// WebSocket without it is refused with 401. Host and Origin headers are checked so that another web page
// (DNS rebinding, cross-site requests) cannot drive the service.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { httpStatusOf } from '@shared/errors';
import { errorReply } from '@shared/reply';
import { LIMITS } from '@shared/limits';
import { toApiError, type WorkbenchService } from '../../api/service';
import { CONTENT_SECURITY_POLICY } from '../renderer-csp';
import { EventSockets } from './event-sockets';
import { HeavyGate } from './heavy-calls';
import { sendJson, WebRequestHandler } from './request-handler';

export { CONTENT_SECURITY_POLICY };

export interface WebHostOptions {
  service: WorkbenchService;
  /** Directory with the built renderer (index.html and assets). */
  rendererDir: string;
  port?: number;
  /** Fixed token (tests); default: 32 random bytes, hex. */
  token?: string;
  /** Largest accepted request body (bundle uploads are base64 in JSON). */
  maxBodyBytes?: number;
  /** Close a WebSocket client whose unsent events exceed this many bytes (default LIMITS.WS_MAX_BUFFERED_BYTES). */
  maxWsBufferedBytes?: number;
  /** An upload silent this long is dropped (default LIMITS.WEB_BODY_IDLE_MS; tests shorten it). */
  bodyIdleMs?: number;
  /** Heavy calls at once (default LIMITS.WEB_MAX_HEAVY_CALLS). */
  maxHeavyCalls?: number;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  server: Server;
  /** WebSocket clients connected now. */
  webSocketClients(): number;
  close(): Promise<void>;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const maxBody = options.maxBodyBytes ?? LIMITS.WEB_MAX_BODY_BYTES;
  const maxWsBuffered = options.maxWsBufferedBytes ?? LIMITS.WS_MAX_BUFFERED_BYTES;
  const heavy = new HeavyGate(options.maxHeavyCalls);
  const rendererDir = path.resolve(options.rendererDir);
  const handler = new WebRequestHandler(options.service, token, maxBody, heavy, rendererDir, options.bodyIdleMs);

  // One error boundary for every request: whatever throws becomes a 4xx/5xx answer and the server keeps serving.
  const server = createServer((req, res) => {
    req.on('error', () => res.destroy());
    res.on('error', () => undefined);
    handler.handleRequest(req, res).catch((err: unknown) => {
      if (res.headersSent || res.writableEnded) return void res.destroy();
      const e = toApiError(err);
      // A body left unread (too large, say) is not drained: answer, then close the connection.
      if (!req.readableEnded) res.setHeader('connection', 'close');
      // A host-level status (408 for a stalled body) where the error carries one, else the contract's table.
      const status = (err as { httpStatus?: unknown }).httpStatus;
      sendJson(res, typeof status === 'number' ? status : httpStatusOf(e.code), errorReply(e.toJSON()));
    });
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const events = new EventSockets(handler, maxWsBuffered);
  server.on('upgrade', (req, socket, head) => events.upgrade(req, socket, head));
  const unsubscribe = options.service.onEvent((event) => events.broadcast(event));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  handler.port = port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  return {
    url,
    port,
    token,
    server,
    webSocketClients: () => events.sockets.size,
    async close() {
      unsubscribe();
      events.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // A request still running (a heavy call, an upload) must not hold shutdown: its connection is cut.
      const cut = setTimeout(() => server.closeAllConnections(), 1000);
      await closed;
      clearTimeout(cut);
    },
  };
}
