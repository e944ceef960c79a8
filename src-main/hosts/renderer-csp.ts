// The Content-Security-Policy of the renderer page, the same in Electron (app/) and in the browser (web/):
// one constant both hosts of the page import, so the Electron shell does not depend on the web host.
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws://127.0.0.1:* ws://localhost:*; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
