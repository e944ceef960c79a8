// The web host the hardening suites attack: a data home in a temporary folder, a stand-in renderer (one
// index.html), the service and the web host on a port the OS picks, closed and removed by close(); and callApi, one
// POST /api/<call> with the token, timed; spawnServe, the built `vae-workbench serve` in its own process. (Raw
// requests no HTTP client would send: raw-http.ts.)
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServiceOptions } from '../../../src-main/api/service';
import type { WebHost, WebHostOptions } from '../../../src-main/hosts/web/server';
import { WorkbenchService, startWebHost } from '../../built';

const ROOT = path.resolve(__dirname, '../../..');

export interface TestHost {
  home: string;
  service: WorkbenchService;
  host: WebHost;
  close(): Promise<void>;
}

export interface TestHostOptions {
  service?: Omit<ServiceOptions, 'host' | 'dataHome'>;
  web?: Omit<WebHostOptions, 'service' | 'rendererDir' | 'port'>;
}

/** A fresh data home under os.tmpdir() named `prefix`..., its service and its web host. */
export async function startTestHost(prefix: string, options: TestHostOptions = {}): Promise<TestHost> {
  const home = mkdtempSync(path.join(os.tmpdir(), prefix));
  const rendererDir = path.join(home, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>VAE Workbench</title>');
  const service = new WorkbenchService({ host: 'web', dataHome: path.join(home, 'data'), ...options.service });
  const host = await startWebHost({ service, rendererDir, port: 0, ...options.web });
  return {
    home,
    service,
    host,
    async close() {
      await host.close();
      await service.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface ApiAnswer {
  status: number;
  json: { ok: boolean; result?: any; error?: { code: string; message: string } };
  ms: number;
}

/** POST /api/`name` with `body` (a string is sent as it is), the host's token unless `token`; aborted after timeoutMs. */
export async function callApi(
  host: WebHost,
  name: string,
  body: unknown,
  o: { timeoutMs?: number; token?: string } = {},
): Promise<ApiAnswer> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${host.port}/api/${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${o.token ?? host.token}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
  });
  const json = (await res.json()) as ApiAnswer['json'];
  return { status: res.status, json, ms: performance.now() - t0 };
}

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  port: number;
  token: string;
}

/** The built `vae-workbench serve --port 0 --json` in its own process with `env`, once it prints its port and token. */
export async function spawnServe(env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['bin/vae-workbench.js', 'serve', '--port', '0', '--json'], { cwd: ROOT, env });
  child.stderr.resume(); // never let a full stderr pipe stall the host
  const info = await new Promise<{ port: number; token: string }>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (c: Buffer) => {
      text += c.toString();
      if (text.includes('\n')) resolve(JSON.parse(text.split('\n')[0]!) as { port: number; token: string });
    });
    child.once('exit', (code) => reject(new Error(`serve exited early (${code})`)));
  });
  return { child, ...info };
}
