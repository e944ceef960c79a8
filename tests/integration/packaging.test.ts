// The installer configuration (electron-builder.yml) read against the build users run (out/): the
// configuration passes electron-builder's own schema; every file the packaged app loads at run time is
// packed by electron-builder's own file matchers, and unpacked from app.asar where it has to be (native
// addons, the tfjs wasm binaries). Building the installers needs the Electron download (`npm run dist`);
// this runs without it.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import path from 'node:path';
import { init, parse as parseModule } from 'es-module-lexer';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  main: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies: Record<string, string>;
};

type Filter = (file: string, stat: import('node:fs').Stats) => boolean;
interface BuilderConfig {
  productName?: string;
  appId?: string;
  directories?: { buildResources?: string; output?: string };
  asar?: boolean;
  electronFuses?: Record<string, boolean>;
  linux?: { target?: (string | { target: string })[]; icon?: string };
  mac?: { target?: (string | { target: string })[]; icon?: string };
  win?: { target?: (string | { target: string })[]; icon?: string };
  [key: string]: unknown;
}

async function loadConfig(): Promise<BuilderConfig> {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    getConfig(projectDir: string, configPath: string | null, configFromOptions: unknown): Promise<BuilderConfig>;
    validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  const config = await getConfig(root, null, null);
  await validateConfiguration(config, new DebugLogger(false)); // throws with electron-builder's own message
  return config;
}

/** electron-builder's own matcher for a file set of the configuration ("files" or "asarUnpack"). */
function matcher(config: BuilderConfig, name: 'files' | 'asarUnpack', platform: 'linux' | 'mac' | 'win'): Filter {
  const { getFileMatchers } = require('app-builder-lib/out/fileMatcher.js') as {
    getFileMatchers(
      config: unknown,
      name: string,
      dest: string,
      opts: unknown,
    ): { addPattern(p: string): void; patterns: string[]; createFilter(): Filter }[] | null;
  };
  const matchers = getFileMatchers(config, name, root, {
    macroExpander: (s: string) => s,
    customBuildOptions: config[platform] ?? {},
    globalOutDir: path.join(root, config.directories?.output ?? 'dist'),
    defaultSrc: root,
  });
  if (!matchers?.length) throw new Error(`electron-builder.yml has no "${name}"`);
  const first = matchers[0]!;
  // As electron-builder's getMainFileMatchers does for the app's own files: package.json always goes in.
  if (name === 'files' && !first.patterns.includes('package.json')) first.addPattern('package.json');
  return first.createFilter();
}

/** Every ancestor directory must pass the filter too (electron-builder walks the tree top-down). */
function matches(filter: Filter, file: string): boolean {
  const rel = path.relative(root, file).split(path.sep);
  for (let i = 1; i <= rel.length; i++) {
    const p = path.join(root, ...rel.slice(0, i));
    if (!filter(p, statSync(p))) return false;
  }
  return true;
}

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/** `require("x")` / `nodeRequire.resolve("x")` with a literal: packages the build loads through createRequire. */
const REQUIRE_RE = /\b\w*[rR]equire(?:\.resolve)?\(\s*"([^"]+)"/g;

function specifiers(text: string): string[] {
  const [imports] = parseModule(text);
  const specs = imports.map((i) => i.n).filter((n): n is string => !!n);
  for (const m of text.matchAll(REQUIRE_RE)) specs.push(m[1]!);
  return specs;
}

/** The runtime import graph of the built main process and trainer, from their entries: local files and bare packages. */
function importGraph(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const spec of specifiers(text)) {
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec));
      else if (!spec.startsWith('node:') && !builtinModules.includes(spec.split('/')[0]!)) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
  }
  return { files, packages };
}

/** The production dependency closure electron-builder packs: dependencies, installed optional ones, and theirs. */
function productionClosure(): Map<string, string> {
  const dirs = new Map<string, string>();
  const visit = (name: string, from: string, optional: boolean) => {
    if (dirs.has(name)) return;
    // Node's lookup (node_modules of this package, then of each parent); not require.resolve, which an
    // "exports" map without ./package.json refuses.
    let manifest: string | null = null;
    for (let d = from; ; d = path.dirname(d)) {
      const candidate = path.join(d, 'node_modules', name, 'package.json');
      if (existsSync(candidate)) {
        manifest = candidate;
        break;
      }
      if (path.dirname(d) === d) break;
    }
    if (!manifest) {
      if (optional) return; // an optional dependency that did not install is simply absent
      throw new Error(`production dependency ${name} is not installed`);
    }
    const dir = path.dirname(manifest);
    dirs.set(name, dir);
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const d of Object.keys(m.dependencies ?? {})) visit(d, dir, false);
    for (const d of Object.keys(m.optionalDependencies ?? {})) visit(d, dir, true);
  };
  for (const d of Object.keys(pkg.dependencies)) visit(d, root, false);
  for (const d of Object.keys(pkg.optionalDependencies ?? {})) visit(d, root, true);
  return dirs;
}

function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  expect(b.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

const targets = (t: BuilderConfig['linux']) => (t?.target ?? []).map((x) => (typeof x === 'string' ? x : x.target));

describe('installer configuration against the build', () => {
  beforeAll(async () => {
    await init;
  });

  it("passes electron-builder's own schema and names the app, its targets and real icons", async () => {
    const config = await loadConfig();
    expect(config.productName).toBe('VAE Workbench');
    expect(config.appId).toMatch(/^[a-z]+(\.[a-z0-9-]+)+$/);
    expect(targets(config.linux)).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(targets(config.mac)).toContain('dmg');
    expect(targets(config.win)).toContain('nsis');
    expect(pkg.scripts.dist).toMatch(/electron-builder/);
    expect(pkg.devDependencies.electron).toBeDefined(); // electron-builder reads the Electron version from here

    const res = path.join(root, config.directories?.buildResources ?? 'build');
    const png = pngSize(path.join(res, config.linux!.icon!));
    expect(png.width).toBeGreaterThanOrEqual(512);
    expect(png.height).toBe(png.width);
    const icns = readFileSync(path.join(res, config.mac!.icon!));
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    expect(icns.includes(Buffer.from('ic10')) || icns.includes(Buffer.from('ic09'))).toBe(true); // 1024 or 512 px
    const ico = readFileSync(path.join(res, config.win!.icon!));
    expect(ico.readUInt16LE(0)).toBe(0);
    expect(ico.readUInt16LE(2)).toBe(1); // type 1 = icon
    const count = ico.readUInt16LE(4);
    const widths = Array.from({ length: count }, (_, i) => ico[6 + 16 * i] || 256); // 0 encodes 256
    expect(widths).toEqual(expect.arrayContaining([16, 32, 48, 256]));
  });

  it('packs every file of the built app and every package it imports, and unpacks native addons and wasm', async () => {
    const config = await loadConfig();
    expect(config.asar ?? true).toBe(true);
    const mainEntry = path.join(root, pkg.main);
    // The main process, each run's trainer with its evaluation worker, and the worker the service moves heavy bundle work to.
    const entries = [mainEntry, ...['trainer.js', 'eval-worker.js', 'heavy-worker.js'].map((f) => path.join(root, 'out', 'main', f))];
    for (const e of [...entries, path.join(root, 'out', 'preload', 'index.cjs'), path.join(root, 'out', 'renderer', 'index.html')]) {
      expect(existsSync(e), `${path.relative(root, e)} is built`).toBe(true);
    }
    for (const platform of ['linux', 'mac', 'win'] as const) {
      const files = matcher(config, 'files', platform);
      const unpack = matcher(config, 'asarUnpack', platform);
      const graph = importGraph(entries);
      expect(graph.files.size).toBeGreaterThan(2);
      // The app's own files: the main/trainer graph, the preload, the whole renderer.
      const appFiles = [
        ...graph.files,
        ...walk(path.join(root, 'out', 'preload')),
        ...walk(path.join(root, 'out', 'renderer')),
        path.join(root, 'package.json'),
      ];
      for (const f of appFiles) {
        expect(existsSync(f), `${path.relative(root, f)} (imported by the build) exists`).toBe(true);
        expect(matches(files, f), `${path.relative(root, f)} is packed (${platform})`).toBe(true);
      }
      // Sources, tests and source maps stay out of the installer.
      for (const f of [
        'src-main/api/service.ts',
        'tests/integration/packaging.test.ts',
        'electron.vite.config.ts',
        'out/main/testkit.js',
      ]) {
        expect(matches(files, path.join(root, f)), `${f} is not packed`).toBe(false);
      }
      // Every package the main process or a trainer imports at run time is a production dependency
      // (electron-builder packs those only); electron itself is the runtime.
      const closure = productionClosure();
      for (const name of graph.packages) {
        if (name === 'electron') continue;
        const declared = closure.has(name) || name in (pkg.optionalDependencies ?? {}); // optional: packed where it installed
        expect(declared, `${name} (imported by out/main) is a production dependency`).toBe(true);
      }
      // Loaded by path, so outside app.asar: every native addon and the tfjs wasm binaries.
      const mustUnpack: string[] = [];
      for (const dir of closure.values()) {
        for (const f of walk(dir)) {
          if (f.endsWith('.node') || (f.includes(`${path.sep}tfjs-backend-wasm${path.sep}dist${path.sep}`) && f.endsWith('.wasm')))
            mustUnpack.push(f);
        }
      }
      expect(mustUnpack.some((f) => f.endsWith('better_sqlite3.node'))).toBe(true);
      expect(mustUnpack.filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(3); // plain, simd, threaded-simd
      for (const f of mustUnpack) {
        expect(unpack(f, statSync(f)), `${path.relative(root, f)} is unpacked from app.asar (${platform})`).toBe(true);
      }
      // What must stay packed is not unpacked wholesale (the app's own code).
      expect(unpack(mainEntry, statSync(mainEntry))).toBe(false);
    }
  });

  it('keeps the fuses the trainers need and closes the others', async () => {
    const config = await loadConfig();
    const fuses = config.electronFuses ?? {};
    const built = walk(path.join(root, 'out', 'main'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    // Trainers are forked as the app's own binary in Node mode (ELECTRON_RUN_AS_NODE): that needs runAsNode.
    if (built.includes('ELECTRON_RUN_AS_NODE')) expect(fuses.runAsNode).toBe(true);
    expect(fuses.enableNodeOptionsEnvironmentVariable).toBe(false);
    expect(fuses.enableNodeCliInspectArguments).toBe(false);
  });
});
