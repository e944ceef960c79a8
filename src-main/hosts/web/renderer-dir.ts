// Where the built renderer lives: <project>/out/renderer (electron-vite's output), found from this file.
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

export function rendererBuildDir(): string {
  return path.join(projectRoot(), 'out', 'renderer');
}

export function rendererIsBuilt(): boolean {
  return existsSync(path.join(rendererBuildDir(), 'index.html'));
}
