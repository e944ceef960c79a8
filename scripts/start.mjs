// `npm start`: build when the sources are newer than the build, then open the Electron app where its
// binary is installed (and a display exists and Chromium's sandbox can start); otherwise serve the same UI
// to a browser and say why, and how to get the desktop app back. Never just crashes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUID_ABORT, linuxSandboxProblem, nativeBuildState } from './electron-checks.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const nativeDir = path.join(root, 'node_modules', '.electron-native');

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function buildIfStale() {
  const built = path.join(root, 'out', 'main', 'index.js');
  const sourcesTime = Math.max(newest(path.join(root, 'src-main')), newest(path.join(root, 'src-renderer')));
  if (existsSync(built) && existsSync(path.join(root, 'out', 'renderer', 'index.html')) && newest(path.join(root, 'out')) >= sourcesTime)
    return;
  console.log('Building the workbench (electron-vite build)…');
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
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

/** Why the desktop app cannot open here (and what to do), or null. */
function whyNotElectron(electron) {
  if (process.env.VAE_WORKBENCH_WEB === '1')
    return { reason: 'VAE_WORKBENCH_WEB=1 asks for the browser host', fix: 'Unset VAE_WORKBENCH_WEB to open the desktop app.' };
  if (electron.reason)
    return {
      reason: electron.reason,
      fix: 'Run `node node_modules/electron/install.js` (or `npm rebuild electron`) where the Electron download host is reachable.',
    };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY)
    return { reason: 'there is no display (DISPLAY is not set)', fix: 'Start it from a desktop session, or under `xvfb-run npm start`.' };
  if (process.platform === 'linux') {
    const sandbox = linuxSandboxProblem({ electronPath: electron.path });
    if (sandbox) return sandbox;
  }
  const versions = { electron: require('electron/package.json').version, betterSqlite3: require('better-sqlite3/package.json').version };
  const native = nativeBuildState(nativeDir, versions);
  if (!native.ok) {
    console.log(`Building better-sqlite3 for Electron ${versions.electron} (${native.reason})…`);
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'electron-native.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0)
      return {
        reason: `${native.reason}, and \`npm run rebuild:electron\` failed`,
        fix: 'Run `npm run rebuild:electron` where prebuilt binaries or the Electron headers can be downloaded.',
      };
  }
  return null;
}

function serveToBrowser(why) {
  if (why.fix) console.log(`To open the desktop app instead: ${why.fix}`);
  const args = [path.join(root, 'bin', 'vae-workbench.js'), 'serve', ...process.argv.slice(2)];
  const child = spawn(process.execPath, args, {
    stdio: 'inherit',
    env: {
      ...process.env,
      VAE_WORKBENCH_START_REASON: `Electron was not used: ${why.reason}; serving the workbench to a browser instead.`,
    },
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code) => process.exit(code ?? 0));
}

function openElectron(electronPath) {
  const child = spawn(electronPath, [root, ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    process.stderr.write(d);
    if (stderr.length < 65536) stderr += d.toString();
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    // The sandbox check above can miss a setup (another LSM, a container): never leave the user with a crash.
    if (code !== 0 && SUID_ABORT.test(stderr)) {
      const sandbox = linuxSandboxProblem({ electronPath }) ?? {
        reason: "Chromium's SUID sandbox helper aborted Electron",
        fix: 'See "Launching" in README.md.',
      };
      serveToBrowser(sandbox);
      return;
    }
    process.exit(code ?? (signal ? 1 : 0));
  });
}

buildIfStale();
const electron = electronBinary();
const why = whyNotElectron(electron);
if (why) serveToBrowser(why);
else openElectron(electron.path);
