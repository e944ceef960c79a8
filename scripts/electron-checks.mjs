// Checks `npm start` makes before it opens Electron (pure where it can be; unit-tested in
// tests/unit/electron-checks.test.ts):
//  - nativeBuildState: is node_modules/.electron-native/better_sqlite3.node built for the installed Electron
//    and better-sqlite3 (built-for.json records what built it)?
//  - linuxSandboxProblem: will Chromium's sandbox start? Ubuntu 23.10+ (AppArmor) forbids unprivileged user
//    namespaces to unconfined programs, and Electron run from node_modules then falls back to its SUID helper
//    (chrome-sandbox), which aborts unless it is owned by root with mode 4755.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const SUID_ABORT = /SUID sandbox helper binary was found, but is not configured correctly/;

/** @returns {{ ok: true } | { ok: false, reason: string }} */
export function nativeBuildState(nativeDir, versions) {
  const addon = path.join(nativeDir, 'better_sqlite3.node');
  if (!existsSync(addon)) return { ok: false, reason: "better-sqlite3 has no build for Electron's ABI yet" };
  let stamp = null;
  try {
    stamp = JSON.parse(readFileSync(path.join(nativeDir, 'built-for.json'), 'utf8'));
  } catch {
    return { ok: false, reason: 'the Electron build of better-sqlite3 does not record what built it' };
  }
  if (stamp.electron !== versions.electron)
    return { ok: false, reason: `better-sqlite3 was built for Electron ${stamp.electron}, now ${versions.electron}` };
  if (stamp.betterSqlite3 !== versions.betterSqlite3)
    return { ok: false, reason: `the Electron build is of better-sqlite3 ${stamp.betterSqlite3}, now ${versions.betterSqlite3}` };
  return { ok: true };
}

function readText(file, read) {
  try {
    return read(file).trim();
  } catch {
    return null;
  }
}

/**
 * Why Electron's sandbox cannot start here, with what to do, or null when it can.
 * @param {{ electronPath: string, readFile?: (f: string) => string, stat?: (f: string) => { uid: number, mode: number } }} opts
 */
export function linuxSandboxProblem({ electronPath, readFile = (f) => readFileSync(f, 'utf8'), stat = statSync }) {
  const apparmor = readText('/proc/sys/kernel/apparmor_restrict_unprivileged_userns', readFile) === '1';
  const cloneOff = readText('/proc/sys/kernel/unprivileged_userns_clone', readFile) === '0';
  if (!apparmor && !cloneOff) return null;
  const helper = path.join(path.dirname(electronPath), 'chrome-sandbox');
  let st = null;
  try {
    st = stat(helper);
  } catch {
    st = null;
  }
  if (st && st.uid === 0 && (st.mode & 0o4000) !== 0) return null; // the SUID helper is set up: it works
  const why = apparmor
    ? 'this system restricts unprivileged user namespaces (AppArmor, kernel.apparmor_restrict_unprivileged_userns=1, Ubuntu 23.10 and later)'
    : 'this system disables unprivileged user namespaces (kernel.unprivileged_userns_clone=0)';
  return {
    reason: `Chromium's sandbox cannot start: ${why}, and Electron's SUID helper ${helper} is not owned by root with mode 4755`,
    fix: [
      `Either make the helper setuid root (once per Electron install):`,
      `  sudo chown root:root ${helper} && sudo chmod 4755 ${helper}`,
      `or allow user namespaces for this Electron with an AppArmor profile, /etc/apparmor.d/vae-workbench-electron:`,
      `  abi <abi/4.0>,`,
      `  include <tunables/global>`,
      `  profile vae-workbench-electron ${electronPath} flags=(unconfined) {`,
      `    userns,`,
      `    include if exists <local/vae-workbench-electron>`,
      `  }`,
      `then: sudo apparmor_parser -r /etc/apparmor.d/vae-workbench-electron`,
      `(An installed package, .deb or AppImage from \`npm run dist\`, does not need this.)`,
    ].join('\n'),
  };
}
