// The service's sweep follower (src-main/cluster/sweep-follower.ts) on a real store and a real sweep folder:
// while a task has not ended it syncs every interval and hands over each detail; when every task has ended it
// pushes the final detail and stops; a new sweep wakes it; close() stops it between rounds.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SweepDetail } from '@shared/cluster-types';
import { sweepLayout } from '../../src-main/cluster/layout';
import { SweepFollower } from '../../src-main/cluster/sweep-follower';
import { ClusterSweeps } from '../../src-main/cluster/sweep-service';
import { dataHomeLayout } from '../../src-main/store/data-home';
import { RunStore } from '../../src-main/store/run-store';

let dir: string;
let store: RunStore;
let cluster: ClusterSweeps;

/** A sweep of `tasks` tasks with its folder (no Slurm job: states come from the exit markers alone). */
function makeSweep(name: string, tasks: number): { id: number; end: (i: number, code: number) => void } {
  const id = cluster.repo.create({ name, target: 'slurm', options: {}, spec: {}, configs: Array.from({ length: tasks }, () => ({})) });
  const layout = sweepLayout(path.join(dir, 'sweeps', name));
  for (let i = 0; i < tasks; i++) mkdirSync(layout.taskDir(i), { recursive: true });
  cluster.repo.setFolder(id, layout.root);
  return { id, end: (i, code) => writeFileSync(layout.exitMarker(i), `${code}\n`) };
}

const until = async (what: () => boolean, ms = 5000) => {
  for (const t0 = Date.now(); !what(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() - t0 > ms) throw new Error('timed out');
};

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'vae-follow-'));
  store = RunStore.open(path.join(dir, 'workbench.sqlite'));
  cluster = new ClusterSweeps({ store, layout: dataHomeLayout(dir), appVersion: 'test' });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('SweepFollower', () => {
  it('syncs an unfinished sweep every interval, pushes its details, and stops once every task has ended', async () => {
    const updates: SweepDetail[] = [];
    const follower = new SweepFollower(
      () => cluster,
      (d) => updates.push(d),
      { intervalMs: 50 },
    );
    follower.wake(); // nothing to follow yet
    await until(() => !follower.following);
    expect(updates).toEqual([]);

    const sweep = makeSweep('grid', 2);
    sweep.end(0, 1);
    follower.wake();
    await until(() => updates.length >= 3);
    expect(follower.following).toBe(true);
    expect(updates.at(-1)!.tasks.map((t) => t.state)).toEqual(['failed', 'pending']);
    expect(updates.at(-1)!.done).toBe(false);

    sweep.end(1, 1);
    await until(() => !follower.following);
    const last = updates.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.tasks.map((t) => t.state)).toEqual(['failed', 'failed']);
    expect(cluster.list()[0]!.counts.failed).toBe(2); // the store has the synced states, not just the event
    const n = updates.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(updates.length).toBe(n); // idle: no more rounds
    await follower.close();
  });

  it('stops on close, with no update after it', async () => {
    const updates: SweepDetail[] = [];
    const follower = new SweepFollower(
      () => cluster,
      (d) => updates.push(d),
      { intervalMs: 20 },
    );
    makeSweep('open-ended', 1);
    follower.wake();
    await until(() => updates.length >= 2);
    await follower.close();
    const n = updates.length;
    follower.wake(); // refused once closed
    await new Promise((r) => setTimeout(r, 100));
    expect(updates.length).toBe(n);
    expect(follower.following).toBe(false);
  });

  it('reports a lasting sync failure once and keeps following', async () => {
    const errors: string[] = [];
    let rounds = 0;
    const failing = {
      list: () => cluster.list(),
      sync: async (id: number) => {
        rounds++;
        return rounds < 4 ? Promise.reject(new Error('squeue: not reachable')) : cluster.sync(id);
      },
    };
    const sweep = makeSweep('flaky', 1);
    sweep.end(0, 0);
    const follower = new SweepFollower(
      () => failing,
      () => {},
      { intervalMs: 20, onError: (_id, e) => errors.push(String(e)) },
    );
    follower.wake();
    await until(() => !follower.following);
    expect(rounds).toBe(4);
    expect(errors).toEqual(['Error: squeue: not reachable']);
    await follower.close();
  });
});
