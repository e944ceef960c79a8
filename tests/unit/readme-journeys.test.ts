// README's "Where behaviour lives" names, for five journeys, the files in order: every path it names must exist
// (a move or a rename that forgets the README fails here).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

describe("README's where behaviour lives", () => {
  it('names five journeys, and every file it names exists', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('### Where behaviour lives');
    expect(start).toBeGreaterThan(0);
    const section = readme.slice(start, readme.indexOf('\n#', start + 5));
    const rows = section.split('\n').filter((l) => l.startsWith('| **'));
    expect(rows.map((r) => r.split('**')[1])).toEqual([
      'Start a run',
      'The ELBO',
      'A metric reaching a chart',
      'A checkpoint export',
      'A Slurm task coming home',
    ]);
    const paths = [...section.matchAll(/`((?:src-main|src-renderer|src-shared)\/[^`]+\.(?:ts|svelte))`/g)].map((m) => m[1]!);
    expect(paths.length).toBeGreaterThan(40);
    expect(paths.filter((p) => !existsSync(path.join(root, p)))).toEqual([]);
  });
});
