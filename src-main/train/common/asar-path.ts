// Inside a packaged app the code lives in resources/app.asar, but files that are read by path outside
// Node's patched fs (the tfjs wasm binaries) are unpacked to resources/app.asar.unpacked
// (electron-builder.yml asarUnpack). This maps a path inside the archive to its unpacked copy.
import path from 'node:path';

export function outsideAsar(p: string): string {
  const marker = `${path.sep}app.asar${path.sep}`;
  const i = p.indexOf(marker);
  return i < 0 ? p : `${p.slice(0, i)}${path.sep}app.asar.unpacked${path.sep}${p.slice(i + marker.length)}`;
}
