// The built renderer is served from a privileged custom scheme (app://workbench/...) rather than file://:
// a real origin to check IPC senders and navigations against (file URLs differ in drive-letter case on
// Windows, and every file:// page shares one origin), the app's CSP on every response, and no access to
// anything outside out/renderer.
import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { contentTypeOf } from '../hosts/content-type';
import { APP_SCHEME, rendererFile } from '../hosts/electron/origins';

/** Must run before the app is ready. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

export function serveRenderer(rendererDir: string, csp: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = rendererFile(request.url, rendererDir);
    if (!file) return new Response('not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(new Uint8Array(body), {
        headers: { 'Content-Type': contentTypeOf(file), 'Content-Security-Policy': csp },
      });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}
