// The desktop app, launched the way Electron launches it, without the Electron binary: the BUILT main
// process (out/main/index.js) is imported by Node with a stand-in for the `electron` module
// (electron-stand-in/, mapped by a module-resolution hook). Its window is a headless Chromium page running
// the REAL built preload (out/preload/index.cjs) next to the built renderer, served by the app's own app://
// protocol handler; IPC crosses into the handlers the built main registered, with its sender checks active.
// One journey: load, launch a run from the UI, watch it train in a trainer the main process forked, see its
// samples, export through the save dialog and import back, then quit mid-run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_NAMES } from '@shared/contract';
import { CHROMIUM, HAVE_CHROMIUM } from '../e2e/workbench-fixture';
import {
  alive,
  go as goIn,
  launchFromForm as launchIn,
  runStatus as statusIn,
  statusOf as statusOfPage,
  trainerChildren as childrenOf,
} from './journey';

const go = (hash: string) => goIn(page, hash);
const launchFromForm = (fields: Record<string, string>) => launchIn(page, fields);
const statusOf = () => statusOfPage(page);
const trainerChildren = () => childrenOf(process.pid);
const runStatus = (runId: number) => statusIn(home, runId);

const ROOT = path.resolve(import.meta.dirname, '../..');
const OUT = path.join(ROOT, 'out');
const STAND_IN_DIR = path.join(ROOT, 'tests', 'launch', 'electron-stand-in');
const STAND_IN = pathToFileURL(path.join(STAND_IN_DIR, 'electron.mjs')).href;
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');

if (!HAVE_CHROMIUM) console.warn(`launch test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

/** The stand-in module's test handle, typed for what this test reads. */
interface StandIn {
  newContext: (() => Promise<unknown>) | null;
  saveDialogAnswers: string[];
  messageBoxAnswers: number[];
  calls: {
    showErrorBox: { title: string; content: string }[];
    showMessageBox: { message: string; buttons: string[] }[];
    showSaveDialog: { defaultPath?: string }[];
    privilegedSchemes: { scheme: string; privileges: Record<string, boolean> }[];
    windows: number;
  };
  exitCode: number | null;
  exited: Promise<number>;
  pageErrors: string[];
  appPath: string;
}
interface StandInWindow {
  options: { webPreferences: Record<string, unknown> };
  page: Page;
  context: { newPage(): Promise<Page> };
  focused: number;
  webContents: { getURL(): string };
  close(): void;
  isDestroyed(): boolean;
}
/** What the preload exposes on window (src-main/hosts/electron/preload.ts). */
interface Bridged {
  vaeApi: Record<string, (input: unknown) => Promise<unknown>>;
  vaeHost: { saveFile(input: { filename: string; base64: string }): Promise<unknown> };
}
interface StandInModule {
  standIn: StandIn;
  app: { getPath(name: string): string; quit(): void; becomeReady(): void; emit(event: string, ...args: unknown[]): boolean };
  ipcMain: { channels: string[] };
  BrowserWindow: { getAllWindows(): StandInWindow[] };
}

let home = '';
let appData = '';
let browser: Browser;
let electron: StandInModule;
let win: StandInWindow;
let page: Page;
const tfjsResolvedByMain: string[] = [];

function builtFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return builtFiles(p);
    return /\.(c|m)?js$/.test(e.name) ? [p] : [];
  });
}

/** The built main process as a whole Node process with the stand-in; its report (exit code, dialogs). */
function launchWhole(env: Record<string, string>): { exitCode: number; calls: StandIn['calls'] } {
  const r = spawnSync(
    process.execPath,
    ['--import', pathToFileURL(path.join(STAND_IN_DIR, 'register.mjs')).href, path.join(OUT, 'main', 'index.js')],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_STAND_IN_REPORT: '1', ...env },
      timeout: 60_000,
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('ELECTRON_STAND_IN '));
  expect(line, `no report; stderr:\n${r.stderr}`).toBeTruthy();
  const report = JSON.parse(line!.slice('ELECTRON_STAND_IN '.length)) as { exitCode: number; calls: StandIn['calls'] };
  expect(r.status).toBe(report.exitCode);
  return report;
}

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  home = mkdtempSync(path.join(tmpdir(), 'vae-launch-home-'));
  appData = mkdtempSync(path.join(tmpdir(), 'vae-launch-appdata-'));
  process.env.VAE_WORKBENCH_HOME = home;
  process.env.ELECTRON_STAND_IN_APPDATA = appData;
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (m: { specifier: string; parentURL: string }) => {
    if (m.parentURL.includes('/out/main/')) tfjsResolvedByMain.push(`${m.specifier} from ${m.parentURL}`);
  });
  port1.unref();
  register(pathToFileURL(path.join(STAND_IN_DIR, 'hooks.mjs')), { data: { standIn: STAND_IN, port: port2 }, transferList: [port2] });
  electron = (await import(STAND_IN)) as StandInModule;
  browser = await chromium.launch({
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
  electron.standIn.appPath = ROOT;
  electron.standIn.newContext = () => browser.newContext({ viewport: { width: 1400, height: 1000 }, acceptDownloads: false });
  // The built main process, as Electron would run it (package.json "main").
  await import(pathToFileURL(path.join(OUT, 'main', 'index.js')).href);
  electron.app.becomeReady();
  for (const deadline = Date.now() + 60_000; !electron.BrowserWindow.getAllWindows()[0]?.page;) {
    if (Date.now() > deadline || electron.standIn.exitCode !== null)
      throw new Error(
        `the app opened no window (exit ${electron.standIn.exitCode}; ${JSON.stringify(electron.standIn.calls.showErrorBox)})`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
  win = electron.BrowserWindow.getAllWindows()[0]!;
  page = win.page;
  await page.locator('.top').getByText('backend:').waitFor({ timeout: 60_000 });
});

afterAll(async () => {
  if (electron && electron.standIn.exitCode === null) {
    electron.standIn.messageBoxAnswers.push(0);
    electron.app.quit();
    await Promise.race([electron.standIn.exited, new Promise((r) => setTimeout(r, 20_000))]);
  }
  for (const pid of trainerChildren()) process.kill(pid, 'SIGKILL');
  await browser?.close();
  for (const dir of [home, appData]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the built artifact', () => {
  it('every file of out/ parses (node --check), and every main-process module really imports', () => {
    const files = builtFiles(OUT);
    expect(files.some((f) => f.endsWith(path.join('main', 'index.js')))).toBe(true);
    for (const f of files) {
      const r = spawnSync(process.execPath, ['--check', f], { encoding: 'utf8' });
      expect(r.status, `${path.relative(ROOT, f)}: ${r.stderr}`).toBe(0);
    }
    // Import every chunk and the library entry in a fresh Node (entries with side effects run elsewhere:
    // index.js in this journey, trainer.js as the run's trainer, cli.js below).
    const modules = [
      ...readdirSync(path.join(OUT, 'main', 'chunks')).map((f) => path.join(OUT, 'main', 'chunks', f)),
      path.join(OUT, 'main', 'testkit.js'),
    ];
    const script = `for (const f of ${JSON.stringify(modules.map((m) => pathToFileURL(m).href))}) await import(f); console.log('imported');`;
    const imported = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: ROOT });
    expect(imported.status, imported.stderr).toBe(0);
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'vae-workbench.js'), '--help'], { encoding: 'utf8', cwd: ROOT });
    expect(cli.status, cli.stderr).toBe(0);
  });
});

describe.skipIf(!HAVE_CHROMIUM)('the desktop app, launched from its build with an electron stand-in', () => {
  it('opens its window with the built preload and the app:// renderer, and registers every IPC handler', async () => {
    const prefs = win.options.webPreferences;
    expect(prefs.preload).toBe(path.join(ROOT, 'out', 'preload', 'index.cjs'));
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(win.webContents.getURL()).toBe('app://workbench/index.html');
    expect(electron.standIn.calls.privilegedSchemes.map((s) => s.scheme)).toEqual(['app']);
    expect(electron.ipcMain.channels.sort()).toEqual([...CALL_NAMES.map((n) => `api:${n}`), 'host:save-file'].sort());
    // Chromium's profile is outside the data home.
    expect(path.relative(home, electron.app.getPath('userData')).startsWith('..')).toBe(true);
    // The preload exposed the contract and the save path, and nothing else of Electron.
    const exposed = await page.evaluate(() => ({
      calls: Object.keys((window as unknown as Bridged).vaeApi ?? {}).sort(),
      host: Object.keys((window as unknown as Bridged).vaeHost ?? {}),
      require: typeof (window as unknown as { require?: unknown }).require,
    }));
    expect(exposed.calls).toEqual([...CALL_NAMES, 'onEvent'].sort());
    expect(exposed).toMatchObject({ host: ['saveFile'], require: 'undefined' });
    expect(await page.locator('.top').textContent()).toMatch(/backend: (wasm|tensorflow)/);
    // app.info answered without loading tfjs into the main process.
    await new Promise((r) => setTimeout(r, 200));
    expect(tfjsResolvedByMain).toEqual([]);
    // A second launch focuses this window.
    const before = win.focused;
    electron.app.emit('second-instance', {}, [], ROOT);
    expect(win.focused).toBe(before + 1);
  });

  it('a second instance on the same profile quits at once and opens no window', () => {
    const report = launchWhole({ VAE_WORKBENCH_HOME: home, ELECTRON_STAND_IN_APPDATA: appData });
    expect(report.exitCode).toBe(0);
    expect(report.calls.showErrorBox).toEqual([]);
    expect(report.calls.windows).toBe(0);
    expect(report.calls.privilegedSchemes.map((s) => s.scheme)).toEqual(['app']);
  });

  it('carries api errors across the bridge with their code and field issues', async () => {
    const reply = await page.evaluate(() => (window as unknown as Bridged).vaeApi['runs.start']({ config: { model: { latentDim: -3 } } }));
    expect(reply).toMatchObject({ ok: false, error: { code: 'invalid_config' } });
    const issues = (reply as { error: { issues?: { path: string }[] } }).error.issues ?? [];
    expect(issues.map((i) => i.path).join(' '), JSON.stringify(reply)).toContain('latentDim');
    // and the renderer rethrows them as RemoteError: the view shows the message in place
    await go('#/run/99999');
    await page.locator('.error[role=alert]').waitFor();
    expect(await page.locator('.error[role=alert]').textContent()).toMatch(/99999|not found/i);
  });

  it('keeps the window on the app: a navigation to another origin is stopped', async () => {
    // (were it allowed, Chromium would end on an error page: the host does not exist)
    await page.evaluate(() => (window.location.href = 'https://elsewhere.example.test/'));
    await page.waitForTimeout(1000);
    expect(win.webContents.getURL()).toMatch(/^app:\/\/workbench\/index\.html/);
    await page.locator('.top').getByText('backend:').waitFor();
  });

  it('refuses IPC from a frame of another origin', async () => {
    const foreign = await win.context.newPage();
    await foreign.route('https://foreign.example.test/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<p>not the app</p>' }),
    );
    await foreign.goto('https://foreign.example.test/');
    // the same preload runs there (same webContents in this stand-in), but the main process checks the origin
    const reply = await foreign.evaluate(() => (window as unknown as Bridged).vaeApi['app.info']({}));
    expect(reply).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    const save = await foreign.evaluate(() => (window as unknown as Bridged).vaeHost.saveFile({ filename: 'x.txt', base64: 'eA==' }));
    expect(save).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
    await foreign.close();
  });

  let runId = 0;
  it('launches a run from the UI; it trains in a trainer the main process forked, completes and shows its samples', async () => {
    runId = await launchFromForm({ '#f-model-latentDim': '2' });
    await expect.poll(() => trainerChildren().length, { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(statusOf, { timeout: 240_000, interval: 1000 }).toMatch(/completed|failed|diverged|cancelled/);
    expect(await statusOf()).toBe('completed');
    await page.locator('.gallery img').first().waitFor();
    expect(await page.locator('.gallery img').count()).toBeGreaterThanOrEqual(2);
    // every subscriber of the run view shares one ipcRenderer listener
    expect(
      await page.evaluate(() =>
        (window as unknown as { __electronStandInListenerCount(c: string): number }).__electronStandInListenerCount('api-event'),
      ),
    ).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'launch-01-run-view.png'), fullPage: true });
    expect(electron.standIn.pageErrors).toEqual([]);
  });

  it('exports a bundle through the save dialog to the chosen path, and the file imports back', async () => {
    const file = path.join(home, 'exported.vaewb.zip');
    electron.standIn.saveDialogAnswers.push(file);
    await go(`#/run/${runId}`);
    const exportButton = page.getByRole('button', { name: 'Export bundle' });
    await expect.poll(() => exportButton.isEnabled(), { timeout: 30_000 }).toBe(true);
    await exportButton.click();
    await expect.poll(() => (existsSync(file) ? statSync(file).size : 0), { timeout: 60_000 }).toBeGreaterThan(1000);
    expect(electron.standIn.calls.showSaveDialog.at(-1)?.defaultPath).toMatch(/\.vaewb\.zip$/);
    await go('#/runs');
    await page.locator('.runs-table').waitFor();
    await page.setInputFiles('input[type=file]', file);
    // the run is already here: the import is refused naming it, and "Import a second copy" imports it again
    await expect
      .poll(() => page.getByRole('alertdialog', { name: 'Bundle already imported' }).textContent())
      .toContain(`already in the store as run #${runId}`);
    await page.getByRole('button', { name: 'Import a second copy' }).click();
    await page.waitForURL((u) => /#\/run\/\d+$/.test(u.hash) && !u.hash.endsWith(`/${runId}`), { timeout: 60_000 });
    await expect.poll(statusOf).toBe('imported');
  });

  it('live from any process: a run another process (the CLI) imports into this data home appears in the open window', async () => {
    await go('#/runs');
    await page.locator('.runs-table').waitFor();
    const before = await page.locator('.runs-table a[href^="#/run/"]').count();
    const file = path.join(home, 'exported.vaewb.zip');
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'vae-workbench.js'), 'import', file, '--again', '--json'], {
      cwd: ROOT,
      env: { ...process.env, VAE_WORKBENCH_HOME: home },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const done = Date.now();
    const { runId: imported } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { runId: number };
    await page.locator(`.runs-table a[href="#/run/${imported}"]`).waitFor({ timeout: 5000 });
    expect(Date.now() - done).toBeLessThan(2000);
    expect(await page.locator('.runs-table a[href^="#/run/"]').count()).toBe(before + 1);
  });

  it('closing the window while a run trains asks first; quitting ends its trainer and records it as cancelled', async () => {
    const longRun = await launchFromForm({ '#f-training-epochs': '200' });
    await expect.poll(statusOf, { timeout: 60_000 }).toBe('running');
    await expect.poll(() => trainerChildren().length, { timeout: 60_000 }).toBe(1);
    const [trainer] = trainerChildren();
    // "Keep training": the window stays
    electron.standIn.messageBoxAnswers.push(1);
    win.close();
    await expect.poll(() => electron.standIn.calls.showMessageBox.length).toBe(1);
    expect(electron.standIn.calls.showMessageBox[0]!.message).toMatch(/run is still training/);
    expect(win.isDestroyed()).toBe(false);
    expect(alive(trainer!)).toBe(true);
    // Quit, "Stop and quit"
    electron.standIn.messageBoxAnswers.push(0);
    electron.app.quit();
    expect(await Promise.race([electron.standIn.exited, new Promise((r) => setTimeout(() => r('timeout'), 30_000))])).toBe(0);
    expect(electron.standIn.calls.showMessageBox).toHaveLength(2);
    await expect.poll(() => alive(trainer!), { timeout: 10_000 }).toBe(false);
    expect(runStatus(longRun)).toBe('cancelled');
    expect(runStatus(runId)).toBe('completed');
  });
});

describe('start-up failures of the built main process (stand-in, whole process)', () => {
  it('a database from a newer release: an error box naming the schema versions, then quit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vae-launch-newer-'));
    try {
      const db = new Database(path.join(dir, 'workbench.sqlite'));
      db.pragma('user_version = 999');
      db.close();
      const report = launchWhole({ VAE_WORKBENCH_HOME: dir, ELECTRON_STAND_IN_APPDATA: dir + '-appdata' });
      expect(report.exitCode).toBe(1);
      expect(report.calls.showErrorBox).toHaveLength(1);
      expect(report.calls.showErrorBox[0]!.content).toMatch(/schema version 999/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(dir + '-appdata', { recursive: true, force: true });
    }
  });

  it('a data home that is not a database: an error box naming the file, then quit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vae-launch-garbage-'));
    try {
      writeFileSync(path.join(dir, 'workbench.sqlite'), 'this is not an SQLite file, it is text '.repeat(200));
      const report = launchWhole({ VAE_WORKBENCH_HOME: dir, ELECTRON_STAND_IN_APPDATA: dir + '-appdata' });
      expect(report.exitCode).toBe(1);
      expect(report.calls.showErrorBox[0]!.content).toContain(path.join(dir, 'workbench.sqlite'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(dir + '-appdata', { recursive: true, force: true });
    }
  });
});
