// A small, honest stand-in for the `electron` module, for loading the BUILT main process (out/main/index.js)
// under plain Node. It implements only what the app uses, with Electron's semantics where the app depends on
// them (documented at https://www.electronjs.org/docs/latest/api/):
//  - app: lifecycle events, whenReady, quit() emitting a preventable 'before-quit', exit(), paths,
//    requestSingleInstanceLock (a SingletonLock file in userData held by a live pid), isPackaged = false,
//    getAppPath.
//  - protocol: registerSchemesAsPrivileged only before ready; handle(scheme, fn) answers requests of that
//    scheme with the app's own handler (a fetch Response).
//  - BrowserWindow: a headless Chromium page (playwright-core). The REAL built preload
//    (webPreferences.preload) runs before the page's scripts with a `require('electron')` that offers
//    contextBridge and ipcRenderer; contextBridge.exposeInMainWorld freezes the object onto window[key];
//    ipcRenderer.invoke crosses to Node via page.exposeBinding into the handlers registered with
//    ipcMain.handle, with an event whose sender is the window's webContents and whose senderFrame.url is the
//    calling frame's real URL. webContents.send delivers to the preload's ipcRenderer.on listeners.
//    Custom-scheme pages are loaded through a reversible https mapping that the page never sees
//    (senderFrame.url and will-navigate get the scheme URL back). Main-frame navigations the page starts
//    emit a preventable 'will-navigate' on webContents, as in Electron.
//  - dialog: showSaveDialog / showMessageBox answer from queues the test fills; showErrorBox records.
// The test drives it through `standIn` (not part of Electron's API).
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const standIn = {
  /** Set by the test: () => Promise<import('playwright-core').BrowserContext>. */
  newContext: null,
  saveDialogAnswers: [],
  messageBoxAnswers: [],
  calls: { showErrorBox: [], showMessageBox: [], showSaveDialog: [], openExternal: [], privilegedSchemes: [], windows: 0 },
  exitCode: null,
  exited: null,
  pageErrors: [],
  appPath: process.cwd(),
};
let resolveExited;
standIn.exited = new Promise((r) => (resolveExited = r));

// ------------------------------------------------------------------ ipcMain
const handlers = new Map();
export const ipcMain = {
  handle(channel, fn) {
    if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    handlers.set(channel, fn);
  },
  removeHandler(channel) {
    handlers.delete(channel);
  },
  /** stand-in only: the registered channels */
  get channels() {
    return [...handlers.keys()];
  },
};

// ------------------------------------------------------------------ protocol
const schemeHandlers = new Map();
let ready = false;
export const protocol = {
  registerSchemesAsPrivileged(schemes) {
    if (ready) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    standIn.calls.privilegedSchemes.push(...schemes);
  },
  handle(scheme, fn) {
    if (!ready) throw new Error('protocol.handle must be called after app is ready');
    if (!standIn.calls.privilegedSchemes.some((s) => s.scheme === scheme))
      throw new Error(`scheme ${scheme} was not registered as privileged`);
    schemeHandlers.set(scheme, fn);
  },
};
const MAPPED = '.scheme.electron-stand-in.test';
/** app://workbench/x  <->  https://workbench--app.scheme.electron-stand-in.test/x (what Chromium really loads) */
function toPageUrl(url) {
  const u = new URL(url);
  const scheme = u.protocol.slice(0, -1);
  if (!schemeHandlers.has(scheme)) return url;
  return `https://${u.host}--${scheme}${MAPPED}${u.pathname}${u.search}${u.hash}`;
}
function fromPageUrl(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  if (u.protocol !== 'https:' || !u.hostname.endsWith(MAPPED)) return url;
  const [host, scheme] = u.hostname.slice(0, -MAPPED.length).split('--');
  return `${scheme}://${host}${u.pathname}${u.search}${u.hash}`;
}

// ------------------------------------------------------------------ app
class App extends EventEmitter {
  isPackaged = false;
  name = 'vae-workbench';
  paths = { appData: path.join(os.tmpdir(), 'electron-stand-in-appdata'), downloads: os.tmpdir(), temp: os.tmpdir() };
  #resolveReady = null;
  #readyPromise = new Promise((r) => (this.#resolveReady = r));
  #quitting = false;
  constructor() {
    super();
    if (process.env.ELECTRON_STAND_IN_APPDATA) this.paths.appData = process.env.ELECTRON_STAND_IN_APPDATA;
    // Electron emits 'ready' once the main script's first turn has run. As a whole process that is the
    // turn after this module loads; inside the test, the test says when it has imported the main script.
    if (process.env.ELECTRON_STAND_IN_REPORT === '1') setImmediate(() => this.becomeReady());
  }
  /** stand-in only */
  becomeReady() {
    if (ready) return;
    ready = true;
    this.emit('ready');
    this.#resolveReady();
  }
  whenReady() {
    return this.#readyPromise;
  }
  isReady() {
    return ready;
  }
  getAppPath() {
    return standIn.appPath;
  }
  getPath(name) {
    if (name === 'userData') return this.paths.userData ?? path.join(this.paths.appData, this.name);
    if (name === 'sessionData') return this.paths.sessionData ?? this.getPath('userData');
    if (!(name in this.paths)) throw new Error(`Failed to get '${name}' path`);
    return this.paths[name];
  }
  setPath(name, value) {
    if (ready && (name === 'userData' || name === 'sessionData')) throw new Error(`${name} must be set before the app is ready`);
    this.paths[name] = value;
  }
  enableSandbox() {
    if (ready) throw new Error('app.enableSandbox() must be called before app is ready');
    this.sandboxed = true;
  }
  /** Like Electron's, a lock in userData (SingletonLock) held by a live process: the first holder wins. */
  requestSingleInstanceLock() {
    const dir = this.getPath('userData');
    const lock = path.join(dir, 'SingletonLock');
    mkdirSync(dir, { recursive: true });
    try {
      const holder = Number(readFileSync(lock, 'utf8'));
      if (holder && holder !== process.pid && pidAlive(holder)) return false;
    } catch {
      // no lock yet
    }
    writeFileSync(lock, String(process.pid));
    this.lockFile = lock;
    return true;
  }
  /** Electron: emits before-quit (preventable), closes the windows, then will-quit and quit. */
  quit() {
    if (this.#quitting) return;
    const event = preventable();
    this.emit('before-quit', event);
    if (event.defaultPrevented) return;
    this.#quitting = true;
    for (const w of BrowserWindow.getAllWindows()) w.destroy();
    this.emit('will-quit', preventable());
    void this.exit(0);
  }
  async exit(code = 0) {
    if (standIn.exitCode !== null) return;
    standIn.exitCode = code;
    if (this.lockFile) rmSync(this.lockFile, { force: true });
    for (const w of BrowserWindow.getAllWindows()) w.destroy();
    resolveExited(code);
    // Run as a whole process (`node --import ./register.mjs out/main/index.js`): report, then really exit.
    if (process.env.ELECTRON_STAND_IN_REPORT === '1') {
      process.stdout.write(`ELECTRON_STAND_IN ${JSON.stringify({ exitCode: code, calls: standIn.calls })}\n`);
      process.exit(code);
    }
  }
}
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
function preventable() {
  return {
    defaultPrevented: false,
    preventDefault() {
      this.defaultPrevented = true;
    },
  };
}
export const app = new App();

// ------------------------------------------------------------------ session, Menu, shell, dialog
export const session = {
  defaultSession: Object.assign(new EventEmitter(), {
    webRequest: {
      onHeadersReceived(fn) {
        session.defaultSession.headersListener = fn;
      },
    },
    setPermissionRequestHandler(fn) {
      session.defaultSession.permissionHandler = fn;
    },
  }),
};
export const Menu = {
  buildFromTemplate: (template) => ({ template }),
  setApplicationMenu(menu) {
    Menu.current = menu;
  },
};
export const shell = {
  async openExternal(url) {
    standIn.calls.openExternal.push(url);
  },
};
export const dialog = {
  showErrorBox(title, content) {
    standIn.calls.showErrorBox.push({ title, content });
  },
  async showSaveDialog(...args) {
    const options = args.length > 1 ? args[1] : args[0];
    standIn.calls.showSaveDialog.push(options);
    const answer = standIn.saveDialogAnswers.shift();
    return answer ? { canceled: false, filePath: answer } : { canceled: true, filePath: undefined };
  },
  async showMessageBox(...args) {
    const options = args.length > 1 ? args[1] : args[0];
    standIn.calls.showMessageBox.push(options);
    const answer = standIn.messageBoxAnswers.shift();
    return { response: answer ?? options.cancelId ?? 0, checkboxChecked: false };
  },
};

// ------------------------------------------------------------------ BrowserWindow
const windows = new Set();
let nextId = 1;

/** The script Chromium runs before the page's own: the real preload, given Electron's sandboxed require. */
function preloadInitScript(preloadFile) {
  const source = readFileSync(preloadFile, 'utf8');
  return `(() => {
  if (window !== window.top) return; // Electron runs the preload in the main frame only
  const invoke = window.__electronStandInInvoke;
  const listeners = new Map();
  window.__electronStandInDeliver = (channel, args) => {
    for (const fn of [...(listeners.get(channel) ?? [])]) fn({ sender: null }, ...args);
  };
  const ipcRenderer = {
    invoke: (channel, ...args) => invoke(channel, ...args),
    on(channel, fn) { if (!listeners.has(channel)) listeners.set(channel, new Set()); listeners.get(channel).add(fn); return ipcRenderer; },
    removeListener(channel, fn) { listeners.get(channel)?.delete(fn); return ipcRenderer; },
    listenerCount: (channel) => listeners.get(channel)?.size ?? 0,
  };
  window.__electronStandInListenerCount = (channel) => ipcRenderer.listenerCount(channel);
  const contextBridge = {
    exposeInMainWorld(key, api) {
      if (key in window) throw new Error('Cannot bind an API on top of an existing property on the window object');
      Object.defineProperty(window, key, { value: Object.freeze(api), enumerable: true });
    },
  };
  const require = (id) => {
    if (id === 'electron') return { contextBridge, ipcRenderer };
    throw new Error('module not found: ' + id + ' (a sandboxed preload can only require electron)');
  };
  const module = { exports: {} };
  (function (require, module, exports) {
${source}
  })(require, module, module.exports);
})();`;
}

class WebContents extends EventEmitter {
  constructor(win) {
    super();
    this.win = win;
    this.id = win.id;
    this.session = session.defaultSession;
    this.windowOpenHandler = null;
  }
  setWindowOpenHandler(fn) {
    this.windowOpenHandler = fn;
  }
  get mainFrame() {
    const page = this.win.page;
    return page ? { url: fromPageUrl(page.url()), parent: null } : null;
  }
  getURL() {
    return this.win.page ? fromPageUrl(this.win.page.url()) : '';
  }
  send(channel, ...args) {
    const page = this.win.page;
    if (!page || page.isClosed()) return;
    // JSON round trip stands in for structured clone; delivery order is kept by the page's evaluate queue.
    const payload = JSON.parse(JSON.stringify(args));
    void page.evaluate(([c, a]) => globalThis.__electronStandInDeliver?.(c, a), [channel, payload]).catch(() => {});
  }
}

export class BrowserWindow extends EventEmitter {
  static getAllWindows() {
    return [...windows];
  }
  constructor(options = {}) {
    super();
    if (!ready) throw new Error('Cannot create BrowserWindow before app is ready');
    this.id = nextId++;
    standIn.calls.windows++;
    this.options = options;
    this.page = null;
    this.destroyed = false;
    this.focused = 0;
    this.webContents = new WebContents(this);
    windows.add(this);
  }
  async loadURL(url) {
    if (!standIn.newContext) throw new Error('stand-in: the test did not provide a browser (standIn.newContext)');
    const context = await standIn.newContext();
    this.context = context;
    await context.exposeBinding('__electronStandInInvoke', (source, channel, ...args) => this.#invoke(source, channel, args));
    const preload = this.options.webPreferences?.preload;
    if (preload) await context.addInitScript({ content: preloadInitScript(preload) });
    // Electron's will-navigate: a main-frame navigation the page starts (not loadURL) can be prevented.
    await context.route('**/*', (route) => this.#willNavigate(route));
    await context.route(`https://*${MAPPED}/**`, (route) => this.#serve(route));
    this.page = await context.newPage();
    this.page.on('pageerror', (e) => standIn.pageErrors.push(e.message));
    this.page.on('load', () => this.emit('ready-to-show'));
    this.page.on('framenavigated', (frame) => {
      if (frame === this.page.mainFrame()) this.webContents.emit('did-navigate', preventable(), fromPageUrl(frame.url()));
    });
    this.loading = true;
    await this.page.goto(toPageUrl(url));
    this.loading = false;
    this.webContents.emit('did-finish-load');
  }
  async #willNavigate(route) {
    const request = route.request();
    const page = this.page;
    if (!this.loading && page && request.isNavigationRequest() && request.frame() === page.mainFrame()) {
      const event = preventable();
      this.webContents.emit('will-navigate', event, fromPageUrl(request.url()));
      if (event.defaultPrevented) return route.abort('aborted');
    }
    return route.fallback();
  }
  async #invoke(source, channel, args) {
    const handler = handlers.get(channel);
    if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
    const frame = source.frame;
    const event = {
      sender: this.webContents,
      senderFrame: { url: fromPageUrl(frame.url()), parent: frame.parentFrame() ? {} : null },
      processId: 1,
      frameId: 1,
    };
    return handler(event, ...JSON.parse(JSON.stringify(args)));
  }
  async #serve(route) {
    const url = fromPageUrl(route.request().url());
    const scheme = new URL(url).protocol.slice(0, -1);
    const response = await schemeHandlers.get(scheme)(new Request(url, { method: route.request().method() }));
    const headers = {};
    response.headers.forEach((v, k) => (headers[k] = v));
    await route.fulfill({ status: response.status, headers, body: Buffer.from(await response.arrayBuffer()) });
  }
  /** Electron: 'close' is preventable; then the window is destroyed and 'closed' follows. */
  close() {
    const event = preventable();
    this.emit('close', event);
    if (event.defaultPrevented) return;
    this.destroy();
  }
  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    windows.delete(this);
    void this.context?.close().catch(() => {});
    this.emit('closed');
    if (windows.size === 0) app.emit('window-all-closed');
  }
  isDestroyed() {
    return this.destroyed;
  }
  isMinimized() {
    return false;
  }
  restore() {}
  show() {
    this.shown = true;
  }
  focus() {
    this.focused++;
  }
}

export const contextBridge = undefined; // preload-only APIs live in the page (see preloadInitScript)
export const ipcRenderer = undefined;
export default { app, BrowserWindow, ipcMain, protocol, session, Menu, shell, dialog };
