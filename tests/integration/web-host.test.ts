// The web host on a real socket with a real service and a real SQLite file: token, Host and Origin checks.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorReply, OkReply } from '@shared/reply';
import WebSocket from 'ws';
import { WorkbenchService, startWebHost, type WebHost } from '../built';

let home: string;
let service: WorkbenchService;
let host: WebHost;

function send(method: string, urlPath: string, headers: Record<string, string> = {}, body?: unknown) {
  return new Promise<{ status: number; json: unknown; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: host.port, path: urlPath, method, headers: { host: `127.0.0.1:${host.port}`, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            /* static file */
          }
          resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(JSON.stringify(body));
    else req.end();
  });
}

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-web-'));
  const rendererDir = path.join(home, 'renderer');
  writeFileSync(path.join(home, 'placeholder'), '');
  await import('node:fs').then((fs) => fs.mkdirSync(rendererDir));
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>VAE Workbench</title>');
  service = new WorkbenchService({ host: 'web', dataHome: path.join(home, 'data') });
  host = await startWebHost({ service, rendererDir, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await service?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('web host', () => {
  it('binds to 127.0.0.1 and prints a URL carrying the token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect(host.token).toMatch(/^[0-9a-f]{64}$/);
    const address = host.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
  });

  it('refuses /api/ without the token or with a wrong one (401)', async () => {
    expect((await send('POST', '/api/app.info', {}, {})).status).toBe(401);
    expect((await send('POST', '/api/app.info', { authorization: 'Bearer nope' }, {})).status).toBe(401);
    // the right token but for its last digit (changed to a different one, whatever it was)
    const last = host.token.slice(-1);
    const wrong = host.token.slice(0, -1) + (last === '0' ? '1' : '0');
    expect((await send('POST', `/api/app.info?token=${wrong}`, {}, {})).status).toBe(401);
  });

  it('answers with the token, validating input against the contract', async () => {
    const ok = await send('POST', '/api/app.info', { authorization: `Bearer ${host.token}` }, {});
    expect(ok.status).toBe(200);
    const info = (ok.json as OkReply<{ dataHome: string; backend: string; host: string }>).result;
    expect(info.dataHome).toBe(path.join(home, 'data'));
    expect(info.host).toBe('web');
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.backend);
    const bad = await send('POST', '/api/runs.get', { authorization: `Bearer ${host.token}` }, { runId: -1 });
    expect(bad.status).toBe(400);
    expect((bad.json as ErrorReply).error).toMatchObject({ code: 'invalid_input', message: expect.stringMatching(/runId/) });
    const badConfig = await send(
      'POST',
      '/api/runs.start',
      { authorization: `Bearer ${host.token}` },
      { config: { model: { latentDim: -2 } } },
    );
    expect(badConfig.status).toBe(400);
    expect((badConfig.json as ErrorReply).error).toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/model\.latentDim/),
    });
    const listed = await send('POST', '/api/runs.list', { authorization: `Bearer ${host.token}` }, {});
    expect((listed.json as OkReply<{ total: number }>).result.total).toBe(0); // nothing was written
  });

  it('answers each error code with the status of the contract table (not_found -> 404)', async () => {
    const missing = await send('POST', '/api/runs.get', { authorization: `Bearer ${host.token}` }, { runId: 999_999 });
    expect(missing.status).toBe(404);
    expect((missing.json as ErrorReply).error.code).toBe('not_found');
  });

  it('refuses foreign Host and Origin headers (DNS rebinding, cross-site pages)', async () => {
    const auth = { authorization: `Bearer ${host.token}` };
    expect((await send('POST', '/api/app.info', { ...auth, host: `evil.example:${host.port}` }, {})).status).toBe(403);
    expect((await send('POST', '/api/app.info', { ...auth, origin: 'http://evil.example' }, {})).status).toBe(403);
    expect((await send('POST', '/api/app.info', { ...auth, origin: `http://127.0.0.1:${host.port}` }, {})).status).toBe(200);
  });

  it('serves the renderer with a Content-Security-Policy', async () => {
    const page = await send('GET', '/');
    expect(page.status).toBe(200);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'self'");
    expect((await send('GET', '/../../etc/passwd')).status).toBe(404);
  });

  it('refuses WebSockets without the token and pushes events with it', async () => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(200));
    });
    expect(refused).toBe(401);
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`);
    await new Promise((resolve, reject) => {
      ws.on('open', resolve);
      ws.on('error', reject);
    });
    const got = new Promise<{ event: string }>((resolve) => ws.on('message', (m) => resolve(JSON.parse(String(m)))));
    // A start with a valid config creates a run: the event must reach the socket.
    const started = await send(
      'POST',
      '/api/runs.start',
      { authorization: `Bearer ${host.token}` },
      {
        config: {
          name: 'ws-check',
          training: { epochs: 1, maxSteps: 1 },
          data: { trainLimit: 256, testLimit: 64 },
          eval: { iwSamples: 2, fid: false },
        },
      },
    );
    expect(started.status).toBe(200);
    expect((await got).event).toBe('run.created');
    const runId = (started.json as { result: { runId: number } }).result.runId;
    await send('POST', '/api/runs.cancel', { authorization: `Bearer ${host.token}` }, { runId });
    ws.close();
  });
});
