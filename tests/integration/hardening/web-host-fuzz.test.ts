// Issue 11: a property-based fuzz of the web host over raw loopback sockets. Thousands of malformed requests
// (request lines, targets, headers, bodies; with and without Upgrade; with and without the token); afterwards the
// host still answers, Object.prototype is clean and the database passes integrity_check. Bounded in count and time.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../../../src-main/hosts/web/server';
import { startTestHost, type TestHost } from './web-host-fixture';
import { rawRequest } from './raw-http';
import type { WorkbenchService } from '../../built';

let service: WorkbenchService;
let host: WebHost;

let fixture: TestHost;
beforeAll(async () => {
  fixture = await startTestHost('vae-fuzz-');
  ({ service, host } = fixture);
});
afterAll(() => fixture?.close());

const FRAGMENTS = [
  '/',
  '%',
  '%zz',
  '%00',
  '%e0%80',
  '[',
  ']',
  ':',
  '99999',
  '@',
  '..',
  '//',
  '?',
  '#',
  '&token=',
  '\\',
  'http://',
  'https://',
  '[::1',
  'ws',
  'api',
  'index.html',
  '__proto__',
  ' ',
];
// Calls that only read or refuse (no trainer is started by a random body).
const CALLS = [
  'app.info',
  'runs.list',
  'runs.get',
  'runs.series',
  'runs.export',
  'bundles.import',
  'bundles.export',
  'runs.update',
  'runs.delete',
  'runs.sweep',
  'no.such',
];

const target = fc.oneof(
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 8 }).map((parts) => parts.join('')),
  fc.string({ maxLength: 40 }),
  fc.constantFrom(...CALLS).map((c) => `/api/${c}`),
  fc.constantFrom('/%zz', 'http://[', 'http://127.0.0.1:99999/', 'https://%zz/', '/ws', '/ws?token=%zz'),
);
const body = fc.oneof(
  fc.constant(''),
  fc.json({ maxDepth: 3 }),
  fc.constantFrom(
    '{"config":{},"axes":[{"key":"__proto__.NODE_OPTIONS","values":["x"]}]}',
    '{"sort":{"key":"constructor","dir":"asc"}}',
    '{"runId":1,"name":"x","__proto__":{"polluted":1}}',
    '{"dataBase64":""}',
    '{',
  ),
);
const request = fc.record({
  method: fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'OPTIONS'), fc.string({ minLength: 1, maxLength: 8 })),
  target,
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', ''),
  host: fc.constantFrom('good', 'none', 'evil', 'garbage'),
  token: fc.constantFrom('bearer', 'query', 'none', 'wrong'),
  upgrade: fc.boolean(),
  origin: fc.constantFrom(null, 'http://evil.example', 'null', '%zz'),
  extraHeader: fc.option(fc.string({ maxLength: 30 }), { nil: null }),
  body,
  lie: fc.constantFrom('exact', 'more', 'less', 'chunked-bad', 'none'),
});

type Req = typeof request extends fc.Arbitrary<infer T> ? T : never;

function toBytes(r: Req): Buffer {
  const hostHeader = { good: `127.0.0.1:${host.port}`, none: null, evil: 'evil.example', garbage: '%zz:[' }[r.host];
  const lines = [`${r.method} ${r.target} ${r.version}`.trimEnd()];
  if (hostHeader) lines.push(`Host: ${hostHeader}`);
  if (r.token === 'bearer') lines.push(`Authorization: Bearer ${host.token}`);
  if (r.token === 'wrong') lines.push(`Authorization: Bearer ${'0'.repeat(64)}`);
  if (r.origin) lines.push(`Origin: ${r.origin}`);
  if (r.upgrade)
    lines.push('Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==');
  if (r.extraHeader !== null) lines.push(r.extraHeader);
  const bodyBytes = Buffer.from(r.body, 'utf8');
  if (r.lie === 'exact') lines.push(`Content-Length: ${bodyBytes.length}`);
  if (r.lie === 'more') lines.push(`Content-Length: ${bodyBytes.length + 10}`);
  if (r.lie === 'less') lines.push(`Content-Length: ${Math.max(0, bodyBytes.length - 1)}`);
  if (r.lie === 'chunked-bad') lines.push('Transfer-Encoding: chunked');
  let head = lines.join('\r\n') + '\r\n\r\n';
  if (r.token === 'query' && !r.target.includes('?')) head = head.replace(r.target, `${r.target}?token=${host.token}`);
  return Buffer.concat([Buffer.from(head, 'latin1'), r.lie === 'chunked-bad' ? Buffer.from('zz\r\n') : bodyBytes]);
}

describe('web host fuzz', () => {
  it('thousands of malformed requests: the host keeps answering, nothing is polluted, the database is intact', async () => {
    let sent = 0;
    let answered = 0;
    // In a real host an unhandled rejection kills the process; here, count them.
    const escaped: unknown[] = [];
    const onEscape = (e: unknown) => escaped.push(e);
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtException', onEscape);
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 10, maxLength: 10 }), async (batch) => {
        const results = await Promise.all(batch.map((r) => rawRequest(host.port, toBytes(r), 400)));
        sent += batch.length;
        answered += results.filter((x) => x.status > 0).length;
        for (const x of results) if (x.status >= 500) expect(x.text, 'no request makes the host fail').not.toMatch(/^HTTP\/1\.1 5/);
      }),
      { numRuns: 250, seed: 1111, interruptAfterTimeLimit: 90_000, endOnFailure: true },
    );
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
    expect(escaped.map(String)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(1000);
    expect(answered / sent).toBeGreaterThan(0.5);
    const info = await fetch(`http://127.0.0.1:${host.port}/api/app.info`, {
      method: 'POST',
      headers: { authorization: `Bearer ${host.token}` },
    });
    expect(info.status).toBe(200);
    expect(Object.prototype).not.toHaveProperty('NODE_OPTIONS');
    expect(Object.prototype).not.toHaveProperty('polluted');
    const db = (service.store as unknown as { db: { pragma(s: string, o: { simple: boolean }): unknown } }).db;
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(service.store.listRuns({}).total).toBe(0);
  }, 180_000);
});
