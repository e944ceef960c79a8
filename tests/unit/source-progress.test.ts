// The pieces of a Python run's live view with logic of their own: the run.progress a scan sends (totals given or
// estimated from the epochs, pace, samples per second from the config's batch size, ETA; unknowns as 0 / null) and
// the kind of sample grid an image key is shown as, and the state of a run whose script is gone.
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '@shared/model-types';
import { PYTHON_PHASE, pythonProgress } from '../../src-main/sources/run-progress';
import { imageKind, statusJsonSchema } from '../../src-main/sources/run-folder-format';
import { effectiveStatus } from '../../src-main/sources/run-status';
import os from 'node:os';

const T0 = 1_700_000_000_000;
const run = (params: RunSummary['params'] = {}) => ({ id: 7, startedAt: T0, createdAt: T0, params }) as unknown as RunSummary;
const status = (extra: Record<string, unknown> = {}) =>
  statusJsonSchema.parse({ state: 'running', pid: 1, host: 'h', startedAt: T0, updatedAt: T0, ...extra });

describe('pythonProgress', () => {
  it('the total the script gave, its pace since the start, the ETA at that pace', () => {
    const p = pythonProgress(run({ batch_size: 64 }), { step: 100, epoch: 2, time: T0 + 20_000 }, status({ totalSteps: 500 }));
    expect(p).toEqual({
      runId: 7,
      step: 100,
      totalSteps: 500,
      epoch: 2,
      totalEpochs: 0,
      samplesPerSec: 5 * 64,
      etaSeconds: 80,
      phase: PYTHON_PHASE,
    });
  });

  it('a total in epochs only: the steps estimated from the steps per epoch so far', () => {
    const p = pythonProgress(run(), { step: 30, epoch: 3, time: T0 + 3000 }, status({ totalEpochs: 10 }));
    expect(p).toMatchObject({ totalSteps: 100, totalEpochs: 10, samplesPerSec: 0, etaSeconds: 7 });
  });

  it('no total (or no status): 0 and no ETA, as the contract has unknowns', () => {
    expect(pythonProgress(run(), { step: 30, epoch: 0, time: T0 + 3000 }, status())).toMatchObject({
      totalSteps: 0,
      totalEpochs: 0,
      etaSeconds: null,
    });
    expect(pythonProgress(run(), { step: 0, epoch: 0, time: T0 }, null)).toMatchObject({ samplesPerSec: 0, etaSeconds: null });
  });
});

describe('effectiveStatus: a run whose script is gone says so', () => {
  it('another machine: running while its heartbeat comes, interrupted after 6 missed heartbeats (at least 60 s)', () => {
    const remote = status({ host: 'node-7', pid: 4242, heartbeatSeconds: 10, updatedAt: T0 });
    expect(effectiveStatus(remote, T0 + 59_000)).toEqual({ status: 'running', error: null });
    expect(effectiveStatus(remote, T0 + 61_000)).toEqual({
      status: 'interrupted',
      error: 'interrupted: no heartbeat from the logging process (pid 4242 on node-7) for 61 s',
    });
  });

  it('this machine: interrupted as soon as its pid is gone; a final state is taken as written', () => {
    const alive = status({ host: os.hostname(), pid: process.pid, updatedAt: T0 });
    expect(effectiveStatus(alive, T0 + 1000).status).toBe('running');
    const gone = status({ host: os.hostname(), pid: 2 ** 22 + 1, updatedAt: T0 }); // above Linux's pid_max
    expect(effectiveStatus(gone, T0 + 1000)).toMatchObject({
      status: 'interrupted',
      error: expect.stringMatching(/ended without finishing/),
    });
    expect(effectiveStatus(status({ state: 'failed', error: 'Traceback ...' }), T0)).toEqual({ status: 'failed', error: 'Traceback ...' });
  });
});

describe('imageKind', () => {
  it('names the kind by the last part of the key, in any case and with - _ or spaces', () => {
    expect(imageKind('samples/prior')).toBe('prior-samples');
    expect(imageKind('Prior Samples')).toBe('prior-samples');
    expect(imageKind('val/recon')).toBe('reconstructions');
    expect(imageKind('samples/reconstructions')).toBe('reconstructions');
    expect(imageKind('latent_traversal')).toBe('traversal');
    expect(imageKind('images/latent-grid')).toBe('manifold');
    expect(imageKind('samples/interpolation')).toBe('interpolation');
    expect(imageKind('gradients/histogram')).toBeNull();
    expect(imageKind('prior/histogram')).toBeNull();
    expect(imageKind('constructor')).toBeNull();
  });
});
