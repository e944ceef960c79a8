// Chromium's own profile (caches, local storage, GPU cache) must not live in the data home: Electron's
// default userData is appData/<name>, which for this package is exactly the data home
// (~/.config/vae-workbench). Pure, unit-tested.
import path from 'node:path';

export const PROFILE_DIR_NAME = 'vae-workbench-chromium';

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** appData/vae-workbench-chromium, or a sibling of the data home when that would fall inside it. */
export function chromiumProfileDir(appData: string, dataHome: string): string {
  const candidate = path.join(appData, PROFILE_DIR_NAME);
  if (!isInside(candidate, dataHome)) return candidate;
  return path.join(path.dirname(path.resolve(dataHome)), `${path.basename(path.resolve(dataHome))}-chromium`);
}
