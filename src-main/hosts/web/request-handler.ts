// The web host's HTTP side: the Host/Origin and token checks, the API call handler (POST /api/<call>) and the
// built renderer's static files. startWebHost (server.ts) owns the server and its one error boundary.
import { timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { CALL_NAMES, type CallName } from '@shared/contract';
import { errorReply, okReply, type Reply } from '@shared/reply';
import { LIMITS } from '@shared/limits';
import type { WorkbenchService } from '../../api/service';
import { contentTypeOf } from '../content-type';
import { CONTENT_SECURITY_POLICY } from '../renderer-csp';
import { HEAVY_CALLS, type HeavyGate } from './heavy-calls';
import { declaredLength, readJsonBody, type BodyBounds } from './request-body';
import { parseTarget, type RequestTarget } from './request-target';
import { UploadBudget } from './upload-budget';

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
    private readonly uploads: UploadBudget = new UploadBudget(),
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
  private bodyBounds(name: string): BodyBounds {
    const large = name === 'bundles.import';
    return {
      name,
      limit: large ? this.maxBody : Math.min(this.maxBody, LIMITS.WEB_MAX_SMALL_BODY_BYTES),
      limitName: large ? 'WEB_MAX_BODY_BYTES' : 'WEB_MAX_SMALL_BODY_BYTES',
      idleMs: this.bodyIdleMs,
    };
  }

  /**
   * The body first, then the heavy slot: an upload however slow holds no slot (a trickle at 1 byte/s once held the
   * single slot until the 10-minute deadline). A bundle upload reserves its size from the upload budget until its
   * call ends; a full heavy queue is refused before the body is read.
   */
  private async callWithBody(req: IncomingMessage, name: string): Promise<unknown> {
    const heavy = HEAVY_CALLS.has(name);
    if (heavy) this.heavy.checkRoom(name);
    const bounds = this.bodyBounds(name);
    const giveBack =
      name === 'bundles.import' ? this.uploads.reserve(Math.min(declaredLength(req) ?? bounds.limit, bounds.limit), name) : null;
    try {
      const input = await readJsonBody(req, bounds);
      const release = heavy ? await this.heavy.acquire(name) : null;
      try {
        return await this.service.call(name as CallName, input);
      } finally {
        release?.();
      }
    } finally {
      giveBack?.();
    }
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse, target: RequestTarget): Promise<void> {
    if (!this.tokenOk(req, target.query))
      return sendJson(res, 401, errorReply({ code: 'unauthorized', message: 'missing or wrong token' }));
    if (req.method !== 'POST') return sendJson(res, 405, errorReply({ code: 'invalid_input', message: 'use POST' }));
    const name = target.pathname.slice('/api/'.length);
    if (!this.callNames.has(name)) return sendJson(res, 404, errorReply({ code: 'not_found', message: `unknown call "${name}"` }));
    sendJson(res, 200, okReply(await this.callWithBody(req, name)));
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
