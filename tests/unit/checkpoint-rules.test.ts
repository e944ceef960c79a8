// The one owner of "which checkpoint" and "which are kept" (src-main/checkpoints/checkpoint-rules.ts): resume
// takes the newest state, export and generate the best model, never the oldest; retention on a real folder.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pickCheckpoint, pruneIntervalCheckpoints, supersededCheckpoints } from '../../src-main/checkpoints/checkpoint-rules';

const ck = (id: number, tag: string, step: number) => ({ id, tag, step, path: `/runs/1/checkpoints/${tag}-${id}` });

describe('pickCheckpoint', () => {
  const all = [ck(1, 'interval', 100), ck(2, 'best', 200), ck(3, 'interval', 300), ck(4, 'last', 400)];

  it('resume: last, else the highest step', () => {
    expect(pickCheckpoint('resume', all)?.id).toBe(4);
    expect(pickCheckpoint('resume', all.slice(0, 3))?.id).toBe(3);
  });

  it('export and generate: best, else last, else the highest step (never the oldest)', () => {
    for (const use of ['export', 'generate'] as const) {
      expect(pickCheckpoint(use, all)?.id).toBe(2);
      expect(pickCheckpoint(use, [all[0]!, all[2]!, all[3]!])?.id).toBe(4);
      expect(pickCheckpoint(use, [all[0]!, all[2]!])?.id).toBe(3);
      expect(pickCheckpoint(use, [all[2]!, all[0]!])?.id).toBe(3); // any order
    }
  });

  it('an asked-for id wins, an unknown one or an empty run gives nothing', () => {
    expect(pickCheckpoint('resume', all, 1)?.id).toBe(1);
    expect(pickCheckpoint('generate', all, 99)).toBeUndefined();
    expect(pickCheckpoint('export', [])).toBeUndefined();
  });

  it('a tie on step goes to the newer row', () => {
    expect(pickCheckpoint('generate', [ck(7, 'interval', 50), ck(8, 'interval', 50)])?.id).toBe(8);
  });
});

describe('retention', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('keeps the newest keepLast interval checkpoints on disk, by epoch number, and leaves best/last alone', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'vae-retention-'));
    dirs.push(root);
    for (const name of ['epoch-2', 'epoch-10', 'epoch-9', 'epoch-1', 'best', 'last']) mkdirSync(path.join(root, name));
    expect(pruneIntervalCheckpoints(root, 2).map((d) => path.basename(d))).toEqual(['epoch-1', 'epoch-2']);
    expect(readdirSync(root).sort()).toEqual(['best', 'epoch-10', 'epoch-9', 'last']);
    expect(pruneIntervalCheckpoints(path.join(root, 'absent'), 1)).toEqual([]);
  });

  it('drops the rows a new checkpoint supersedes: its own directory again, or one pruned from disk', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'vae-retention-'));
    dirs.push(root);
    const rows = ['epoch-1', 'epoch-2', 'best'].map((name, i) => ({ id: i + 1, path: path.join(root, name) }));
    for (const name of ['epoch-2', 'best']) mkdirSync(path.join(root, name));
    expect(supersededCheckpoints(rows, path.join(root, 'best')).map((r) => r.id)).toEqual([1, 3]);
    expect(existsSync(rows[1]!.path)).toBe(true);
  });
});
