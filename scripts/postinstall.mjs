// Our own, tolerant replacement for electron's install script (denied in package.json "allowScripts").
// On a normal machine this downloads the Electron binary exactly as electron's own script would.
// Where the download host is unreachable it prints one line and exits 0, so `npm install` still succeeds
// and `npm start` falls back to the web host. Last, it builds the workbench (electron-vite), so the CLI,
// the web host and the app run right after `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let electronDir = null;
try {
  electronDir = dirname(require.resolve('electron/package.json'));
} catch {
  // production install without devDependencies: no Electron to install
}
const installer = electronDir && join(electronDir, 'install.js');
if (installer && existsSync(installer)) installElectron(installer);
build();
process.exit(process.exitCode ?? 0);

function installElectron(installer) {
  const result = spawnSync(process.execPath, [installer], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  if (result.status === 0) {
    console.log('vae-workbench: Electron binary is installed.');
    // better-sqlite3 needs a second build for Electron's ABI (the plain-Node one stays for CLI and tests).
    spawnSync(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'electron-native.mjs'), '--quiet'], { stdio: 'inherit' });
  } else {
    const reason =
      String(result.stderr ?? '')
        .split('\n')
        .find((l) => /error|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/i.test(l)) ?? `exit ${result.status}`;
    console.log(
      `vae-workbench: Electron binary not downloaded (${reason.trim().slice(0, 160)}); \`npm start\` will serve the workbench to a browser instead.`,
    );
  }
}

function build() {
  const cli = join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');
  if (!existsSync(cli) || !existsSync(join(root, 'src-main'))) return; // an installed package ships its build
  const r = spawnSync(process.execPath, [cli, 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status === 0) console.log('vae-workbench: built (out/).');
  else {
    // The install itself succeeded; `npm start` and `npm test` build again and show the errors in full.
    console.log('vae-workbench: the build failed; `npm run build` shows why.');
    process.stderr.write(String(r.stderr ?? '').slice(-2000));
  }
}
