// The whole path through the real service: a real (tiny) training run in its own trainer process on real MNIST,
// bundles.export, bundles.import into a second data home, then the imported run generates images and can be
// resumed (its optimizer state is there).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import {
  parseRunConfig,
  parseBundle,
  loadDataset,
  initBackend,
  modelSpecFromConfig,
  VaeModel,
  decoderMean,
  readCheckpointDir,
  WorkbenchService,
} from '../built';

describe('bundles through the service', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'bundle-e2e-'));
  const services: WorkbenchService[] = [];
  afterAll(async () => {
    for (const s of services) await s.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('trains, exports, imports elsewhere, generates from and resumes the imported run', async () => {
    const a = new WorkbenchService({ host: 'cli', dataHome: path.join(tmp, 'a'), concurrency: 1 });
    services.push(a);
    const config = {
      name: 'e2e bundle',
      seed: 4,
      data: { dataset: 'mnist', trainLimit: 512, testLimit: 128, binarize: 'static' },
      model: { hidden: [32], latentDim: 2 },
      training: { epochs: 2, batchSize: 128 },
      eval: { iwSamples: 5, fid: false },
      snapshots: { gridSize: 3, manifoldSize: 4 },
    };
    const { runId } = await a.call('runs.start', { config });
    const finished = await a.waitForRun(runId);
    expect(finished.status, finished.error ?? '').toBe('completed');
    const checkpoints = a.store.listCheckpoints(runId);
    expect(checkpoints.length).toBeGreaterThan(0);

    const exported = await a.call('bundles.export', { runId });
    const bytes = new Uint8Array(Buffer.from(exported.dataBase64, 'base64'));
    expect(bytes.byteLength).toBe(exported.bytes);
    const parsed = parseBundle(bytes);
    expect(parsed.run.dataset).toEqual({ id: 'mnist', shape: [28, 28, 1], kind: 'image' });
    expect(parsed.optimizer?.name).toBe('adam');
    expect(parsed.snapshots.length).toBe(a.store.listArtifacts(runId).length);
    expect(parsed.metrics.length).toBeGreaterThan(0);

    // The bundle's tfjs models, loaded the way a user would (model.json + the weights file it names), compute what
    // the trained model computes on real test digits.
    await initBackend();
    const files = unzipSync(bytes);
    const loadPart = (part: string) => {
      const json = JSON.parse(Buffer.from(files[`model/${part}/model.json`]!).toString()) as {
        modelTopology: object;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      const bin = files[`model/${part}/${json.weightsManifest[0]!.paths[0]}`]!;
      return tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: json.weightsManifest[0]!.weights,
          weightData: bin.slice().buffer,
        }),
      );
    };
    const [encoder, decoder] = [await loadPart('encoder'), await loadPart('decoder')];
    const trained = new VaeModel(modelSpecFromConfig(parseRunConfig(parsed.run.config), [28, 28, 1], 'image'));
    trained.loadNamedWeights(parsed.weights);
    const digits = await loadDataset(parseRunConfig(config).data, { dataHome: path.join(tmp, 'a'), seed: 4 });
    const x = tf.tensor2d(digits.test.x.subarray(0, 20 * 784), [20, 784]);
    const enc = encoder.predict(x) as tf.Tensor2D;
    const ref = trained.encode(x.clone());
    const refEnc = tf.concat([ref.mu, ref.logvar!], 1);
    expect(tf.max(tf.abs(tf.sub(enc, refEnc))).dataSync()[0]).toBeLessThan(1e-5);
    const z = tf.slice(enc, [0, 0], [20, 2]) as tf.Tensor2D;
    const dec = decoder.predict(z) as tf.Tensor2D;
    const refOut = trained.decode(z);
    expect(tf.max(tf.abs(tf.sub(dec, decoderMean(refOut)))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, enc, ref.mu, ref.logvar!, refEnc, z, dec, refOut.params]);
    encoder.dispose();
    decoder.dispose();
    trained.dispose();

    const b = new WorkbenchService({ host: 'cli', dataHome: path.join(tmp, 'b'), concurrency: 1 });
    services.push(b);
    await expect(
      b.call('bundles.import', { filename: 'x.zip', dataBase64: Buffer.from(bytes.subarray(0, 5000)).toString('base64') }),
    ).rejects.toThrow(/damaged bundle/);
    expect(b.store.listRuns({}).total).toBe(0);
    const { runId: imported } = await b.call('bundles.import', { filename: exported.filename, dataBase64: exported.dataBase64 });
    const run = await b.call('runs.get', { runId: imported });
    expect(run.status).toBe('imported');
    expect(run.final['test/loss']).toBe(finished.final['test/loss']);

    const chosen = checkpoints.find((c) => c.tag === 'best') ?? checkpoints.find((c) => c.tag === 'last')!;
    const original = readCheckpointDir(chosen.path);
    const copy = readCheckpointDir(b.store.listCheckpoints(imported)[0]!.path);
    expect(copy.weights.map((w) => w.name)).toEqual(original.weights.map((w) => w.name));
    for (const [i, w] of original.weights.entries())
      expect(Buffer.from(copy.weights[i]!.data.buffer).equals(Buffer.from(w.data.buffer))).toBe(true);

    const img = await b.call('runs.generate', { runId: imported, kind: 'prior', n: 4, seed: 1 });
    expect(img.mime).toBe('image/png');
    const imgA = await a.call('runs.generate', { runId, kind: 'prior', n: 4, seed: 1 });
    expect(img.dataBase64).toBe(imgA.dataBase64); // same weights, same picture

    const { runId: resumed } = await b.call('runs.resume', { runId: imported, epochs: 3 });
    const done = await b.waitForRun(resumed);
    expect(done.status, done.error ?? '').toBe('completed');
    expect(done.parentId).toBe(imported);
  });
});
