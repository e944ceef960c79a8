// Where a built entry of this app is (out/main/<name>: the trainer, the heavy-work and evaluation workers):
// beside the bundle the calling code was built into, or, from the TypeScript sources (unit tests), in the
// project's own out/main, which `npm test` builds first.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `<build>/<name>` (a folder named main that holds it), or `<root>/out/main/<name>`; null when it is not built. */
export function builtEntry(name: string, from: string = fileURLToPath(import.meta.url)): string | null {
  let dir = path.dirname(from);
  for (;;) {
    if (path.basename(dir) === 'main' && existsSync(path.join(dir, name))) return path.join(dir, name);
    const fromRoot = path.join(dir, 'out', 'main', name);
    if (existsSync(path.join(dir, 'package.json'))) return existsSync(fromRoot) ? fromRoot : null;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
