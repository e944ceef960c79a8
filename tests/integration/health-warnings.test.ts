// Health warnings through the real service, trainer process and SQLite store: a run made to collapse on purpose
// (PHYS449 with σ = 1, the setting the preset used to ship) gets the posterior-collapse warning as a live event,
// in its run log and in the store; the healthy default (σ = 0.1) gets none.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '@shared/contract';
import { HEALTH_WARNINGS, raisedWarnings, findPreset, WorkbenchService } from '../built';

let home: string;
let service: WorkbenchService;
const events: WorkbenchEvent[] = [];

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-health-'));
  service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
  service.onEvent((e) => events.push(e));
});
afterAll(async () => {
  await service.close();
  rmSync(home, { recursive: true, force: true });
});

async function runToEnd(sigma: number): Promise<number> {
  const preset = findPreset('phys449')!;
  const config = {
    ...preset.config,
    model: { ...preset.config.model, sigma },
    training: { batchSize: 100, epochs: 4 },
    eval: { iwSamples: 10, fid: false },
    snapshots: { everyEpochs: 100 },
    checkpoints: { everyEpochs: 0 },
  };
  const { runId } = await service.call('runs.start', { config });
  await new Promise<void>((resolve) => {
    const off = service.onEvent((e) => {
      if (e.event === 'run.status' && e.payload.runId === runId && !['queued', 'running'].includes(e.payload.status)) {
        off();
        resolve();
      }
    });
  });
  return runId;
}

describe('health warnings', () => {
  it('a run made to collapse gets the posterior-collapse warning: live event, run log, store, runs list', async () => {
    const runId = await runToEnd(1);
    const run = await service.call('runs.get', { runId });
    expect(run.status).toBe('completed');
    expect(run.final['test/kl']!).toBeLessThan(0.5);
    expect(raisedWarnings(run.final).map((w) => w.code)).toContain('posterior-collapse');
    const live = events
      .filter((e) => e.event === 'run.metrics' && e.payload.runId === runId)
      .flatMap((e) => (e.event === 'run.metrics' ? e.payload.points : []));
    expect(live.some((p) => p.name === HEALTH_WARNINGS['posterior-collapse'].metric && p.value === 1)).toBe(true);
    const log = await service.call('runs.log', { runId, limit: 500 });
    const warn = log.find((l) => l.level === 'warn' && l.message.startsWith('health: Posterior collapse:'));
    expect(warn?.message).toMatch(/test KL 0\.\d\d nats.*try a smaller decoder σ/);
    const listed = (await service.call('runs.list', {})).runs.find((r) => r.id === runId)!;
    expect(listed.final['health/posteriorCollapse']).toBe(1);
  }, 180_000);

  it('a healthy run gets none', async () => {
    const runId = await runToEnd(0.1);
    const run = await service.call('runs.get', { runId });
    expect(run.status).toBe('completed');
    expect(raisedWarnings(run.final)).toEqual([]);
    expect(Object.keys(run.final).filter((k) => k.startsWith('health/'))).toEqual([]);
    const log = await service.call('runs.log', { runId, limit: 500 });
    expect(log.filter((l) => l.message.startsWith('health:'))).toEqual([]);
  }, 180_000);
});
