// `npm start`: build when the sources are newer than the build, then open the Electron app where its
// binary is installed (and a display exists); otherwise serve the same UI to a browser and say why.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const built = path.join(root, 'out', 'main', 'index.js');
const sourcesTime = Math.max(newest(path.join(root, 'src-main')), newest(path.join(root, 'src-renderer')));
if (!existsSync(built) || !existsSync(path.join(root, 'out', 'renderer', 'index.html')) || newest(path.join(root, 'out')) < sourcesTime) {
  console.log('Building the workbench (electron-vite build)…');
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function electronBinary() {
  try {
    const p = require('electron'); // the path of the binary, or throws when it was never downloaded
    return typeof p === 'string' && existsSync(p) ? { path: p } : { reason: 'the Electron binary is not installed' };
  } catch (err) {
    return { reason: `the Electron binary is not installed (${String(err.message).split('\n')[0]})` };
  }
}

const electron = electronBinary();
let reason = electron.reason;
if (!reason && process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) reason = 'there is no display (DISPLAY is not set)';
if (!reason && !existsSync(path.join(root, 'node_modules', '.electron-native', 'better_sqlite3.node'))) {
  console.log('Building better-sqlite3 for Electron (first start)…');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'electron-native.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) reason = "better-sqlite3 has no build for Electron's ABI yet (npm run rebuild:electron failed)";
}
if (process.env.VAE_WORKBENCH_WEB === '1') reason = 'VAE_WORKBENCH_WEB=1 asks for the browser host';

if (!reason) {
  const child = spawn(electron.path, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const args = [path.join(root, 'bin', 'vae-workbench.js'), 'serve', ...process.argv.slice(2)];
  const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, VAE_WORKBENCH_START_REASON: `Electron was not used: ${reason}; serving the workbench to a browser instead.` } });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}
