import { resolve } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

// The shared, Node-free module (contract, run config, presets, model types): `@shared/...` in every build.
const resolveShared = { alias: { '@shared': resolve(__dirname, 'src-shared') } };

export default defineConfig({
  main: {
    resolve: resolveShared,
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/app/main.ts'),
          trainer: resolve(__dirname, 'src-main/train/process/trainer-process.ts'),
          // A trainer's evaluation worker on an idle core (src-main/train/process/eval-helper.ts).
          'eval-worker': resolve(__dirname, 'src-main/train/worker/eval-worker.ts'),
          // Bundle import/export and exports off the host's event loop (src-main/api/heavy-work.ts).
          'heavy-worker': resolve(__dirname, 'src-main/api/heavy-worker.ts'),
          // The bench's probe threads: how fast two cores could take one training step, cut either way (src-main/bench/split-ceiling.ts).
          'split-probe-worker': resolve(__dirname, 'src-main/bench/split-probe-worker.ts'),
          // The command line and the web host (`vae-workbench ...`): the same build as the app.
          cli: resolve(__dirname, 'src-main/hosts/cli/main.ts'),
          // What the integration suites drive (tests/built.ts): the same modules, the same chunks.
          testkit: resolve(__dirname, 'src-main/testkit.ts'),
        },
      },
    },
  },
  preload: {
    resolve: resolveShared,
    build: {
      outDir: 'out/preload',
      // A sandboxed preload must be one self-contained CommonJS file.
      externalizeDeps: false,
      isolatedEntries: true,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-main/hosts/electron/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    base: './',
    resolve: resolveShared,
    plugins: [svelte()],
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      emptyOutDir: true,
      rollupOptions: { input: resolve(__dirname, 'src-renderer/index.html') },
    },
  },
});
