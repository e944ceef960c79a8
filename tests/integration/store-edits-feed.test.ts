// Renames, tags and notes written by another connection (another process on the same file) reach a watcher's change
// feed as run.updated with the run's whole summary: once per run and look, not for a run it has just announced as new,
// not for a run deleted (its tags go with it), and never by listing every run (the run_edits table triggers fill).
// Also: a selection "by filter" resolves to every matching id (matchingRunIds), past a page's limit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '@shared/contract';
import { parseRunConfig, RunStore } from '../built';

let dir: string;
let watcher: RunStore;
let writer: RunStore;

function newRun(s: RunStore, name: string, tags: string[] = []) {
  const input = { name, model: { latentDim: 2 }, training: { epochs: 1 } };
  return s.createRun({
    name,
    configText: JSON.stringify(input),
    config: parseRunConfig(input),
    dataset: 'mnist',
    seed: 1,
    appVersion: '0.1.0-test',
    tags,
  });
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'store-edits-'));
  writer = RunStore.open(path.join(dir, 'runs.sqlite'));
  watcher = RunStore.open(path.join(dir, 'runs.sqlite'));
});
afterEach(() => {
  writer.close();
  watcher.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('change feed: edits by another connection', () => {
  it('a rename, new tags and notes arrive as one run.updated per run; a new or deleted run gives none', () => {
    const a = newRun(writer, 'a', ['x']);
    const b = newRun(writer, 'b');
    const feed = watcher.changeFeed();
    expect(feed.poll()).toEqual([]);

    writer.rename(a.id, 'a renamed');
    writer.setTags(a.id, ['one', 'two', 'three']);
    writer.setNotes(b.id, 'noted elsewhere');
    const events: WorkbenchEvent[] = feed.poll();
    expect(events.map((e) => e.event)).toEqual(['run.updated', 'run.updated']);
    const byId = new Map(
      events.map((e) => [(e.payload as { id: number }).id, e.payload as { name: string; tags: string[]; notes: string }]),
    );
    expect(byId.get(a.id)!.name).toBe('a renamed');
    expect([...byId.get(a.id)!.tags].sort()).toEqual(['one', 'three', 'two']);
    expect(byId.get(b.id)).toMatchObject({ name: 'b', notes: 'noted elsewhere' });
    expect(feed.poll()).toEqual([]); // nothing twice

    // the same name again changes nothing; a new tagged run is run.created only; a deletion is run.deleted only
    writer.rename(b.id, 'b');
    expect(feed.poll()).toEqual([]);
    const c = newRun(writer, 'c', ['fresh']);
    expect(feed.poll().map((e: WorkbenchEvent) => e.event)).toEqual(['run.created']);
    writer.deleteRun(a.id);
    expect(feed.poll()).toEqual([{ event: 'run.deleted', payload: { runId: a.id } }]);
    expect(c.id).toBeGreaterThan(b.id);
  });

  it('edits older than a day are pruned with the deletions', () => {
    const a = newRun(writer, 'a', ['x']);
    writer.rename(a.id, 'a2');
    expect(writer.pruneDeletions(Date.now() + 1000)).toBeGreaterThanOrEqual(2);
    const feed = watcher.changeFeed();
    writer.rename(a.id, 'a3');
    expect(feed.poll().map((e: WorkbenchEvent) => e.event)).toEqual(['run.updated']);
  });
});

describe('selection by filter', () => {
  it('matchingRunIds returns every run the filters match, in id order, with no page limit', () => {
    writer.transaction(() => {
      for (let i = 0; i < 1_050; i++) newRun(writer, `r${i}`, i % 2 ? ['odd'] : []);
    });
    const odd = watcher.matchingRunIds({ tag: 'odd' });
    expect(odd).toHaveLength(525);
    expect(watcher.matchingRunIds({})).toHaveLength(1_050);
    expect(odd).toEqual([...odd].sort((x, y) => x - y));
    expect(watcher.matchingRunIds({ text: 'r104' })).toHaveLength(11); // r104, r1040..r1049
  });
});
