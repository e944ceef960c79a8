// The layers are kept by the linter (eslint.config.js, drawn in README "Layers"): a deliberate break fails
// with a message naming the allowed direction, and a legal import passes.
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
