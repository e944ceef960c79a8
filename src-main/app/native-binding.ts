// better-sqlite3 is a native addon: node_modules/better-sqlite3/build holds the build for plain Node (tests,
// CLI, web host). Electron has its own ABI, so `npm run rebuild:electron` (scripts/electron-native.mjs)
// puts an Electron build at node_modules/.electron-native/better_sqlite3.node (with built-for.json saying
// which Electron and better-sqlite3 made it); in development the app passes that file to better-sqlite3 as
// `nativeBinding`. A packaged app carries its own Electron build of the addon (electron-builder rebuilds
// it), and under plain Node (the launch test's stand-in) the plain-Node build is the right one.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../hosts/project-root';

export function electronNativeBinding(isPackaged: boolean): string | undefined {
  if (isPackaged || !process.versions.electron) return undefined;
  const file = path.join(projectRoot(), 'node_modules', '.electron-native', 'better_sqlite3.node');
  return existsSync(file) ? file : undefined;
}
