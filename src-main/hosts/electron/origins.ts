// Where the renderer comes from, and which URLs count as the app's own page (navigation and IPC sender
// checks). Pure: no Electron import, so it is unit-tested under Node.
import path from 'node:path';

/** The privileged custom scheme the built renderer is served from (`app://workbench/index.html`). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/**
 * `scheme://host[:port]` of a URL, or null when it does not parse. Node's URL gives the origin "null" for
 * non-special schemes such as app:, so the comparison key is built from protocol and host instead; for
 * http(s) it equals the WHATWG origin. Hosts compare case-insensitively (Chromium lowercases standard schemes' hosts).
 */
export function originKey(url: string): string | null {
  try {
    const u = new URL(url);
    if (!u.host) return null;
    return `${u.protocol}//${u.host.toLowerCase()}`;
  } catch {
    return null;
  }
}

/** Same scheme, host and port: never a string prefix (`http://localhost:5173.evil.example` is not ours). */
export function sameOrigin(url: string, origin: string): boolean {
  const a = originKey(url);
  return a !== null && a === originKey(origin);
}

export interface RendererSource {
  /** The URL the window loads. */
  url: string;
  /** The origin every navigation and IPC sender must have. */
  origin: string;
  /** Why ELECTRON_RENDERER_URL was ignored, when it was set but not used. */
  ignored?: string;
}

/**
 * The dev server (electron-vite's ELECTRON_RENDERER_URL) only in development and only for an http(s)
 * address on this machine; otherwise the built renderer from the app scheme.
 */
export function rendererSource(opts: { isPackaged: boolean; devUrl?: string | undefined }): RendererSource {
  const built: RendererSource = { url: `${APP_ORIGIN}/index.html`, origin: APP_ORIGIN };
  const devUrl = opts.devUrl?.trim();
  if (!devUrl) return built;
  if (opts.isPackaged) return { ...built, ignored: 'ELECTRON_RENDERER_URL is ignored in a packaged app' };
  let u: URL;
  try {
    u = new URL(devUrl);
  } catch {
    return { ...built, ignored: `ELECTRON_RENDERER_URL is not a URL: ${devUrl}` };
  }
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (!['http:', 'https:'].includes(u.protocol) || !local)
    return { ...built, ignored: `ELECTRON_RENDERER_URL must be an http(s) address on this machine, not ${devUrl}` };
  return { url: devUrl, origin: u.origin };
}

/** The file under `rendererDir` an app:// URL names, or null when it names something else. */
export function rendererFile(url: string, rendererDir: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  const rel = decodeURIComponent(u.pathname).replace(/^\/+/, '') || 'index.html';
  const file = path.resolve(rendererDir, rel);
  const inside = path.relative(path.resolve(rendererDir), file);
  if (!inside || inside.startsWith('..') || path.isAbsolute(inside)) return null;
  return file;
}
