#!/usr/bin/env node
// The command line entry: runs the built CLI (out/main/cli.js), the same build as the desktop app and
// the web host. `npm install` builds it (postinstall) and `npm start` / `npm test` rebuild it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(cli)) {
  process.stderr.write('vae-workbench: the workbench is not built yet (out/main/cli.js is missing); run `npm run build`.\n');
  process.exit(2);
}
await import(new URL('../out/main/cli.js', import.meta.url).href);
