// `npm run rebuild:electron`: build better-sqlite3 for Electron's ABI into node_modules/.electron-native/,
// leaving the plain-Node build in node_modules/better-sqlite3/build untouched (tests, CLI and web host use it).
// The Electron app passes the result to better-sqlite3 as `nativeBinding` (src-main/app/native-binding.ts).
// Needs network access to Electron's headers (or prebuilt binaries); on failure it says so and exits 1.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const electronVersion = require('electron/package.json').version;
const src = path.dirname(require.resolve('better-sqlite3/package.json'));
const work = path.join(root, 'node_modules', '.electron-native', 'better-sqlite3');
const target = path.join(root, 'node_modules', '.electron-native', 'better_sqlite3.node');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(src, work, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) });
const gyp = path.join(path.dirname(require.resolve('npm/package.json', { paths: [path.dirname(process.execPath) + '/../lib/node_modules'] })), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const attempts = [
  ['npx', ['--yes', 'prebuild-install', '--runtime', 'electron', '--target', electronVersion]],
  [process.execPath, [gyp, 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers', '--runtime=electron']],
];
for (const [cmd, args] of attempts) {
  const r = spawnSync(cmd, args, { cwd: work, stdio: 'inherit', env: { ...process.env, npm_config_nodedir: '' } });
  const built = path.join(work, 'build', 'Release', 'better_sqlite3.node');
  if (r.status === 0 && existsSync(built)) {
    cpSync(built, target);
    console.log(`better-sqlite3 for Electron ${electronVersion}: ${target}`);
    process.exit(0);
  }
}
console.error(`could not build better-sqlite3 for Electron ${electronVersion} (no network to its headers or prebuilt binaries?)`);
process.exit(1);
