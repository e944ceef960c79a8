// Images logged from Python under keys beyond samples/*: reconstructions, prior samples, traversals (with their
// rows' dimensions and z range, captioned as the workbench's own), latent grids and interpolations become the
// workbench's own artifact kinds, which the run view and the Samples view show; a key of no known kind stays in the
// folder with one message naming the keys that are shown. SOURCE_MAX_IMAGES bounds a run's images: the excess is
// refused with one message naming the limit, and the run keeps importing its metrics and log lines.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LIMITS } from '@shared/limits';
import { ROOT, WorkbenchService } from '../built';

const PYTHON = process.env.VAE_WORKBENCH_PYTHON ?? '/usr/bin/python3';
const CLIENT = path.join(ROOT, 'clients', 'python');
const havePython = existsSync(PYTHON);
if (!havePython) console.warn(`sources image tests skipped: ${PYTHON} does not exist (set VAE_WORKBENCH_PYTHON)`);

const home = mkdtempSync(path.join(os.tmpdir(), 'vaewb-images-'));
const source = path.join(home, 'runs');
mkdirSync(source);
let service: WorkbenchService | null = null;
afterAll(async () => service?.close());

function python(code: string): void {
  const r = spawnSync(PYTHON, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(CLIENT)}); import vaewb\n${code}`], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
}

const runNamed = (name: string) => service!.store.listRuns({}).runs.find((r) => r.name === name)!;

describe.skipIf(!havePython)('images logged from Python', () => {
  it('keys beyond samples/* become the workbench kinds; a traversal keeps its caption; unknown keys stay in the folder', async () => {
    service = new WorkbenchService({ host: 'cli', dataHome: path.join(home, 'data') });
    await service.call('sources.add', { path: source });
    python(`img = [[[(i + j) / 20.0] * 5 for j in range(5)] for i in range(6)]  # six 5x5 images
with vaewb.init(project='img', name='kinds', dir=${JSON.stringify(source)}) as run:
    run.log({'train/loss': 1.0}, step=1, epoch=1)
    run.log_images('reconstructions', img, step=1, epoch=1, columns=3)
    run.log_images('val/recon', img, step=1, epoch=1)
    run.log_images('prior', img, step=1, epoch=1)
    run.log_images('latent_traversal', img, step=1, epoch=1, columns=3, dims=[0, 4], z_range=(-3, 3))
    run.log_images('images/latent-grid', img, step=1, epoch=1)
    run.log_images('Interpolations', img, step=1, epoch=1)
    run.log_images('samples/prior', img, step=1, epoch=1)
    run.log_images('gradients/histogram', img, step=1, epoch=1)`);
    await service.call('sources.scan', {});
    const run = runNamed('kinds');
    const arts = service.store.listArtifacts(run.id).filter((a) => a.mime === 'image/png');
    const byKey = Object.fromEntries(arts.map((a) => [a.meta.key as string, a]));
    expect(Object.fromEntries(arts.map((a) => [a.meta.key, a.kind]))).toEqual({
      reconstructions: 'reconstructions',
      'val/recon': 'reconstructions',
      prior: 'prior-samples',
      latent_traversal: 'traversal',
      'images/latent-grid': 'manifold',
      Interpolations: 'interpolation',
      'samples/prior': 'prior-samples',
    });
    // columns=3: six 5x5 images in 3 columns and 2 rows, with 1-pixel gaps
    expect([byKey.latent_traversal!.width, byKey.latent_traversal!.height]).toEqual([3 * 5 + 2, 2 * 5 + 1]);
    expect(byKey.latent_traversal!.meta).toMatchObject({ dims: [0, 4], range: [-3, 3], source: 'python' });
    expect(byKey.latent_traversal!.epoch).toBe(1);
    // the bytes are the PNG the script wrote
    const folder = path.join(source, 'img', readdirSync(path.join(source, 'img'))[0]!);
    const line = readFileSync(path.join(folder, 'images.jsonl'), 'utf8')
      .split('\n')
      .map((l) => (l ? (JSON.parse(l) as { key: string; file: string }) : null))
      .find((l) => l?.key === 'latent_traversal')!;
    expect(
      service.store.getArtifactData(byKey.latent_traversal!.id)!.data.equals(readFileSync(path.join(folder, 'images', line.file))),
    ).toBe(true);
    const log = service.store
      .getLog(run.id, 100)
      .map((e) => e.message)
      .join('\n');
    expect(log).toMatch(/image key "gradients\/histogram" is not one the workbench shows \(keys ending in prior-samples: prior/);
    // the calls the run view and the Samples view make
    const listed = await service.call('runs.artifacts', { runId: run.id, kind: 'traversal' });
    expect(listed.map((a) => a.meta.key)).toEqual(['latent_traversal']);
  });

  it('SOURCE_MAX_IMAGES: the images past the limit are refused with one message, the run keeps importing', async () => {
    python(`with vaewb.init(project='cap', name='capped', dir=${JSON.stringify(source)}) as run:
    run.log({'train/loss': 1.0}, step=1)`);
    await service!.call('sources.scan', {});
    const run = runNamed('capped');
    // the run already holds the limit's images but 10 (seeded straight into the store: 20,000 through the folder
    // would only take longer to reach the same count)
    const tiny = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABc3UBGAAAAABJRU5ErkJggg==', 'base64');
    const seed = service!.store.connection.transaction(() => {
      for (let i = 0; i < LIMITS.SOURCE_MAX_IMAGES - 10; i++)
        service!.store.addArtifact(run.id, {
          kind: 'prior-samples',
          epoch: 0,
          step: i,
          mime: 'image/png',
          width: 1,
          height: 1,
          meta: {},
          data: tiny,
        });
    });
    seed();
    const folder = path.join(source, 'cap', readdirSync(path.join(source, 'cap'))[0]!);
    writeFileSync(path.join(folder, 'images', 'one.png'), tiny);
    const lines = (from: number, n: number) =>
      Array.from(
        { length: n },
        (_, i) => `${JSON.stringify({ key: 'samples/prior', step: from + i, time: Date.now(), file: 'one.png', width: 1, height: 1 })}\n`,
      ).join('');
    appendFileSync(path.join(folder, 'images.jsonl'), lines(100, 40));
    for (let i = 0; i < 3; i++) await service!.call('sources.scan', {});
    const count = () => service!.store.listArtifacts(run.id).filter((a) => a.mime === 'image/png').length;
    expect(count()).toBe(LIMITS.SOURCE_MAX_IMAGES);
    const messages = () => service!.store.getLog(run.id, 1000).filter((e) => /SOURCE_MAX_IMAGES/.test(e.message));
    expect(messages()).toHaveLength(1);
    expect(messages()[0]!.message).toMatch(/holds 20,000 images, the limit \(SOURCE_MAX_IMAGES\): later images are not imported/);
    // more images later: refused without a second message; metrics and log lines still come in; the run stays readable
    appendFileSync(path.join(folder, 'images.jsonl'), lines(200, 5));
    appendFileSync(path.join(folder, 'metrics.jsonl'), `${JSON.stringify({ step: 2, time: Date.now(), values: { 'train/loss': 0.5 } })}\n`);
    appendFileSync(path.join(folder, 'log.jsonl'), `${JSON.stringify({ time: Date.now(), level: 'info', message: 'still here' })}\n`);
    expect(await service!.call('sources.scan', {})).toEqual({ changed: 1 });
    expect(count()).toBe(LIMITS.SOURCE_MAX_IMAGES);
    expect(messages()).toHaveLength(1);
    const [series] = service!.store.series([run.id], 'train/loss', { x: 'step', maxPoints: 10 });
    expect(series!.points.map((p) => p.y)).toEqual([1, 0.5]);
    expect(service!.store.getLog(run.id, 10).some((e) => e.message === 'still here')).toBe(true);
    expect((await service!.call('sources.list', {}))[0]!.lastError).toBeNull();
    expect((await service!.call('runs.get', { runId: run.id })).status).toBe('completed');
  });
});
