// Slurm's output as captured from slurm-wlm 22.05 (squeue, scontrol show job -o, sacct, sbatch --parsable), and the
// state of a task decided from every source: queue, what slurmctld/sacct remember, the completion marker, the log.
import { describe, expect, it } from 'vitest';
import { expandTaskRange, mapSlurmState, parseSacct, parseSbatchOutput, parseScontrol, parseSqueue } from '../../src-main/cluster/slurm';
import { renderSlurmScript, sbatchArgs } from '../../src-main/cluster/slurm-script';
import { sweepLayout } from '../../src-main/cluster/layout';
import { resolveTaskState, type TaskEvidence } from '../../src-main/cluster/task-state';
import { slurmOptionsSchema } from '@shared/cluster-types';

describe('parsing Slurm output', () => {
  it('reads job ids, ranges and states', () => {
    expect(parseSbatchOutput('1234\n')).toBe('1234');
    expect(parseSbatchOutput('1234;cluster1\n')).toBe('1234');
    expect(() => parseSbatchOutput('sbatch: error: oops')).toThrow(/no job id/);
    expect(expandTaskRange('[2-4,7]')).toEqual([2, 3, 4, 7]);
    expect(expandTaskRange('0-7%2')).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(mapSlurmState('CANCELLED by 0')).toBe('cancelled');
    expect(mapSlurmState('COMPLETING')).toBe('running');
    expect(mapSlurmState('OUT_OF_MEMORY')).toBe('failed');
    expect(mapSlurmState('TIMEOUT')).toBe('timeout');
  });

  it('parses squeue, scontrol and sacct lines of one array job only', () => {
    const q = parseSqueue('12_[2-3]|PENDING|Resources\n12_1|RUNNING|None\n13_0|RUNNING|None\n', '12');
    expect([...q.entries()].map(([i, v]) => [i, v.state, v.reason])).toEqual([
      [2, 'pending', 'Resources'],
      [3, 'pending', 'Resources'],
      [1, 'running', null],
    ]);
    const s = parseScontrol(
      'JobId=15 ArrayJobId=12 ArrayTaskId=1 JobName=vaewb-1 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15\n' +
        'JobId=14 ArrayJobId=12 ArrayTaskId=0 JobName=vaewb-1 JobState=COMPLETED Reason=None ExitCode=0:0\n',
      '12',
    );
    expect(s.get(1)).toMatchObject({ state: 'timeout', exitCode: 0 });
    expect(s.get(0)).toMatchObject({ state: 'completed', exitCode: 0 });
    const a = parseSacct('12_0|COMPLETED|0:0\n12_1|FAILED|2:0\n12_[2-3]|PENDING|0:0\n', '12');
    expect(a.get(1)).toMatchObject({ state: 'failed', exitCode: 2 });
    expect(a.get(3)?.state).toBe('pending');
  });
});

describe('a task state from all the evidence', () => {
  const base: TaskEvidence = {
    previous: 'pending',
    queued: undefined,
    queueKnown: true,
    remembered: undefined,
    marker: null,
    log: '',
    cancelRequested: false,
    settled: true,
  };
  it('trusts the queue for live tasks and the marker for ended ones', () => {
    expect(resolveTaskState({ ...base, queued: { state: 'running', raw: 'RUNNING', exitCode: null, reason: null } }).state).toBe('running');
    expect(resolveTaskState({ ...base, marker: 0 })).toEqual({ state: 'completed', exitCode: 0, reason: null });
    expect(resolveTaskState({ ...base, marker: 2 }).state).toBe('failed');
    expect(resolveTaskState({ ...base, marker: 130 }).state).toBe('cancelled');
    // a cancel that arrives while the script writes the marker of a completed run does not undo the run
    expect(
      resolveTaskState({ ...base, marker: 0, remembered: { state: 'cancelled', raw: 'CANCELLED', exitCode: 0, reason: null } }).state,
    ).toBe('completed');
    expect(
      resolveTaskState({ ...base, marker: 1, remembered: { state: 'failed', raw: 'OUT_OF_MEMORY', exitCode: 0, reason: null } }),
    ).toMatchObject({ state: 'failed', reason: 'out of memory' });
  });
  it('tells a time limit from a cancel, with or without accounting', () => {
    const log = 'slurmstepd: error: *** JOB 17 ON localhost CANCELLED AT 2026-12-02T06:40:01 DUE TO TIME LIMIT ***';
    expect(resolveTaskState({ ...base, marker: 130, log })).toMatchObject({ state: 'timeout', reason: 'DUE TO TIME LIMIT' });
    expect(resolveTaskState({ ...base, log }).state).toBe('timeout');
    expect(resolveTaskState({ ...base, remembered: { state: 'timeout', raw: 'TIMEOUT', exitCode: 0, reason: 'TimeLimit' } }).state).toBe(
      'timeout',
    );
    expect(
      resolveTaskState({ ...base, log: 'slurmstepd: error: *** JOB 17 ON localhost CANCELLED AT 2026-12-02T06:40:01 ***' }).state,
    ).toBe('cancelled');
  });
  it('calls a task cancelled while pending cancelled, and never concludes while Slurm cannot be asked', () => {
    expect(resolveTaskState({ ...base, cancelRequested: true }).state).toBe('cancelled');
    expect(resolveTaskState({ ...base, queueKnown: false, previous: 'running' }).state).toBe('running');
    expect(resolveTaskState({ ...base, settled: false, previous: 'pending' }).state).toBe('pending');
    expect(resolveTaskState({ ...base }).state).toBe('failed');
  });
});

describe('the job-array script and sbatch options', () => {
  it('runs train --config into each task home and writes the marker last', () => {
    const layout = sweepLayout("/shared/it's here");
    const text = renderSlurmScript(layout, 'vaewb-1', 4, {
      node: '/usr/bin/node',
      cli: '/opt/wb/bin/vae-workbench.js',
      env: { VAE_WORKBENCH_BACKEND: 'wasm' },
    });
    expect(text).toContain('#SBATCH --array=0-3');
    expect(text).toContain(`root='/shared/it'\\''s here'`);
    expect(text).toContain(`VAE_WORKBENCH_HOME="$task/home"`);
    expect(text).toContain(`'/usr/bin/node' '/opt/wb/bin/vae-workbench.js' train --config "$root/configs/$i.json" --json`);
    expect(text.indexOf('mv -f "$task/exit.tmp" "$task/exit"')).toBeGreaterThan(text.indexOf('train --config'));
    expect(sbatchArgs({ partition: 'gpu', time: '1:00:00', cpus: 4, mem: '8G', gpus: 1, maxParallel: 2 }, 4)).toEqual([
      '--parsable',
      '--partition=gpu',
      '--time=1:00:00',
      '--cpus-per-task=4',
      '--mem=8G',
      '--gpus=1',
      '--array=0-3%2',
    ]);
  });
  it('names the bad option', () => {
    expect(slurmOptionsSchema.safeParse({ time: '2 hours' }).error?.issues[0]?.path).toEqual(['time']);
    expect(slurmOptionsSchema.safeParse({ mem: '4 GB' }).error?.issues[0]?.path).toEqual(['mem']);
    expect(slurmOptionsSchema.safeParse({ partition: 'a;rm -rf' }).success).toBe(false);
    expect(slurmOptionsSchema.safeParse({ time: '1-12:00:00', mem: '4G', cpus: 2 }).success).toBe(true);
  });
});
