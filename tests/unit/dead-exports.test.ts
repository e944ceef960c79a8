// No dead exports: every name a source file of src-main/, src-shared/ or src-renderer/ exports is used somewhere
// (in its own file beyond the declaration, or anywhere else in the tree, tests included). A name that appears
// nowhere but in its declaration is code nobody runs: delete it, or use it where it belongs.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const SOURCE = /\.(ts|svelte|mjs|js)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(`${dir}/${e.name}`) : SOURCE.test(e.name) ? [`${dir}/${e.name}`] : [],
  );
}

const EXPORT =
  /^export\s+(?:declare\s+)?(?:async\s+)?(?:abstract\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm;

describe('exports', () => {
  it('are all used', () => {
    const files = ['src-main', 'src-shared', 'src-renderer', 'tests', 'scripts'].flatMap(filesUnder);
    const text = new Map(files.map((f) => [f, readFileSync(path.join(root, f), 'utf8')]));
    const dead: string[] = [];
    for (const [file, source] of text) {
      if (!/^src-(main|shared|renderer)\/.*\.ts$/.test(file)) continue;
      for (const [, name] of source.matchAll(EXPORT)) {
        const pattern = `\\b${name!.replace(/\$/g, '\\$')}\\b`;
        const word = new RegExp(pattern);
        const uses =
          (source.match(new RegExp(pattern, 'g'))?.length ?? 0) - 1 + [...text].filter(([f, t]) => f !== file && word.test(t)).length;
        if (uses === 0) dead.push(`${file}: ${name}`);
      }
    }
    expect(dead).toEqual([]);
  });
});
