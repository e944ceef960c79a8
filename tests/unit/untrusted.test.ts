// The one rule for untrusted files and documents (src-main/os/untrusted.ts): FIFOs never block, devices and
// symbolic links out are refused, sizes, depth, counts and name lengths are checked before parsing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkJsonText,
  checkWritableTarget,
  copyRegularTree,
  parseUntrustedJson,
  pathInside,
  readRegularFile,
  tailRegularFile,
  UntrustedError,
} from '../../src-main/os/untrusted';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vae-untrusted-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const o = { what: 'task 1', root: dir, maxBytes: 1024, limit: 'UNTRUSTED_MAX_SMALL_FILE_BYTES' as const };

describe('files under the rule', () => {
  it('a FIFO is refused at once (a non-blocking open), not read', () => {
    const fifo = path.join(dir, 'f.log');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    expect(() => readRegularFile('f.log', o)).toThrow('task 1: f.log is a FIFO (named pipe), not a regular file');
    expect(() => tailRegularFile(fifo, { what: 'task 1', root: dir })).toThrow(UntrustedError);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('a device is refused even where the user names it', () => {
    expect(() => readRegularFile('/dev/zero', { ...o, root: undefined, follow: true })).toThrow('is a character device');
  });

  it('symbolic links out of the folder and .. paths are refused; inside is fine', () => {
    writeFileSync(path.join(dir, 'ok.txt'), 'hello');
    symlinkSync('/etc/passwd', path.join(dir, 'out'));
    expect(readRegularFile('ok.txt', o).toString()).toBe('hello');
    expect(() => readRegularFile('out', o)).toThrow('leads outside');
    expect(() => readRegularFile('../../etc/passwd', o)).toThrow('is outside');
    expect(() => readRegularFile('/etc/passwd', o)).toThrow('is outside');
    expect(() => pathInside(dir, 'a\0b', 'x')).toThrow('NUL');
  });

  it('sizes are checked on the open file, naming the limit', () => {
    writeFileSync(path.join(dir, 'big.txt'), 'x'.repeat(2000));
    expect(() => readRegularFile('big.txt', o)).toThrow('2000 bytes, more than the limit of 1024 bytes (UNTRUSTED_MAX_SMALL_FILE_BYTES)');
    expect(tailRegularFile('big.txt', { what: 'w', root: dir }, 1, 10)).toBe('x'.repeat(10));
  });

  it('copyRegularTree copies regular files and refuses links, FIFOs and sources outside', () => {
    const ck = path.join(dir, 'ck');
    mkdirSync(ck);
    writeFileSync(path.join(ck, 'a.bin'), 'abc');
    expect(copyRegularTree('ck', path.join(dir, 'copy'), { what: 'w', root: dir })).toEqual({ files: 1, bytes: 3 });
    expect(readFileSync(path.join(dir, 'copy', 'a.bin'), 'utf8')).toBe('abc');
    expect(() => copyRegularTree('/etc', path.join(dir, 'copy2'), { what: 'w', root: dir })).toThrow('is outside');
    symlinkSync('/etc/passwd', path.join(ck, 'pw'));
    expect(() => copyRegularTree('ck', path.join(dir, 'copy3'), { what: 'w', root: dir })).toThrow('is a symbolic link');
    expect(existsSync(path.join(dir, 'copy3'))).toBe(false);
  });

  it('only a regular file may be replaced by an output file', () => {
    expect(() => checkWritableTarget('/dev/full', 'export --out')).toThrow('/dev/full is a character device');
    expect(() => checkWritableTarget(dir, 'export --out')).toThrow('is a directory');
    expect(() => checkWritableTarget(path.join(dir, 'ok.txt'), 'x')).not.toThrow();
    expect(() => checkWritableTarget(path.join(dir, 'new'), 'x')).not.toThrow();
  });
});

describe('JSON under the rule', () => {
  it('depth is refused on the text, before JSON.parse', () => {
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(() => checkJsonText(deep, 'meta')).toThrow('meta: nested more than 64 levels deep, more than the limit (UNTRUSTED_MAX_DEPTH)');
    expect(() =>
      checkJsonText('{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\""}', 'meta'),
    ).not.toThrow();
  });
  it('value counts and key lengths are bounded', () => {
    expect(() => parseUntrustedJson(JSON.stringify(Array(300_000).fill(0)), 'x')).toThrow('UNTRUSTED_MAX_JSON_VALUES');
    expect(() => parseUntrustedJson(JSON.stringify({ ['k'.repeat(201)]: 1 }), 'x')).toThrow('NAME_MAX_CHARS');
    expect(parseUntrustedJson('{"a":[1,{"b":2}]}', 'x')).toEqual({ a: [1, { b: 2 }] });
    expect(() => parseUntrustedJson('{', 'x')).toThrow('x: not valid JSON');
  });
});
