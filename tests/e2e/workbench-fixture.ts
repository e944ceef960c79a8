// Shared by the browser suites: the real web host as a child process on a given data home, and Debian's
// Chromium driven by playwright-core (the flags this machine's closed network needs).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without a Chromium binary the suites are skipped on a workstation, but fail in CI (CI=1). */
export const HAVE_CHROMIUM = existsSync(CHROMIUM) || !!process.env.CI;

export interface WebHostProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Start `vae-workbench serve --port 0 --json` on `home` and resolve with the URL (carrying the token) it prints. */
export function startWebHostProcess(root: string, home: string): Promise<WebHostProcess> {
  const child = spawn(process.execPath, ['bin/vae-workbench.js', 'serve', '--port', '0', '--json'], {
    cwd: root,
    env: { ...process.env, VAE_WORKBENCH_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  };
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error(`web host did not start in time; stderr:\n${stderr}`)), 240_000);
    lines.on('line', (line) => {
      try {
        const info = JSON.parse(line) as { url: string };
        clearTimeout(timer);
        resolve({ url: info.url, child, stop });
      } catch {
        /* not the JSON line */
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`web host exited with ${code}; stderr:\n${stderr}`));
    });
  });
}

/** Launch headless Chromium, open the app at `url` and wait for its header; page errors are collected. */
export async function openWorkbench(url: string, pageErrors: string[]): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.locator('.top').getByText('backend:').waitFor();
  return { browser, page };
}

export interface Workbench {
  home: string;
  server: WebHostProcess;
  browser: Browser;
  page: Page;
}

/**
 * One suite's workbench, set up in beforeAll and torn down in afterAll: a fresh data home (`prefix` in the temp
 * folder), made ready by `prepare` (seeded runs, runs trained with the CLI, ...), the web host on it and Chromium
 * open on it; `ready` receives them. Screenshots' folder made when `shots` names it. Without Chromium it does
 * nothing (the suites skip themselves, see HAVE_CHROMIUM).
 */
export function useWorkbench(opts: {
  prefix: string;
  pageErrors: string[];
  ready: (wb: Workbench) => void;
  prepare?: (home: string) => void | Promise<void>;
  shots?: string;
  timeoutMs?: number;
}): void {
  let wb: Partial<Workbench> = {};
  beforeAll(async () => {
    if (!HAVE_CHROMIUM) return;
    if (opts.shots) mkdirSync(opts.shots, { recursive: true });
    const home = mkdtempSync(path.join(tmpdir(), opts.prefix));
    wb = { home };
    await opts.prepare?.(home);
    const server = await startWebHostProcess(process.cwd(), home);
    wb.server = server;
    const { browser, page } = await openWorkbench(server.url, opts.pageErrors);
    wb = { home, server, browser, page };
    opts.ready(wb as Workbench);
  }, opts.timeoutMs ?? 300_000);
  afterAll(async () => {
    await wb.browser?.close();
    await wb.server?.stop();
    if (wb.home) rmSync(wb.home, { recursive: true, force: true });
  });
}
