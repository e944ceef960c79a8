// Workspaces through the real service on a real SQLite file: Compare views saved by name, replaced by saving the same
// name again, listed newest first, deleted, kept across a restart of the service, and bad input refused by name.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIMITS, WorkbenchService } from '../built';

let home: string;
let service: WorkbenchService;

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-workspaces-'));
  service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
});
afterAll(async () => {
  await service.close();
  rmSync(home, { recursive: true, force: true });
});

describe('workspaces', () => {
  it('saves, replaces by name, lists newest first, survives a restart and deletes', async () => {
    expect(await service.call('workspaces.list', {})).toEqual([]);
    const a = await service.call('workspaces.save', { name: 'lr sweep', state: 'ids=1,2&metric=test%2Floss' });
    await new Promise((r) => setTimeout(r, 5));
    const b = await service.call('workspaces.save', { name: 'collapse', state: 'ids=3,4&group=seed' });
    expect((await service.call('workspaces.list', {})).map((w) => w.name)).toEqual(['collapse', 'lr sweep']);
    await new Promise((r) => setTimeout(r, 5));
    const again = await service.call('workspaces.save', { name: 'lr sweep', state: 'ids=1,2&metric=test%2Fkl' });
    expect(again.id).toBe(a.id);
    expect(again.createdAt).toBe(a.createdAt);
    expect(again.state).toBe('ids=1,2&metric=test%2Fkl');
    await service.close();
    service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
    const listed = await service.call('workspaces.list', {});
    expect(listed.map((w) => [w.name, w.state])).toEqual([
      ['lr sweep', 'ids=1,2&metric=test%2Fkl'],
      ['collapse', 'ids=3,4&group=seed'],
    ]);
    expect(await service.call('workspaces.delete', { id: b.id })).toEqual({ deleted: true });
    expect(await service.call('workspaces.delete', { id: b.id })).toEqual({ deleted: false });
    expect((await service.call('workspaces.list', {})).map((w) => w.name)).toEqual(['lr sweep']);
  });

  it('refuses an empty name and an over-long view, naming the field and the limit; nothing is written', async () => {
    const before = await service.call('workspaces.list', {});
    await expect(service.call('workspaces.save', { name: '  ', state: 'ids=1,2' })).rejects.toThrow(/name/);
    const long = 'x'.repeat(LIMITS.WORKSPACE_STATE_MAX_CHARS + 1);
    await expect(service.call('workspaces.save', { name: 'big', state: long })).rejects.toThrow(/state/);
    expect(await service.call('workspaces.list', {})).toEqual(before);
  });
});
