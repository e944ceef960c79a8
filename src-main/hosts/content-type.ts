// The Content-Type of a file of the built renderer, the same in Electron (app/app-protocol.ts) and in the browser
// (web/request-handler.ts): one table both hosts of the page import.
import path from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

/** The Content-Type for `file` by its extension (any case); bytes of an unknown kind are application/octet-stream. */
export function contentTypeOf(file: string): string {
  const ext = path.extname(file).toLowerCase();
  return Object.hasOwn(CONTENT_TYPES, ext) ? CONTENT_TYPES[ext]! : 'application/octet-stream';
}
