// The web host's HTTP side: the Host/Origin and token checks, the API call handler (POST /api/<call>) and the
// built renderer's static files. startWebHost (server.ts) owns the server and its one error boundary.
import { timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { ApiError, CALL_NAMES, type CallName } from '@shared/contract';
import { errorReply, okReply, type Reply } from '@shared/reply';
import { LIMITS } from '@shared/limits';
import type { WorkbenchService } from '../../api/service';
import { contentTypeOf } from '../content-type';
import { CONTENT_SECURITY_POLICY } from '../renderer-csp';
import { HEAVY_CALLS, type HeavyGate } from './heavy-calls';
import { parseTarget, type RequestTarget } from './request-target';

export function sendJson(res: ServerResponse, status: number, body: Reply): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

/** A file of the built renderer in `rendererDir` (an absolute path), or 404. */
export function serveStatic(res: ServerResponse, rendererDir: string, pathname: string): void {
  const rel = pathname === '/' || pathname === '' ? '/index.html' : pathname;
  const file = path.resolve(rendererDir, '.' + rel);
  if (!file.startsWith(rendererDir + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
    return;
  }
  res.writeHead(200, {
    'content-type': contentTypeOf(file),
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': file.endsWith('index.html') ? 'no-store' : 'max-age=3600',
  });
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** Answers one HTTP request of the web host. `port` is set once the server listens. */
export class WebRequestHandler {
  port = 0;
  private readonly callNames = new Set<string>(CALL_NAMES);

  constructor(
    private readonly service: WorkbenchService,
    private readonly token: string,
    private readonly maxBody: number,
    private readonly heavy: HeavyGate,
    private readonly rendererDir: string,
    private readonly bodyIdleMs: number = LIMITS.WEB_BODY_IDLE_MS,
  ) {}

  private allowedHosts(): Set<string> {
    return new Set([`127.0.0.1:${this.port}`, `localhost:${this.port}`]);
  }

  private allowedOrigins(): Set<string> {
    return new Set([`http://127.0.0.1:${this.port}`, `http://localhost:${this.port}`]);
  }

  headerOk(req: IncomingMessage): string | null {
    if (!req.headers.host || !this.allowedHosts().has(req.headers.host))
      return `Host header "${req.headers.host ?? ''}" is not this server`;
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowedOrigins().has(origin)) return `Origin "${origin}" may not use this server`;
    return null;
  }

  tokenOk(req: IncomingMessage, query: URLSearchParams): boolean {
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (query.get('token') ?? '');
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Per call: a bundle upload may be large, everything else is small. */
  private bodyLimit(name: string): number {
    return name === 'bundles.import' ? this.maxBody : Math.min(this.maxBody, LIMITS.WEB_MAX_SMALL_BODY_BYTES);
  }

  private bodyTooLarge(name: string, size: number, limit: number): ApiError {
    const which = limit === this.maxBody ? 'WEB_MAX_BODY_BYTES' : 'WEB_MAX_SMALL_BODY_BYTES';
    return new ApiError(
      'invalid_input',
      `${name}: request body is ${size} bytes or more, more than the limit of ${limit} bytes (${which})`,
    );
  }

  /** The JSON body, at most `limit` bytes; an upload silent for bodyIdleMs is refused (answered, then closed). */
  private readBody(req: IncomingMessage, limit: number, name: string): Promise<unknown> {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (Number.isFinite(declared) && declared > limit) return Promise.reject(this.bodyTooLarge(name, declared, limit));
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
      // An upload that stalls must not hold a heavy slot: no data for bodyIdleMs ends it with a 400.
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(
          () =>
            finish(new ApiError('invalid_input', `${name}: the request body stalled for ${this.bodyIdleMs / 1000} s (WEB_BODY_IDLE_MS)`)),
          this.bodyIdleMs,
        );
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) return finish(this.bodyTooLarge(name, size, limit));
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

  private async handleApi(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    if (!this.tokenOk(req, target.query))
      return sendJson(res, 401, errorReply({ code: 'unauthorized', message: 'missing or wrong token' }));
    if (req.method !== 'POST') return sendJson(res, 405, errorReply({ code: 'invalid_input', message: 'use POST' }));
    const name = target.pathname.slice('/api/'.length);
    if (!this.callNames.has(name)) return sendJson(res, 404, errorReply({ code: 'not_found', message: `unknown call "${name}"` }));
    const release = HEAVY_CALLS.has(name) ? await this.heavy.acquire(name) : null;
    try {
      const input = await this.readBody(req, this.bodyLimit(name), name);
      const result = await this.service.call(name as CallName, input);
      sendJson(res, 200, okReply(result));
    } finally {
      release?.();
    }
  }

  async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url);
    if (typeof target === 'string') return sendJson(res, 400, errorReply({ code: 'invalid_input', message: target }));
    const bad = this.headerOk(req);
    if (bad) return sendJson(res, 403, errorReply({ code: 'unauthorized', message: bad }));
    if (target.pathname.startsWith('/api/') || target.pathname === '/api') return this.handleApi(req, res, target);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405);
      res.end();
      return;
    }
    serveStatic(res, this.rendererDir, target.pathname);
  }
}
