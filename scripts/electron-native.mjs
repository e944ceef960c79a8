// `npm run rebuild:electron` (also run by postinstall once the Electron binary is installed, and by
// `npm start` when it is missing): build better-sqlite3 for Electron's ABI into
// node_modules/.electron-native/better_sqlite3.node (and built-for.json: which Electron and better-sqlite3), leaving the plain-Node build in
// node_modules/better-sqlite3/build untouched (tests, CLI and web host use that one). The Electron app
// passes the result to better-sqlite3 as `nativeBinding` (src-main/app/native-binding.ts).
// Tries the prebuilt binary first (prebuild-install), then node-gyp against Electron's headers; both
// need the network. Exit code 0 on success, 1 (with one line saying why) otherwise.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const quiet = process.argv.includes('--quiet');
const electronVersion = require('electron/package.json').version;
const src = path.dirname(require.resolve('better-sqlite3/package.json'));
const betterSqlite3Version = require('better-sqlite3/package.json').version;
const outDir = path.join(root, 'node_modules', '.electron-native');
const work = path.join(outDir, 'better-sqlite3');
const target = path.join(outDir, 'better_sqlite3.node');

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(src, work, { recursive: true, filter: (p) => !p.startsWith(path.join(src, 'build')) });

const prebuild = (() => {
  try {
    return path.join(path.dirname(require.resolve('prebuild-install/package.json')), 'bin.js');
  } catch {
    return null;
  }
})();
const nodeGyp =
  process.env.npm_config_node_gyp ||
  path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');

const attempts = [];
if (prebuild) attempts.push(['prebuilt binary', [prebuild, '--runtime', 'electron', '--target', electronVersion, '--verbose']]);
if (existsSync(nodeGyp))
  attempts.push([
    'node-gyp',
    [nodeGyp, 'rebuild', '--release', `--target=${electronVersion}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'],
  ]);

const env = { ...process.env };
delete env.npm_config_nodedir; // a nodedir would build against Node's headers, not Electron's
for (const [what, args] of attempts) {
  const r = spawnSync(process.execPath, args, { cwd: work, stdio: quiet ? 'ignore' : 'inherit', env, timeout: 600_000 });
  const built = path.join(work, 'build', 'Release', 'better_sqlite3.node');
  if (r.status === 0 && existsSync(built)) {
    cpSync(built, target);
    // What built it: `npm start` rebuilds when Electron or better-sqlite3 is no longer this version.
    writeFileSync(
      path.join(outDir, 'built-for.json'),
      JSON.stringify(
        { electron: electronVersion, betterSqlite3: betterSqlite3Version, how: what, builtAt: new Date().toISOString() },
        null,
        2,
      ) + '\n',
    );
    rmSync(work, { recursive: true, force: true });
    console.log(`vae-workbench: better-sqlite3 for Electron ${electronVersion} (${what}): ${path.relative(root, target)}`);
    process.exit(0);
  }
}
rmSync(work, { recursive: true, force: true });
console.log(
  `vae-workbench: could not build better-sqlite3 for Electron ${electronVersion} (no prebuilt binary or headers reachable); run \`npm run rebuild:electron\` when online.`,
);
process.exit(1);
