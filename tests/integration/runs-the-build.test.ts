// The integration suites drive the build (out/main/testkit.js) as Node loads it, not a vitest-transformed
// copy and not the TypeScript sources: the same bytes the app, the CLI and the web host run.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TESTKIT, WorkbenchService, RunStore } from '../built';

describe('the suites run the build', () => {
  it('loads out/main/testkit.js natively (no vitest transform) from the shared chunks', () => {
    for (const fn of [WorkbenchService, RunStore]) expect(fn.toString()).not.toMatch(/__vite_ssr|__vi_import/);
    // the service these suites drive is the very chunk the desktop app (index.js) and the CLI (cli.js) import
    const serviceChunk = (entry: string) =>
      /chunks\/(service-[\w-]+)\.js/.exec(readFileSync(TESTKIT.replace('testkit.js', entry), 'utf8'))?.[1];
    expect(serviceChunk('testkit.js')).toBeTruthy();
    expect(serviceChunk('index.js')).toBe(serviceChunk('testkit.js'));
    expect(serviceChunk('cli.js')).toBe(serviceChunk('testkit.js'));
  });
});
