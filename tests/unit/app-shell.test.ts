// The desktop shell's pure decisions: origins (navigation and IPC sender checks), the dev-server URL, the
// files the app:// scheme serves, Chromium's profile directory, the start-up error box, npm start's checks.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { APP_ORIGIN, originKey, rendererFile, rendererSource, sameOrigin } from '../../src-main/hosts/electron/origins';
import { chromiumProfileDir } from '../../src-main/app/profile-dir';
import { describeStartupError } from '../../src-main/app/startup-error';
import { linuxSandboxProblem, nativeBuildState } from '../../scripts/electron-checks.mjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';

describe('origins', () => {
  it('compares scheme, host and port, never a string prefix', () => {
    expect(sameOrigin('app://workbench/index.html#/run/1', APP_ORIGIN)).toBe(true);
    expect(sameOrigin('APP://WORKBENCH/assets/x.js', APP_ORIGIN)).toBe(true);
    expect(sameOrigin('app://workbench.evil/index.html', APP_ORIGIN)).toBe(false);
    expect(sameOrigin('file:///C:/app/out/renderer/index.html', APP_ORIGIN)).toBe(false);
    expect(sameOrigin('http://localhost:5173.evil.example/', 'http://localhost:5173')).toBe(false);
    expect(sameOrigin('http://localhost:5173/x?y#z', 'http://localhost:5173/')).toBe(true);
    expect(sameOrigin('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(sameOrigin('not a url', APP_ORIGIN)).toBe(false);
    expect(originKey('about:blank')).toBeNull();
  });

  it('honours ELECTRON_RENDERER_URL only in development and only for this machine', () => {
    expect(rendererSource({ isPackaged: false })).toEqual({ url: 'app://workbench/index.html', origin: APP_ORIGIN });
    expect(rendererSource({ isPackaged: false, devUrl: 'http://localhost:5173/' })).toEqual({
      url: 'http://localhost:5173/',
      origin: 'http://localhost:5173',
    });
    const packaged = rendererSource({ isPackaged: true, devUrl: 'http://localhost:5173/' });
    expect(packaged.url).toBe('app://workbench/index.html');
    expect(packaged.ignored).toMatch(/packaged/);
    expect(rendererSource({ isPackaged: false, devUrl: 'https://evil.example/' }).ignored).toMatch(/this machine/);
    expect(rendererSource({ isPackaged: false, devUrl: 'file:///tmp/x.html' }).url).toBe('app://workbench/index.html');
  });

  it('serves only files inside out/renderer from app://workbench', () => {
    const dir = path.resolve('/srv/out/renderer');
    expect(rendererFile('app://workbench/', dir)).toBe(path.join(dir, 'index.html'));
    expect(rendererFile('app://workbench/assets/index-1.js?x=1', dir)).toBe(path.join(dir, 'assets', 'index-1.js'));
    // dot segments are resolved by the URL parser, so they cannot climb out
    expect(rendererFile('app://workbench/%2e%2e/%2e%2e/etc/passwd', dir)).toBe(path.join(dir, 'etc', 'passwd'));
    expect(rendererFile('app://workbench/..%2F..%2Fetc%2Fpasswd', dir)).toBeNull();
    expect(rendererFile('app://other/index.html', dir)).toBeNull();
    expect(rendererFile('https://workbench/index.html', dir)).toBeNull();
  });
});

describe("Chromium's profile", () => {
  it('never lies inside the data home', () => {
    expect(chromiumProfileDir('/home/u/.config', '/home/u/.config/vae-workbench')).toBe('/home/u/.config/vae-workbench-chromium');
    // a data home that contains appData: the profile goes beside the data home
    const p = chromiumProfileDir('/home/u/.config', '/home/u');
    expect(path.relative('/home/u', p).startsWith('..')).toBe(true);
    expect(p).toBe('/home/u-chromium');
  });
});

describe('the start-up error box', () => {
  it('names an ABI mismatch of the SQLite addon and says how to rebuild it', () => {
    const err = new Error(
      "The module '/x/better_sqlite3.node' was compiled against a different Node.js version using NODE_MODULE_VERSION 127. This version of Node.js requires NODE_MODULE_VERSION 143.",
    );
    const text = describeStartupError(err, { dataHome: '/d' });
    expect(text.message).toMatch(/NODE_MODULE_VERSION 127/);
    expect(text.message).toMatch(/npm run rebuild:electron/);
  });
  it('names a newer schema and the data home', () => {
    const text = describeStartupError(new Error('the run database /d/workbench.sqlite has schema version 99, but ...'), { dataHome: '/d' });
    expect(text.message).toMatch(/schema version 99/);
    expect(text.message).toMatch(/Data home: \/d/);
  });
});

describe('npm start checks', () => {
  it('rebuilds the Electron copy of better-sqlite3 when Electron or better-sqlite3 changed', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'native-'));
    try {
      const v = { electron: '40.1.0', betterSqlite3: '12.4.1' };
      expect(nativeBuildState(dir, v)).toMatchObject({ ok: false, reason: /no build/ });
      writeFileSync(path.join(dir, 'better_sqlite3.node'), 'x');
      expect(nativeBuildState(dir, v)).toMatchObject({ ok: false, reason: /does not record/ });
      writeFileSync(path.join(dir, 'built-for.json'), JSON.stringify({ electron: '40.0.0', betterSqlite3: '12.4.1' }));
      expect(nativeBuildState(dir, v)).toMatchObject({ ok: false, reason: /built for Electron 40\.0\.0, now 40\.1\.0/ });
      writeFileSync(path.join(dir, 'built-for.json'), JSON.stringify({ electron: '40.1.0', betterSqlite3: '12.2.0' }));
      expect(nativeBuildState(dir, v)).toMatchObject({ ok: false, reason: /12\.2\.0, now 12\.4\.1/ });
      writeFileSync(path.join(dir, 'built-for.json'), JSON.stringify(v));
      expect(nativeBuildState(dir, v)).toEqual({ ok: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('detects the AppArmor user-namespace restriction and an unconfigured SUID helper, with the fix', () => {
    const proc = (values: Record<string, string>) => (f: string) => {
      if (f in values) return values[f]!;
      throw new Error('ENOENT');
    };
    const restricted = proc({ '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1\n' });
    const electronPath = '/p/node_modules/electron/dist/electron';
    const notSuid = () => ({ uid: 1000, mode: 0o100755 });
    const suid = () => ({ uid: 0, mode: 0o104755 });
    const problem = linuxSandboxProblem({ electronPath, readFile: restricted, stat: notSuid });
    expect(problem?.reason).toMatch(/AppArmor/);
    expect(problem?.fix).toContain('sudo chown root:root /p/node_modules/electron/dist/chrome-sandbox && sudo chmod 4755');
    expect(problem?.fix).toContain(`profile vae-workbench-electron ${electronPath} flags=(unconfined)`);
    expect(linuxSandboxProblem({ electronPath, readFile: restricted, stat: suid })).toBeNull();
    expect(
      linuxSandboxProblem({
        electronPath,
        readFile: proc({ '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '0' }),
        stat: notSuid,
      }),
    ).toBeNull();
    expect(
      linuxSandboxProblem({ electronPath, readFile: proc({ '/proc/sys/kernel/unprivileged_userns_clone': '0' }), stat: notSuid })?.reason,
    ).toMatch(/unprivileged_userns_clone=0/);
  });
});
