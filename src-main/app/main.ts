// The Electron shell: window, lifecycle, menu. Thin: everything else is the service behind the IPC host.
import path from 'node:path';
import { app, BrowserWindow, dialog, Menu, session, shell } from 'electron';
import { resolveDataHome } from '../api/data-home';
import { WorkbenchService } from '../api/service';
import { bindIpcHost } from '../hosts/electron/ipc-host';
import { bindSaveHost } from '../hosts/electron/save-host';
import { senderCheck } from '../hosts/electron/sender-check';
import { CONTENT_SECURITY_POLICY } from '../hosts/renderer-csp';
import { registerAppScheme, serveRenderer } from './app-protocol';
import { electronNativeBinding } from './native-binding';
import { rendererSource, sameOrigin } from '../hosts/electron/origins';
import { chromiumProfileDir } from './profile-dir';
import { createQuitGuard } from './quit-guard';
import { describeStartupError } from './startup-error';

let service: WorkbenchService | null = null;
let mainWindow: BrowserWindow | null = null;
const dataHome = resolveDataHome();
const quitGuard = createQuitGuard(() => (service ? service.scheduler.runningIds.length + service.scheduler.queuedIds.length : 0));

// Before ready: Chromium's profile outside the data home, the app scheme, the sandbox.
app.setPath('userData', chromiumProfileDir(app.getPath('appData'), dataHome));
registerAppScheme();
app.enableSandbox();

/** The service, or null after telling the user why it cannot open (then the app quits). */
function openService(): WorkbenchService | null {
  const nativeBinding = electronNativeBinding(app.isPackaged);
  try {
    return new WorkbenchService({ host: 'electron', dataHome, ...(nativeBinding ? { nativeBinding } : {}) });
  } catch (err) {
    const { title, message } = describeStartupError(err, { dataHome, nativeBinding });
    console.error(`${title}: ${message}`);
    dialog.showErrorBox(title, message);
    app.exit(1);
    return null;
  }
}

async function createWindow(svc: WorkbenchService): Promise<void> {
  const source = rendererSource({ isPackaged: app.isPackaged, devUrl: process.env.ELECTRON_RENDERER_URL });
  if (source.ignored) console.warn(`vae-workbench: ${source.ignored}`);
  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'VAE Workbench',
    show: false,
    webPreferences: {
      preload: path.join(app.getAppPath(), 'out', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  mainWindow = window;
  window.once('ready-to-show', () => window.show());
  // Navigation away from the app and new windows are denied; https links open in the system browser.
  window.webContents.on('will-navigate', (event, url) => {
    if (!sameOrigin(url, source.origin)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  // Plain <a download> links (sample PNGs): let the user choose where to save.
  window.webContents.session.on('will-download', (_event, item) => {
    item.setSaveDialogOptions({ title: 'Save', defaultPath: item.getFilename() });
  });
  // The last window closing quits (except on macOS): ask first while runs train.
  window.on('close', (event) => {
    if (process.platform === 'darwin' || quitGuard.confirmed || BrowserWindow.getAllWindows().length > 1) return;
    const active = svc.scheduler.runningIds.length + svc.scheduler.queuedIds.length;
    if (active === 0) return;
    event.preventDefault();
    void quitGuard.confirm(window).then((yes) => yes && app.quit());
  });
  const allowed = senderCheck(window, source.origin);
  const unbind = [bindIpcHost(svc, window, allowed), bindSaveHost(window, allowed)];
  window.on('closed', () => {
    for (const u of unbind) u();
    if (mainWindow === window) mainWindow = null;
  });
  await window.loadURL(source.url);
}

function installSessionPolicy(): void {
  // The dev server's responses get the app's CSP too (app:// responses carry it themselves).
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      { role: process.platform === 'darwin' ? 'appMenu' : 'fileMenu' },
      { role: 'editMenu' },
      { role: 'viewMenu' },
      { role: 'windowMenu' },
    ]),
  );
}

// One instance per user: a second launch focuses the first window (two instances must never share one
// data home's database and temporary files).
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  void app.whenReady().then(async () => {
    service = openService();
    if (!service) return;
    const svc = service;
    serveRenderer(path.join(app.getAppPath(), 'out', 'renderer'), CONTENT_SECURITY_POLICY);
    installSessionPolicy();
    await createWindow(svc);
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) void createWindow(svc);
    });
  });
}

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Quitting: ask while runs train, then stop the trainers (recorded as cancelled), flush, close the database.
let closing = false;
app.on('before-quit', (event) => {
  if (!service || closing) return;
  event.preventDefault();
  void quitGuard.confirm(mainWindow).then((yes) => {
    if (!yes || closing || !service) return;
    closing = true;
    void service.close().finally(() => app.exit(0));
  });
});
