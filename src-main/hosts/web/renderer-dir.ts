// Where the built renderer lives: <project>/out/renderer (electron-vite's output), found from this file.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project-root';

export { projectRoot };

export function rendererBuildDir(): string {
  return path.join(projectRoot(), 'out', 'renderer');
}

export function rendererIsBuilt(): boolean {
  return existsSync(path.join(rendererBuildDir(), 'index.html'));
}
