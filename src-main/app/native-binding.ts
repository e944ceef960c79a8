// better-sqlite3 is a native addon: node_modules/better-sqlite3/build holds the build for plain Node (tests,
// CLI, web host). Electron has its own ABI, so `npm run rebuild:electron` (scripts/electron-native.mjs)
// puts an Electron build at node_modules/.electron-native/better_sqlite3.node; the app passes that file to
// better-sqlite3 as `nativeBinding`, and the plain-Node build stays untouched.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../hosts/project-root';

export function electronNativeBinding(): string | undefined {
  const file = path.join(projectRoot(), 'node_modules', '.electron-native', 'better_sqlite3.node');
  return existsSync(file) ? file : undefined;
}
