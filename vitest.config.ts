import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

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
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        resolve,
        test: {
          // Real SQLite files, real trainer processes, real sockets.
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        resolve,
        test: {
          // The real UI in headless Chromium.
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 300_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
