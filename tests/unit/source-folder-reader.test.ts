// A watched source's folders are read under the one rule for untrusted files (src-main/os/untrusted.ts): the
// source adapter (sources/folder-reader.ts) refuses symbolic links, FIFOs and links out with UntrustedError, a file
// not there yet is "nothing new", and a JSON line is parsed under the rule's depth and value bounds.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UntrustedError } from '../../src-main/os/untrusted';
import { listFolders, readChunk, readWhole, subFolder } from '../../src-main/sources/folder-reader';
import { parseLine, readNewLines } from '../../src-main/sources/line-reader';

const dir = mkdtempSync(path.join(os.tmpdir(), 'vae-source-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('source folder reader', () => {
  const run = path.join(dir, 'run');
  mkdirSync(path.join(run, 'images'), { recursive: true });
  writeFileSync(path.join(run, 'metrics.jsonl'), '{"a":1}\n{"b":2}\n{"c"');
  writeFileSync(path.join(dir, 'outside.json'), '{}');
  symlinkSync(path.join(dir, 'outside.json'), path.join(run, 'out.json'));
  symlinkSync(path.join(run, 'metrics.jsonl'), path.join(run, 'inside.jsonl'));
  execFileSync('mkfifo', [path.join(run, 'fifo.jsonl')]);

  it('reads chunks and whole files, and says "nothing yet" for a missing file', () => {
    expect(readChunk(run, 'metrics.jsonl', 8, 100)!.bytes.toString()).toBe('{"b":2}\n{"c"');
    expect(readChunk(run, 'metrics.jsonl', 100, 100)!.bytes.length).toBe(0);
    expect(readChunk(run, 'log.jsonl', 0, 100)).toBeNull();
    expect(readNewLines(run, 'metrics.jsonl', 0).map((l) => l.text)).toEqual(['{"a":1}', '{"b":2}']);
    expect(readWhole(run, 'metrics.jsonl', 'SOURCE_MAX_SMALL_FILE_BYTES').length).toBe(20);
    expect(() => readWhole(run, 'metrics.jsonl', 'SOURCE_MAX_SMALL_FILE_BYTES')).not.toThrow();
    expect(listFolders(dir)).toEqual(['run']);
    expect(subFolder(run, 'images')).toBe(path.join(run, 'images'));
    expect(subFolder(run, 'checkpoints')).toBeNull();
  });

  it('refuses symbolic links (out or in), FIFOs without blocking, and names that are not plain', () => {
    const refused = (f: () => unknown, message: RegExp) => {
      expect(f).toThrow(UntrustedError);
      expect(f).toThrow(message);
    };
    refused(() => readWhole(run, 'out.json', 'SOURCE_MAX_SMALL_FILE_BYTES'), /out\.json is a symbolic link \(not followed\)/);
    refused(() => readChunk(run, 'inside.jsonl', 0, 100), /inside\.jsonl is a symbolic link/);
    refused(() => readChunk(run, 'fifo.jsonl', 0, 100), /fifo\.jsonl is a FIFO \(named pipe\), not a regular file/);
    refused(() => readWhole(run, '../outside.json', 'SOURCE_MAX_SMALL_FILE_BYTES'), /not a plain file name/);
    refused(() => subFolder(run, 'metrics.jsonl'), /not a folder/);
  });

  it('refuses a file over its SOURCE_* limit, naming it', () => {
    writeFileSync(path.join(run, 'run.json'), `{"x":"${'y'.repeat(1024 * 1024)}"}`);
    expect(() => readWhole(run, 'run.json', 'SOURCE_MAX_SMALL_FILE_BYTES')).toThrow(
      /run\.json is 1\.0 MiB, more than the limit of 1 MiB \(SOURCE_MAX_SMALL_FILE_BYTES\)/,
    );
  });

  it('parses a line under the bounds: too deep or too many values refused, not JSON or prototype keys skipped', () => {
    expect(parseLine('{"step": 1, "values": {"a": 2}}', 'm')).toEqual({ step: 1, values: { a: 2 } });
    expect(parseLine('not json', 'm')).toBeNull();
    expect(parseLine('{"values": {"__proto__": 1}}', 'm')).toBeNull();
    expect(() => parseLine(`${'['.repeat(100)}${']'.repeat(100)}`, 'run: a line of metrics.jsonl')).toThrow(
      /run: a line of metrics\.jsonl: nested more than 64 levels deep.*UNTRUSTED_MAX_DEPTH/,
    );
    expect(() => parseLine(`[${'0,'.repeat(200_001)}0]`, 'm')).toThrow(/UNTRUSTED_MAX_JSON_VALUES/);
    expect(() => parseLine(`{"${'k'.repeat(201)}": 1}`, 'm')).toThrow(/NAME_MAX_CHARS/);
  });
});
