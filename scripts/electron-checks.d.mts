// Types for scripts/electron-checks.mjs (plain Node script, imported by the unit tests).
export const SUID_ABORT: RegExp;
export function nativeBuildState(
  nativeDir: string,
  versions: { electron: string; betterSqlite3: string },
): { ok: true } | { ok: false; reason: string };
export function linuxSandboxProblem(opts: {
  electronPath: string;
  readFile?: (file: string) => string;
  stat?: (file: string) => { uid: number; mode: number };
}): { reason: string; fix: string } | null;
