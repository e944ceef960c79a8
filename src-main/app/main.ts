// The Electron shell: window, lifecycle, menu. Thin: everything else is the service behind the IPC host.
import { app, BrowserWindow, Menu, session, shell } from 'electron';

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { WorkbenchService } from '../api/service';
import { bindIpcHost } from '../hosts/electron/ipc-host';
import { CONTENT_SECURITY_POLICY } from '../hosts/renderer-csp';
import { electronNativeBinding } from './native-binding';

const here = path.dirname(fileURLToPath(import.meta.url));
let service: WorkbenchService | null = null;

app.enableSandbox();

async function createWindow(): Promise<void> {
  service ??= new WorkbenchService({ host: 'electron', nativeBinding: electronNativeBinding() });
  const devUrl = process.env.ELECTRON_RENDERER_URL;
  const indexFile = path.join(here, '..', 'renderer', 'index.html');
  const ownUrl = devUrl ?? pathToFileURL(indexFile).href;
  const isOwnUrl = (url: string) => url.split('#')[0]!.split('?')[0] === ownUrl.split('#')[0]!.split('?')[0] || (!!devUrl && url.startsWith(devUrl));

  const window = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'VAE Workbench',
    show: false,
    webPreferences: {
      preload: path.join(here, '..', 'preload', 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window.show());
  // Navigation away from the app and new windows are denied; links open in the system browser.
  window.webContents.on('will-navigate', (event, url) => {
    if (!isOwnUrl(url)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  // Bundle and CSV downloads: let the user choose where to save.
  window.webContents.session.on('will-download', (_event, item) => {
    item.setSaveDialogOptions({ title: 'Save', defaultPath: item.getFilename() });
  });
  const unbind = bindIpcHost(service, window, isOwnUrl);
  window.on('closed', unbind);
  if (devUrl) await window.loadURL(devUrl);
  else await window.loadFile(indexFile);
}

app.whenReady().then(async () => {
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
  await createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void createWindow();
  });
});

app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let closing = false;
app.on('before-quit', (event) => {
  if (!service || closing) return;
  closing = true;
  event.preventDefault();
  void service.close().finally(() => app.exit(0));
});

