import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The build (out/) and the electron stand-in are loaded by Node itself, never re-transformed by vitest:
// the suites run what users run. (Each project sets it: projects do not inherit the root's server options.)
const server = { deps: { external: [/\/out\//, /\/tests\/launch\/electron-stand-in\//] } };
// The shared, Node-free module: `@shared/...` (as in tsconfig.json and electron.vite.config.ts).
const resolve = { alias: { '@shared': fileURLToPath(new URL('./src-shared', import.meta.url)) } };

export default defineConfig({
  test: {
    globalSetup: ['tests/global-setup.ts'],
    projects: [
      {
        resolve,
        test: {
          // Pure and fast: no database, no child process, no browser.
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          server,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        resolve,
        test: {
          // Real SQLite files, real trainer processes, real sockets; the app's code from its build (tests/built.ts).
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          server,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        resolve,
        test: {
          // The desktop app from its build: out/main/index.js under Node with an electron stand-in.
          name: 'launch',
          include: ['tests/launch/**/*.test.ts'],
          environment: 'node',
          server,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
      {
        resolve,
        test: {
          // The real UI in headless Chromium through the built web host.
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          server,
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
