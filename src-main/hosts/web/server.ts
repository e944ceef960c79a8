// The web host: the built renderer plus the API over HTTP (POST /api/<call>) and events over a WebSocket
// (/ws), bound to 127.0.0.1 only. A random token is made at each start; every /api/ request and every
// WebSocket without it is refused with 401. Host and Origin headers are checked so that another web page
// (DNS rebinding, cross-site requests) cannot drive the service.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { ApiError, CALL_NAMES, ERROR_HTTP_STATUS, type CallName } from '@shared/contract';
import type { Reply } from '@shared/reply';
import { toApiError, type WorkbenchService } from '../../api/service';
import { CONTENT_SECURITY_POLICY } from '../renderer-csp';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

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
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  server: Server;
  close(): Promise<void>;
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? randomBytes(32).toString('hex');
  const maxBody = options.maxBodyBytes ?? 512 * 1024 * 1024;
  const rendererDir = path.resolve(options.rendererDir);
  let port = 0;
  const callNames = new Set<string>(CALL_NAMES);

  const allowedHosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = () => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  function headerOk(req: IncomingMessage): string | null {
    if (!req.headers.host || !allowedHosts().has(req.headers.host)) return `Host header "${req.headers.host ?? ''}" is not this server`;
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return `Origin "${origin}" may not use this server`;
    return null;
  }

  function tokenOk(req: IncomingMessage, url: URL): boolean {
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? '');
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  function sendJson(res: ServerResponse, status: number, body: Reply): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    res.end(text);
  }

  async function readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBody) throw new ApiError('invalid_input', `request body larger than ${maxBody} bytes`);
      chunks.push(chunk as Buffer);
    }
    if (!size) return {};
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new ApiError('invalid_input', 'request body is not valid JSON');
    }
  }

  function serveStatic(res: ServerResponse, pathname: string): void {
    let rel = decodeURIComponent(pathname);
    if (rel === '/' || rel === '') rel = '/index.html';
    const file = path.resolve(rendererDir, '.' + rel);
    if (!file.startsWith(rendererDir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': MIME[path.extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': file.endsWith('index.html') ? 'no-store' : 'max-age=3600',
    });
    createReadStream(file).pipe(res);
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const bad = headerOk(req);
      if (bad) return sendJson(res, 403, { ok: false, error: { code: 'unauthorized', message: bad } });
      if (url.pathname.startsWith('/api/') || url.pathname === '/api') {
        if (!tokenOk(req, url)) return sendJson(res, 401, { ok: false, error: { code: 'unauthorized', message: 'missing or wrong token' } });
        if (req.method !== 'POST') return sendJson(res, 405, { ok: false, error: { code: 'invalid_input', message: 'use POST' } });
        const name = url.pathname.slice('/api/'.length);
        if (!callNames.has(name)) return sendJson(res, 404, { ok: false, error: { code: 'not_found', message: `unknown call "${name}"` } });
        try {
          const input = await readBody(req);
          const result = await options.service.call(name as CallName, input);
          sendJson(res, 200, { ok: true, result });
        } catch (err) {
          const e = toApiError(err);
          sendJson(res, ERROR_HTTP_STATUS[e.code], { ok: false, error: e.toJSON() });
        }
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405);
        res.end();
        return;
      }
      serveStatic(res, url.pathname);
    })();
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const refuse = (status: number, text: string) => {
      socket.write(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (url.pathname !== '/ws') return refuse(404, 'Not Found');
    if (headerOk(req)) return refuse(403, 'Forbidden');
    if (!tokenOk(req, url)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('error', () => sockets.delete(ws));
    });
  });
  const unsubscribe = options.service.onEvent((event) => {
    const text = JSON.stringify(event);
    for (const ws of sockets) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  return {
    url,
    port,
    token,
    server,
    async close() {
      unsubscribe();
      for (const ws of sockets) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
