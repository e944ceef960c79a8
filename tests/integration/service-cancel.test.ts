// Cancel leaves a trace: a run cancelled through the service (runs.cancel, as the UI does) gets a log line saying who
// cancelled it, where it stopped (epoch and step, exactly) and what was completed (epochs, checkpoint, evaluation); the
// run's step and epoch are those of the stop, so its summary is honest. A queued run cancelled says it never started.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '@shared/contract';
import { WorkbenchService } from '../built';

let home: string;
let service: WorkbenchService;
const events: WorkbenchEvent[] = [];

const CONFIG = {
  name: 'to cancel',
  data: { dataset: 'mnist', trainLimit: 4000, testLimit: 200 },
  model: { hidden: [64], latentDim: 2 },
  training: { batchSize: 50, epochs: 20, logEverySteps: 5 },
  eval: { iwSamples: 5, fid: false },
  snapshots: { everyEpochs: 100 },
};

beforeAll(() => {
  home = mkdtempSync(path.join(os.tmpdir(), 'vae-cancel-'));
  service = new WorkbenchService({ host: 'cli', dataHome: home, concurrency: 1 });
  service.onEvent((e) => events.push(e));
});
afterAll(async () => {
  await service.close();
  rmSync(home, { recursive: true, force: true });
});

function ended(runId: number): Promise<void> {
  return new Promise((resolve) => {
    const off = service.onEvent((e) => {
      if (e.event === 'run.status' && e.payload.runId === runId && !['queued', 'running'].includes(e.payload.status)) {
        off();
        resolve();
      }
    });
  });
}

describe('cancel leaves a trace', () => {
  it('a running run: who, where (epoch, step), what was completed; the run keeps that step', async () => {
    const { runId } = await service.call('runs.start', { config: CONFIG });
    // wait until it is past its first epoch (80 steps) and its interval checkpoint
    await new Promise<void>((resolve) => {
      const off = service.onEvent((e) => {
        if (e.event === 'run.progress' && e.payload.runId === runId && e.payload.step > 100) {
          off();
          resolve();
        }
      });
    });
    const done = ended(runId);
    expect((await service.call('runs.cancel', { runId })).cancelled).toBe(true);
    await done;
    const run = await service.call('runs.get', { runId });
    expect(run.status).toBe('cancelled');
    const log = await service.call('runs.log', { runId, limit: 1000 });
    const line = log.find((l) => l.message.startsWith('cancelled by'));
    expect(line?.message).toMatch(/^cancelled by the user at epoch (\d+) of 20, step (\d+) of 1600: (\d+) epochs? of 20 completed; /);
    const [, epoch, step, completed] = /at epoch (\d+) of 20, step (\d+) of 1600: (\d+) epoch/.exec(line!.message)!.map(Number);
    expect(step).toBe(run.step);
    expect(completed).toBe(Math.floor(step! / 80));
    expect(epoch).toBe(completed! + 1);
    expect(line!.level).toBe('warn');
    // the same line reached the live log
    expect(events.some((e) => e.event === 'run.log' && e.payload.runId === runId && e.payload.message === line!.message)).toBe(true);
  }, 120_000);

  it('a queued run: cancelled before training started', async () => {
    const first = await service.call('runs.start', { config: CONFIG });
    const { runId } = await service.call('runs.start', { config: CONFIG }); // behind the first (concurrency 1)
    const done = ended(runId);
    expect((await service.call('runs.cancel', { runId })).cancelled).toBe(true);
    await done;
    const log = await service.call('runs.log', { runId, limit: 100 });
    expect(log.map((l) => l.message)).toContain('cancelled by the user before training started: nothing was trained');
    const firstDone = ended(first.runId);
    await service.call('runs.cancel', { runId: first.runId });
    await firstDone;
  }, 120_000);
});
