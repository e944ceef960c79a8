// Every suite runs against the build users run (out/): build it once when it is missing or older than the
// sources, so `vitest run` alone never tests a stale artifact. `npm test` builds before vitest anyway.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

function newest(dir: string): number {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export default function setup(): void {
  const entries = ['main/index.js', 'main/cli.js', 'main/trainer.js', 'main/testkit.js', 'preload/index.cjs', 'renderer/index.html'].map(
    (f) => path.join(root, 'out', f),
  );
  const sources = Math.max(...['src-shared', 'src-main', 'src-renderer'].map((d) => newest(path.join(root, d))));
  if (entries.every((f) => existsSync(f)) && Math.min(...entries.map((f) => statSync(f).mtimeMs)) >= sources) return;
  const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error('electron-vite build failed: the tests run against the build');
}
