// The size limits of eslint.config.js: a file (so also a class) over 400 lines of code, or a Svelte component
// whose <script> has over 250, fails lint; blank lines, comments and markup do not count; each listed exception
// has its own ceiling and is still needed.
import fs from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- the lint config is plain JavaScript without types
import { SIZE_EXCEPTIONS } from '../../eslint.config.js';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });

async function sizeErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => /max-lines$|max-script-lines/.test(m.ruleId ?? '')).map((m) => m.message);
}

/** A class of `methods` three-line methods: short functions, so only a per-file limit can see its size. */
function bigClass(methods: number): string {
  const body = Array.from({ length: methods }, (_, i) => `  m${i}(): number {\n    return ${i};\n  }`).join('\n');
  return `export class Big {\n${body}\n}\n`;
}

const component = (scriptLines: number, markupLines: number): string =>
  `<script lang="ts">\n${Array.from({ length: scriptLines }, (_, i) => `  const v${i} = ${i};`).join('\n')}\n` +
  `  // a comment\n\n</script>\n\n${Array.from({ length: markupLines }, (_, i) => `<p>line {v0} ${i}</p>`).join('\n')}\n`;

describe('size limits', () => {
  it('sees a class of short methods over 400 lines of code, not comments or blank lines', async () => {
    expect(await sizeErrors('src-main/vae/probe-size.ts', bigClass(132))).toEqual([]); // 2 + 3 * 132 = 398 lines
    expect(await sizeErrors('src-main/vae/probe-size.ts', bigClass(133))).toEqual([expect.stringMatching(/too many lines \(401\)/)]);
    const padded = `${'// note\n\n'.repeat(300)}${bigClass(132)}`;
    expect(await sizeErrors('src-shared/probe-size.ts', padded)).toEqual([]);
    expect(await sizeErrors('src-renderer/src/lib/probe-size.ts', bigClass(140))).toHaveLength(1);
  });

  it("counts a Svelte component's script, not its markup", async () => {
    expect(await sizeErrors('src-renderer/src/views/ProbeSize.svelte', component(250, 600))).toEqual([]);
    expect(await sizeErrors('src-renderer/src/components/ProbeSize.svelte', component(251, 0))).toEqual([
      expect.stringMatching(/Component script has too many lines \(251\)\. Maximum allowed is 250/),
    ]);
  });

  it.each(Object.entries(SIZE_EXCEPTIONS as Record<string, [number, string]>))(
    '%s: an exception with its reason, under its own ceiling and still over the default',
    async (file, [ceiling, reason]) => {
      expect(reason.length).toBeGreaterThan(20);
      const code = fs.readFileSync(path.join(root, file), 'utf8');
      expect(await sizeErrors(file, code)).toEqual([]);
      const elsewhere = file.replace(/\/([^/]+)$/, '/Probe$1');
      expect(await sizeErrors(elsewhere, code), `${file} is under the default limit now: remove its exception`).toHaveLength(1);
      const grown = file.endsWith('.svelte')
        ? code.replace('</script>', `${Array.from({ length: ceiling }, (_, i) => `const g${i} = ${i};`).join('\n')}\n</script>`)
        : `${code}\n${Array.from({ length: ceiling }, (_, i) => `export const g${i} = ${i};`).join('\n')}\n`;
      expect(await sizeErrors(file, grown)).toHaveLength(1);
    },
  );
});
