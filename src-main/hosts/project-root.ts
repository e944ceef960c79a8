// The project (installation) root: the nearest directory above the running file with a package.json. The
// built code runs from <root>/out/main, the sources from <root>/src-main/...; both find the same root.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the project root (package.json) above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}
