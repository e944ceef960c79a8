// Issue 23 cases 10 and 11: calls that answered 500 (or wrote in the wrong place) now answer 400 naming the field,
// leave nothing behind, and the web host (a real socket) keeps serving.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebHost } from '../../../src-main/hosts/web/server';
import { callApi, startTestHost, type TestHost } from './web-host-fixture';
import { smallBundle } from './bundle-fixture';
import type { WorkbenchService } from '../../built';

let home: string;
let service: WorkbenchService;
let host: WebHost;

const api = (name: string, body: string | object) => callApi(host, name, body);
async function refused(name: string, body: string | object, text: string) {
  const r = await api(name, body);
  expect(r.status, JSON.stringify(r.json)).toBe(400);
  expect(r.json.error!.message).toContain(text);
  expect((await api('app.info', {})).status).toBe(200);
}

let fixture: TestHost;
beforeAll(async () => {
  fixture = await startTestHost('vae-hostile-calls-');
  ({ home, service, host } = fixture);
});
afterAll(() => fixture?.close());

const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
const axes = [{ key: 'training.epochs', values: [1] }];

describe('400, not 500', () => {
  it('a sweep or k8s config that is a string', async () => {
    await refused('sweeps.submit', { config: 'hello', axes, on: 'slurm', dir: path.join(home, 's') }, 'must be a JSON object');
    await refused('sweeps.k8s', { config: 'hello', axes }, 'must be a JSON object');
    await refused('runs.sweep', { config: 'hello', axes }, 'must be a JSON object');
  });

  it('a config nested 5,000 deep', async () => {
    for (const call of ['sweeps.submit', 'sweeps.k8s', 'runs.start'])
      await refused(call, `{"config":${deep(5000)},"axes":${JSON.stringify(axes)},"on":"slurm"}`, 'UNTRUSTED_MAX_DEPTH');
  });

  it('runs.update with name ""', async () => {
    const { json } = await api('bundles.import', { filename: 'b.zip', dataBase64: Buffer.from(smallBundle()).toString('base64') });
    await refused('runs.update', { runId: json.result.runId, name: '' }, 'name: a run name cannot be empty');
    expect(service.store.getRun(json.result.runId)!.name).toBe('small');
  });

  it('a sweep dir that is relative, holds a NUL or lies under a file; nothing is left behind', async () => {
    const file = path.join(home, 'a-file');
    writeFileSync(file, 'x');
    await refused('sweeps.submit', { config: {}, axes, on: 'slurm', dir: 'relative/sweeps' }, 'is relative');
    expect(existsSync(path.join(process.cwd(), 'relative'))).toBe(false);
    await refused('sweeps.submit', { config: {}, axes, on: 'slurm', dir: `${home}/a\u0000b` }, 'NUL');
    await refused(
      'sweeps.submit',
      { config: {}, axes, on: 'slurm', dir: path.join(file, 'sweeps') },
      'a part of it is a file, not a folder',
    );
    expect((await api('sweeps.list', {})).json.result).toEqual([]);
  });

  it('a failed submit removes the base folders it created', async () => {
    const base = path.join(home, 'new-base');
    const r = await api('sweeps.submit', {
      config: {},
      axes,
      on: 'slurm',
      slurm: { partition: 'no-such-partition-for-this-test' },
      dir: path.join(base, 'deeper'),
    });
    expect(r.status).not.toBe(200);
    expect(existsSync(base)).toBe(false);
    expect((await api('sweeps.list', {})).json.result).toEqual([]);
    expect((await api('app.info', {})).status).toBe(200);
  }, 60_000);
});
