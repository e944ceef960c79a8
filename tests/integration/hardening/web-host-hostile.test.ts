// Issue 11: hostile requests against the web host. Each must be answered (400/401/403/404/413) and the host must
// keep serving; nothing is written to the store.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { WebHost } from '../../../src-main/hosts/web/server';
import { callApi, spawnServe, startTestHost, type TestHost } from './web-host-fixture';
import { rawRequest } from './raw-http';
import type { WorkbenchService } from '../../built';

let home: string;
let service: WorkbenchService;
let host: WebHost;

const api = (name: string, body: unknown, token = host.token) => callApi(host, name, body, { token });

async function stillServing() {
  const r = await api('app.info', {});
  expect(r.status).toBe(200);
  expect(r.json.ok).toBe(true);
}

let fixture: TestHost;
beforeAll(async () => {
  fixture = await startTestHost('vae-hostile-', { web: { maxWsBufferedBytes: 64 * 1024 } });
  ({ home, service, host } = fixture);
});
afterAll(() => fixture?.close());

describe('malformed request targets (the crashes found in issue 11)', () => {
  const targets = ['/%zz', 'http://[', 'http://127.0.0.1:99999/', 'https://%zz/', '//evil.example/', '/%00', '/api/%zz'];
  for (const t of targets)
    for (const upgrade of [false, true])
      it(`GET ${t}${upgrade ? ' with Upgrade: websocket' : ''} is refused with 400 and the host keeps serving`, async () => {
        const headers = upgrade
          ? 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
          : '';
        const r = await rawRequest(host.port, `GET ${t} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n${headers}\r\n`);
        expect(r.status).toBe(400);
        if (!upgrade) expect(r.text).toMatch(/request (target|path)/);
        await stillServing();
      });

  it('an over-long URL names the limit', async () => {
    const r = await rawRequest(host.port, `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\n\r\n`);
    expect(r.status).toBe(400);
    expect(r.text).toContain('WEB_MAX_URL_CHARS');
    await stillServing();
  });
});

describe('request bodies', () => {
  it('a small call with a body above its limit is refused naming the limit, before the body is read', async () => {
    const r = await rawRequest(
      host.port,
      `POST /api/runs.list HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nAuthorization: Bearer ${host.token}\r\nContent-Length: ${500 * 1024 * 1024}\r\n\r\n{`,
    );
    expect(r.status).toBe(400);
    expect(r.text).toContain('WEB_MAX_SMALL_BODY_BYTES');
    await stillServing();
  });

  it('a bundle upload above the body limit names WEB_MAX_BODY_BYTES', async () => {
    const r = await rawRequest(
      host.port,
      `POST /api/bundles.import HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nAuthorization: Bearer ${host.token}\r\nContent-Length: ${4 * 1024 * 1024 * 1024}\r\n\r\n{`,
    );
    expect(r.status).toBe(400);
    expect(r.text).toContain('WEB_MAX_BODY_BYTES');
    await stillServing();
  });

  it('invalid JSON is a 400 naming the problem', async () => {
    const r = await api('runs.list', '{"a":');
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toContain('not valid JSON');
  });
});

describe('prototype pollution through the API', () => {
  it('a sweep axis __proto__.NODE_OPTIONS is refused naming the key; Object.prototype stays clean; nothing is queued', async () => {
    const r = await api('runs.sweep', {
      config: { training: { epochs: 1 } },
      axes: [{ key: '__proto__.NODE_OPTIONS', values: ['--require=/tmp/x.js'] }],
    });
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toContain('__proto__');
    expect(({} as Record<string, unknown>).NODE_OPTIONS).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('NODE_OPTIONS');
    expect(service.store.listRuns({}).total).toBe(0);
    await stillServing();
  });

  for (const key of ['constructor.prototype.polluted', 'model.__proto__.latentDim', 'prototype.x'])
    it(`a sweep axis ${key} is refused naming it`, async () => {
      const r = await api('runs.sweep', { config: {}, axes: [{ key, values: [5] }] });
      expect(r.status).toBe(400);
      expect(r.json.error?.message).toContain(key);
      expect(Object.prototype).not.toHaveProperty('polluted');
      expect(Object.prototype).not.toHaveProperty('latentDim');
    });

  it('a 50 x 50 x 50 sweep is refused by counting, naming the 200-run limit (no stack overflow)', async () => {
    const values = Array.from({ length: 50 }, (_, i) => i + 1);
    const r = await api('runs.sweep', {
      config: {},
      axes: [
        { key: 'model.latentDim', values },
        { key: 'training.epochs', values },
        { key: 'seed', values },
      ],
    });
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toBe('a sweep of 50 x 50 x 50 values is 125,000 runs, more than the limit of 200 runs (SWEEP_MAX_RUNS)');
  });
});

describe('run listing', () => {
  for (const key of ['constructor', '__proto__', 'toString', 'nosuchcolumn'])
    it(`sort.key "${key}" is a 400 naming the key`, async () => {
      const r = await api('runs.list', { sort: { key, dir: 'asc' } });
      expect(r.status).toBe(400);
      expect(r.json.error?.message).toContain(`"${key}"`);
    });

  it('5,000 params filters are refused naming the limit', async () => {
    const params = Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}`, min: 0 }));
    const r = await api('runs.list', { params });
    expect(r.status).toBe(400);
    expect(r.json.error?.message).toMatch(/params.*32/);
  });
});

describe('WebSocket back-pressure', () => {
  it('a client that never reads is closed once its unsent events pass the bound; the host keeps serving', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // Stop reading: the kernel buffers fill, then ws's bufferedAmount grows on the server side.
    (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const big = 'x'.repeat(64 * 1024);
    const emit = (service as unknown as { emit(e: string, p: unknown): void }).emit.bind(service);
    const start = Date.now();
    while (Date.now() - start < 10_000) {
      for (let i = 0; i < 50; i++) emit('run.log', { runId: 1, time: 0, level: 'info', message: big });
      await new Promise((r) => setTimeout(r, 20));
      if (host.webSocketClients() === 0) break;
    }
    expect(host.webSocketClients()).toBe(0);
    ws.terminate();
    await stillServing();
  }, 20_000);
});

describe('the real `vae-workbench serve` process', () => {
  it('survives the exact requests that killed it (GET /%zz, http://[, :99999, https://%zz, with and without Upgrade)', async () => {
    const dataHome = path.join(home, 'serve-home');
    const { child, port, token } = await spawnServe({ PATH: process.env.PATH, HOME: home, VAE_WORKBENCH_HOME: dataHome });
    try {
      const upgrade =
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
      for (const t of ['/%zz', 'http://[', 'http://127.0.0.1:99999/', 'https://%zz/'])
        for (const extra of ['', upgrade]) {
          const r = await rawRequest(port, `GET ${t} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${extra}\r\n`);
          expect(r.status, `GET ${t}`).toBe(400);
        }
      expect(child.exitCode).toBeNull();
      const info = await fetch(`http://127.0.0.1:${port}/api/app.info`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(info.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 60_000);
});
