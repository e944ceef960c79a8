// The service follows unfinished cluster sweeps itself and pushes `sweep.updated` (the renderer only listens):
// a web-host service on a real store with a sweep whose tasks end (their exit markers appear) announces each sync
// and the final, done detail, then falls silent; a CLI service follows nothing (`sweep sync --wait` does).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventPayload } from '@shared/contract';
import { WorkbenchService } from '../built';

let tmp = '';
const services: WorkbenchService[] = [];

afterEach(async () => {
  for (const s of services.splice(0)) await s.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A service on a data home that already holds a 2-task sweep (no Slurm job: states come from exit markers). */
function serviceWithSweep(host: 'web' | 'cli'): {
  service: WorkbenchService;
  end: (i: number) => void;
  updates: EventPayload<'sweep.updated'>[];
} {
  tmp = mkdtempSync(path.join(tmpdir(), 'vae-sweep-events-'));
  const first = new WorkbenchService({ host: 'cli', dataHome: tmp, concurrency: 1 });
  const id = first.cluster.repo.create({ name: 'grid', target: 'slurm', options: {}, spec: {}, configs: [{}, {}] });
  const dir = path.join(tmp, 'sweeps', 'grid');
  for (const i of [0, 1]) mkdirSync(path.join(dir, 'tasks', String(i)), { recursive: true });
  first.cluster.repo.setFolder(id, dir);
  services.push(first);
  const service = new WorkbenchService({ host, dataHome: tmp, concurrency: 1 });
  services.push(service);
  const updates: EventPayload<'sweep.updated'>[] = [];
  service.onEvent((e) => {
    if (e.event === 'sweep.updated') updates.push(e.payload);
  });
  return { service, end: (i) => writeFileSync(path.join(dir, 'tasks', String(i), 'exit'), '1\n'), updates };
}

const until = async (what: () => boolean, ms = 15_000) => {
  for (const t0 = Date.now(); !what(); await new Promise((r) => setTimeout(r, 50))) if (Date.now() - t0 > ms) throw new Error('timed out');
};

describe('sweep following in the service', () => {
  it('a web host follows the unfinished sweep, pushes sweep.updated until it is done, then stops', async () => {
    const { service, end, updates } = serviceWithSweep('web');
    end(0);
    await until(() => updates.some((u) => u.tasks[0]!.state === 'failed'));
    expect(updates.at(-1)!.done).toBe(false);
    end(1);
    await until(() => updates.at(-1)?.done === true);
    expect(updates.at(-1)!.tasks.map((t) => t.state)).toEqual(['failed', 'failed']);
    expect((await service.call('sweeps.list', {}))[0]!.done).toBe(true);
    const n = updates.length;
    await new Promise((r) => setTimeout(r, 4000)); // longer than the 3 s interval
    expect(updates.length).toBe(n);
  }, 60_000);

  it('a CLI service follows nothing', async () => {
    const { end, updates } = serviceWithSweep('cli');
    end(0);
    end(1);
    await new Promise((r) => setTimeout(r, 4000));
    expect(updates).toEqual([]);
  }, 30_000);
});
