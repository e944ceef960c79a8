// The layers are kept by the linter (eslint.config.js, drawn in README "Layers"): a deliberate break fails
// with a message naming the allowed direction, and a legal import passes.
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function lint(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => /no-restricted-(imports|syntax)/.test(m.ruleId ?? '')).map((m) => m.message);
}

describe('layer rules', () => {
  it('refuses imports up the layers, naming what is allowed', async () => {
    const up = await lint('src-main/vae/new-file.ts', "import { Scheduler } from '../train/scheduler';\nexport const s = Scheduler;\n");
    expect(up).toHaveLength(1);
    expect(up[0]).toMatch(/src-main\/vae\/ may import only data\/, kernels\/, @shared/);
    const store = await lint('src-main/train/new-file.ts', "export const load = () => import('../store/run-store');\n");
    expect(store[0]).toMatch(/src-main\/train\/ may import only/);
    const shell = await lint(
      'src-main/app/new-file.ts',
      "import { startWebHost } from '../hosts/web/server';\nexport const s = startWebHost;\n",
    );
    expect(shell[0]).toMatch(/not the web host/);
  });

  it('keeps the renderer and the shared module off Node and src-main', async () => {
    const renderer = await lint(
      'src-renderer/src/lib/new-file.ts',
      "import { calls } from '../../../src-main/api/service';\nimport fs from 'node:fs';\nexport const x = [calls, fs];\n",
    );
    expect(renderer).toHaveLength(2);
    expect(renderer[0]).toMatch(/may import only @shared/);
    const shared = await lint('src-shared/new-file.ts', "import path from 'node:path';\nexport const p = path;\n");
    expect(shared[0]).toMatch(/Node-free/);
  });

  it('lets imports go down the layers', async () => {
    expect(
      await lint(
        'src-main/train/new-file.ts',
        "import { VaeModel } from '../vae/model';\nimport { writeCheckpointDir } from '../checkpoints/checkpoint-dir';\nimport { calls } from '@shared/contract';\nexport const x = [VaeModel, writeCheckpointDir, calls];\n",
      ),
    ).toEqual([]);
  });
});

/** Every folder below `top` (itself included), relative to the root: the places a probe import must fail in. */
function foldersUnder(top: string): string[] {
  const found = [top];
  for (const entry of fs.readdirSync(path.join(root, top), { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...foldersUnder(`${top}/${entry.name}`));
  }
  return found;
}

// A later flat-config block REPLACES the options of a rule an earlier block set for the same file, so a rule
// written once for src-main/ could silently vanish in one sub-folder: probe every folder that exists.
describe('layer rules in every folder', () => {
  const LAYER_OF: Record<string, string | undefined> = { app: 'train', hosts: 'store', bench: 'cluster', api: 'hosts' };
  it.each(foldersUnder('src-main'))('%s never imports the renderer, src-shared by path or a layer above', async (dir) => {
    const up = '../'.repeat(dir.split('/').length);
    const probes = [
      `import { api } from '${up}src-renderer/src/lib/api';\nexport const x = api;\n`,
      `export const x = () => import('${up}src-renderer/src/lib/api');\n`,
      `import { calls } from '${up}src-shared/contract';\nexport const x = calls;\n`,
      `export const x = () => import('${up}src-shared/contract');\n`,
    ];
    const layer = dir.split('/')[1];
    const above = layer ? (LAYER_OF[layer] ?? 'api') : undefined;
    if (above) {
      const toLayer = '../'.repeat(dir.split('/').length - 1);
      probes.push(`import * as m from '${toLayer}${above}/x';\nexport const x = m;\n`);
      probes.push(`export const x = () => import('${toLayer}${above}/x');\n`);
    }
    for (const code of probes) {
      const messages = await lint(`${dir}/probe-file.ts`, code);
      expect(messages, `${dir}: ${code}`).toHaveLength(1);
      expect(messages[0]).toMatch(/never imports the renderer|as @shared|may import only/);
    }
  });

  it.each(['src-main/hosts/electron', 'src-main/hosts/web'])('%s imports neither the other host nor the CLI', async (dir) => {
    for (const other of ['cli/main', 'web/server', 'electron/channels'].filter((o) => !dir.endsWith(o.split('/')[0]))) {
      expect(await lint(`${dir}/probe-file.ts`, `import * as m from '../${other}';\nexport const x = m;\n`)).toHaveLength(1);
      expect(await lint(`${dir}/probe-file.ts`, `export const x = () => import('../${other}');\n`)).toHaveLength(1);
    }
  });

  it('src-main/app imports neither the web host nor the CLI, also dynamically', async () => {
    for (const code of [
      "import * as m from '../hosts/cli/main';\nexport const x = m;\n",
      "export const x = () => import('../hosts/web/server');\n",
    ]) {
      expect(await lint('src-main/app/probe-file.ts', code)).toEqual([expect.stringMatching(/not the web host/)]);
    }
  });

  // train/ by where its code runs (eslint.config.js TRAIN_PARTS): each part imports only the parts below it.
  const TRAIN_MAY: Record<string, string[]> = {
    common: [],
    progress: [],
    host: ['common'],
    compute: ['common'],
    worker: ['compute', 'common'],
    process: ['compute', 'common', 'progress'],
  };
  it.each(Object.keys(TRAIN_MAY))('src-main/train/%s imports only the parts of train/ it runs beside', async (part) => {
    expect(fs.existsSync(path.join(root, 'src-main/train', part)), `src-main/train/${part} exists`).toBe(true);
    const file = `src-main/train/${part}/probe-file.ts`;
    for (const other of Object.keys(TRAIN_MAY).filter((p) => p !== part)) {
      const allowed = TRAIN_MAY[part]!.includes(other);
      for (const code of [
        `import * as m from '../${other}/x';\nexport const x = m;\n`,
        `export const x = () => import('../${other}/x');\n`,
      ]) {
        const messages = await lint(file, code);
        if (allowed) expect(messages, `${part} -> ${other}: ${code}`).toEqual([]);
        else
          expect(messages, `${part} -> ${other}: ${code}`).toEqual([expect.stringMatching(new RegExp(`train/${part}/ may import only`))]);
      }
    }
  });

  it('the trainer process reads the worker protocol as types only; host/, common/ and progress/ never load tfjs', async () => {
    const types = "import type { EvalJob } from '../worker/eval-messages';\nexport type X = EvalJob;\n";
    expect(await lint('src-main/train/process/probe-file.ts', types)).toEqual([]);
    for (const part of ['host', 'common', 'progress']) {
      const tf = await lint(`src-main/train/${part}/probe-file.ts`, "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n");
      expect(tf, part).toEqual([expect.stringMatching(/never loads tfjs/)]);
    }
    expect(await lint('src-main/train/compute/probe-file.ts', "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n")).toEqual(
      [],
    );
  });

  it.each(foldersUnder('src-renderer/src'))('%s imports neither src-main nor Node', async (dir) => {
    const up = '../'.repeat(dir.split('/').length);
    const code = `import { calls } from '${up}src-main/api/service';\nimport fs from 'node:fs';\nexport const x = [calls, fs];\n`;
    expect(await lint(`${dir}/probe-file.ts`, code)).toHaveLength(2);
  });
});
