import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '@shared/model-types';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '@shared/run-config';
import { expectedWeightShapes, type InputShape } from '../../src-main/checkpoints/architecture';
import {
  BundleError,
  buildBundle,
  packBundle,
  parseBundle,
  type BundleInput,
  type BundleSnapshot,
} from '../../src-main/checkpoints/bundle';
import type { NamedTensor } from '../../src-main/checkpoints/checkpoint-dir';
import { readSafetensors, writeSafetensors } from '../../src-main/checkpoints/safetensors';
import { createHash } from 'node:crypto';
import { seededPng, seededValues } from './synthetic-data';

const png = (width: number, height: number, seed: number) => new Uint8Array(seededPng(width, height, seed));

function synthetic(model: RunConfigInput['model'], shape: InputShape, extra: Partial<RunConfigInput> = {}): BundleInput {
  // An imported dataset: its example shape is whatever the test needs (a built-in id would fix the shape).
  const configInput: RunConfigInput = {
    name: 'synthetic',
    seed: 7,
    model,
    data: { dataset: 'import', path: 'synthetic.npy' },
    training: { epochs: 3 },
    ...extra,
  };
  const config: RunConfig = parseRunConfig(configInput);
  const weights: NamedTensor[] = expectedWeightShapes(config, shape).map((e, i) => ({
    name: e.name,
    shape: e.shape,
    data: seededValues(
      e.shape.reduce((a, b) => a * b, 1),
      1000 + i,
    ),
  }));
  const slots: NamedTensor[] =
    config.model.kind === 'gmm'
      ? []
      : weights.flatMap((w, i) => [
          { name: `${w.name}/m`, shape: w.shape, data: seededValues(w.data.length, 2000 + i) },
          { name: `${w.name}/v`, shape: w.shape, data: seededValues(w.data.length, 3000 + i).map(Math.abs) },
        ]);
  const metrics: MetricPoint[] = [];
  for (let step = 0; step <= 30; step += 10) {
    metrics.push({ name: 'train/loss', step, epoch: step / 10, time: 1_700_000_000_000 + step, value: 200 - step });
    metrics.push({ name: 'val/loss', step, epoch: step / 10, time: 1_700_000_000_000 + step, value: 210 - step });
  }
  const snapshots: BundleSnapshot[] = [
    { kind: 'prior-samples', epoch: 1, step: 10, mime: 'image/png', width: 8, height: 8, meta: { grid: 2 }, data: png(8, 8, 1) },
    {
      kind: 'reconstructions',
      epoch: 3,
      step: 30,
      mime: 'image/png',
      width: 6,
      height: 4,
      meta: { rows: 2, labels: [1, 2] },
      data: png(6, 4, 2),
    },
  ];
  return {
    appVersion: '0.1.0-test',
    createdAt: 1_700_000_100_000,
    run: {
      name: 'synthetic',
      config,
      configText: JSON.stringify(configInput),
      dataset: { id: 'import', shape, kind: 'image' },
      seed: 7,
      backend: 'wasm',
      status: 'completed',
      tags: ['test', 'bundle'],
      notes: 'made by a test',
      createdAt: 1_700_000_000_000,
      startedAt: 1_700_000_000_500,
      finishedAt: 1_700_000_090_000,
      sourceRunId: 12,
    },
    finalMetrics: { 'train/loss': 170, 'val/loss': 180 },
    metrics,
    checkpoint: { epoch: 3, step: 30, tag: 'best', metrics: { 'val/loss': 180 }, backend: 'wasm', createdAt: 1_700_000_080_000 },
    weights,
    optimizer: slots.length ? { name: 'adam', iterations: 30, slots } : null,
    snapshots,
  };
}

function sameTensors(a: NamedTensor[], b: NamedTensor[]): void {
  expect(a.map((t) => t.name)).toEqual(b.map((t) => t.name));
  for (const [i, t] of a.entries()) {
    expect(b[i]!.shape).toEqual(t.shape);
    expect(
      Buffer.from(b[i]!.data.buffer, b[i]!.data.byteOffset, b[i]!.data.byteLength).equals(
        Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      ),
    ).toBe(true);
  }
}

function refusal(bytes: Uint8Array): string {
  try {
    parseBundle(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(BundleError);
    return (err as Error).message;
  }
  throw new Error('the bundle was accepted');
}

/** Unzip, let `edit` change entries (manifest as an object), recompute the manifest's sha256s, repack. */
function repack(bytes: Uint8Array, edit: (files: Record<string, Uint8Array>, manifest: Record<string, any>) => void): Uint8Array {
  const files = unzipSync(bytes);
  const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString()) as Record<string, any>;
  delete files['manifest.json'];
  edit(files, manifest);
  manifest.entries = Object.fromEntries(
    Object.entries(files).map(([p, d]) => [p, { sha256: createHash('sha256').update(d).digest('hex'), bytes: d.byteLength }]),
  );
  return packBundle([
    { path: 'manifest.json', data: new Uint8Array(Buffer.from(JSON.stringify(manifest))), compress: true },
    ...Object.entries(files).map(([path, data]) => ({ path, data, compress: false })),
  ]);
}

describe('bundle format', () => {
  const big = synthetic({ hidden: [400], latentDim: 20 }, [28, 28, 1]);
  const small = synthetic({ hidden: [16], latentDim: 4 }, [8, 8, 1]);

  it('round-trips an MLP 784-400-20 VAE: identical tensors, optimizer, metrics, snapshots, run', () => {
    const bytes = buildBundle(big);
    const back = parseBundle(bytes);
    sameTensors(big.weights, back.weights);
    expect(back.optimizer!.name).toBe('adam');
    expect(back.optimizer!.iterations).toBe(30);
    sameTensors(big.optimizer!.slots, back.optimizer!.slots);
    expect(back.metrics).toEqual(big.metrics);
    expect(back.finalMetrics).toEqual(big.finalMetrics);
    expect(back.checkpoint).toEqual(big.checkpoint);
    expect(back.run).toEqual(big.run);
    expect(back.appVersion).toBe('0.1.0-test');
    expect(back.snapshots.map(({ data, ...m }) => m)).toEqual(big.snapshots.map(({ data, ...m }) => m));
    for (const [i, s] of big.snapshots.entries()) expect(Buffer.from(back.snapshots[i]!.data).equals(Buffer.from(s.data))).toBe(true);
  });

  it('has the documented layout: manifest first, entries with sha256 and size, a valid tfjs model.json', () => {
    const bytes = buildBundle(big);
    const files = unzipSync(bytes);
    const names = Object.keys(files);
    expect(names[0]).toBe('manifest.json');
    expect(new Set(names)).toEqual(
      new Set([
        'manifest.json',
        'README.txt',
        'metrics.json',
        'weights.safetensors',
        'optimizer.safetensors',
        'model/encoder/model.json',
        'model/encoder/weights.bin',
        'model/decoder/model.json',
        'model/decoder/weights.bin',
        'snapshots/0001-prior-samples-e1.png',
        'snapshots/0002-reconstructions-e3.png',
      ]),
    );
    const manifest = JSON.parse(Buffer.from(files['manifest.json']!).toString()) as Record<string, any>;
    expect(manifest.format).toBe('vae-workbench-bundle');
    expect(manifest.formatVersion).toBe(2);
    expect(Object.keys(manifest.entries).sort()).toEqual(names.filter((n) => n !== 'manifest.json').sort());
    expect(manifest.entries['weights.safetensors'].bytes).toBe(files['weights.safetensors']!.byteLength);
    expect(manifest.weights.tensors[0]).toEqual({ name: 'encoder/dense_0/kernel', shape: [784, 400] });
    expect(manifest.weights.naming).toMatch(/encoder\/dense_\{i\}/);
    expect(manifest.snapshots[1].meta).toEqual({ rows: 2, labels: [1, 2] });
    expect(manifest.run.config.model.hidden).toEqual([400]); // filled config
    const st = readSafetensors(files['optimizer.safetensors']!);
    expect(st.metadata).toEqual({ optimizer: 'adam', iterations: '30' });
    const enc = JSON.parse(Buffer.from(files['model/encoder/model.json']!).toString()) as Record<string, any>;
    expect(enc.format).toBe('layers-model');
    expect(enc.weightsManifest[0].weights.map((w: { name: string }) => w.name)).toEqual([
      'dense_0/kernel',
      'dense_0/bias',
      'mu_logvar/kernel',
      'mu_logvar/bias',
    ]);
    expect(files['model/encoder/weights.bin']!.byteLength).toBe((784 * 400 + 400 + 400 * 40 + 40) * 4);
    expect(Buffer.from(files['README.txt']!).toString()).toMatch(/VAE Workbench model bundle/);
    // the zip comment carries the archive checksum
    expect(Buffer.from(bytes.subarray(bytes.byteLength - 200)).toString('latin1')).toMatch(/vae-workbench-bundle sha256:[0-9a-f]{64}$/);
  });

  it('is a standard zip: python zipfile verifies every CRC and reads the archive comment and the safetensors', () => {
    if (spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status !== 0) return; // no python here
    const dir = mkdtempSync(path.join(tmpdir(), 'bundle-py-'));
    try {
      const file = path.join(dir, 'b.zip');
      writeFileSync(file, buildBundle(small));
      const script = `
import json, struct, sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
m = json.loads(z.read('manifest.json'))
st = z.read('weights.safetensors')
n = struct.unpack('<Q', st[:8])[0]
h = json.loads(st[8:8+n])
k = h['encoder/dense_0/kernel']
a = np.frombuffer(st[8+n+k['data_offsets'][0]:8+n+k['data_offsets'][1]], dtype='<f4').reshape(k['shape'])
print(json.dumps({'bad': bad, 'names': z.namelist(), 'comment': z.comment.decode(), 'format': m['format'], 'first': float(a[0,0]), 'last': float(a[-1,-1]), 'shape': list(a.shape)}))
`;
      const r = spawnSync('python3', ['-c', script, file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as {
        bad: string | null;
        names: string[];
        comment: string;
        format: string;
        first: number;
        last: number;
        shape: number[];
      };
      expect(out.bad).toBeNull();
      expect(out.names[0]).toBe('manifest.json');
      expect(out.comment).toMatch(/^vae-workbench-bundle sha256:[0-9a-f]{64}$/);
      expect(out.format).toBe('vae-workbench-bundle');
      const w = small.weights[0]!;
      expect(out.shape).toEqual(w.shape);
      expect(out.first).toBe(w.data[0]);
      expect(out.last).toBe(w.data[w.data.length - 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('handles a gmm run (no network, no optimizer) and a conv run', () => {
    const gmm = synthetic({ kind: 'gmm', components: 3 }, [4, 4, 1]);
    const back = parseBundle(buildBundle(gmm));
    sameTensors(gmm.weights, back.weights);
    expect(back.optimizer).toBeNull();
    expect(back.manifest.model).toBeNull();
    const conv = synthetic({ arch: 'conv', convChannels: [2, 3], latentDim: 2 }, [7, 7, 1]);
    sameTensors(conv.weights, parseBundle(buildBundle(conv)).weights);
  });

  it('accepts any creation time (zip dates are clamped to 1980..2099, the manifest keeps the real one)', () => {
    for (const createdAt of [0, 1, 4_200_000_000_000]) expect(parseBundle(buildBundle({ ...small, createdAt })).createdAt).toBe(createdAt);
  });

  it('refuses to build from weights that do not fit the config', () => {
    const bad = { ...small, weights: small.weights.slice(1) };
    expect(() => buildBundle(bad)).toThrow(/cannot export: weight "encoder\/dense_0\/kernel" is missing/);
  });

  it('refuses random bytes, empty input and a zip of something else', () => {
    let s = 99;
    const random = new Uint8Array(5000).map(() => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0), s >>> 24));
    expect(refusal(random)).toMatch(/^not a zip file/);
    expect(refusal(new Uint8Array(0))).toMatch(/^not a zip file/);
    expect(refusal(new Uint8Array(Buffer.from('{"format": "vae-workbench-bundle"}')))).toMatch(/^not a zip file/);
    const other = zipSync({ 'notes.txt': new Uint8Array(Buffer.from('hello')), 'img/a.png': png(2, 2, 3) });
    expect(refusal(other)).toMatch(/^not a VAE Workbench bundle: no manifest\.json/);
    const otherManifest = zipSync({ 'manifest.json': new Uint8Array(Buffer.from('{"format": "something-else", "version": 3}')) });
    expect(refusal(otherManifest)).toMatch(/^not a VAE Workbench bundle: manifest\.json has format "something-else"/);
    const notJson = zipSync({ 'manifest.json': new Uint8Array(Buffer.from('<xml/>')) });
    expect(refusal(notJson)).toMatch(/^not a VAE Workbench bundle: manifest\.json is not valid JSON/);
    // a foreign zip using a compression method we do not read is still "not ours", not "damaged"
    const bz = zipSync({ 'notes.txt': new Uint8Array(Buffer.from('hello')) }, { level: 0 });
    const bzView = new DataView(bz.buffer);
    for (let i = 0; i + 4 < bz.byteLength; i++) if (bzView.getUint32(i, true) === 0x02014b50) bzView.setUint16(i + 10, 12, true);
    expect(refusal(bz)).toMatch(/^not a VAE Workbench bundle: no manifest\.json/);
    // an empty zip (end record only)
    expect(refusal(zipSync({}))).toMatch(/no manifest\.json/);
  });

  it('refuses every truncation', () => {
    const bytes = buildBundle(small);
    const lengths = new Set<number>([1, 4, 21, 22, 100, bytes.byteLength - 1, bytes.byteLength - 22, bytes.byteLength - 90]);
    for (let n = 0; n < bytes.byteLength; n += 97) lengths.add(n);
    for (const n of lengths) {
      const msg = refusal(bytes.subarray(0, n));
      expect(msg).toMatch(/^(not a zip file|damaged bundle)/);
    }
    expect(refusal(bytes.subarray(0, bytes.byteLength - 1))).toMatch(/truncated/);
  });

  it('refuses a flipped byte anywhere in the file', () => {
    const bytes = buildBundle(small);
    const positions: number[] = [];
    for (let i = 0; i < bytes.byteLength; i += 31) positions.push(i);
    for (let i = Math.max(0, bytes.byteLength - 1200); i < bytes.byteLength; i++) positions.push(i); // central directory + end record + comment
    const seen = new Set<string>();
    for (const i of positions) {
      const copy = bytes.slice();
      copy[i] ^= 0x10;
      const msg = refusal(copy);
      expect(msg, `byte ${i}`).toMatch(/^(not a zip file|damaged bundle|not a VAE Workbench bundle)/);
      seen.add(msg.replace(/\(.*$/, '').replace(/\d+/g, 'N').slice(0, 60));
    }
    // the messages say what is wrong, and differ by what was hit
    if (process.env.SHOW_BUNDLE_MESSAGES) console.log([...seen].join('\n'));
    expect(seen.size).toBeGreaterThan(3);
  });

  it('refuses an entry that claims to inflate far beyond its compressed size (zip bomb) before inflating it', () => {
    const bytes = buildBundle(small).slice();
    const view = new DataView(bytes.buffer);
    // find metrics.json's central-directory record and make its uncompressed size 2 GiB - 1
    let patched = false;
    for (let i = 0; i + 46 < bytes.byteLength; i++) {
      if (view.getUint32(i, true) !== 0x02014b50) continue;
      const nameLen = view.getUint16(i + 28, true);
      if (Buffer.from(bytes.subarray(i + 46, i + 46 + nameLen)).toString() !== 'metrics.json') continue;
      view.setUint32(i + 24, 0x7fffffff, true);
      patched = true;
    }
    expect(patched).toBe(true);
    expect(refusal(bytes)).toMatch(/^damaged bundle: entry "metrics\.json" claims 2147483647 bytes from \d+ compressed bytes$/);
  });

  it('names the entry whose content is corrupt', () => {
    const bytes = buildBundle(small);
    // find the stored weights.safetensors data in the zip and flip a byte inside it
    const files = unzipSync(bytes);
    const st = files['weights.safetensors']!;
    const at = Buffer.from(bytes).indexOf(Buffer.from(st.subarray(st.byteLength - 64)));
    expect(at).toBeGreaterThan(0);
    const copy = bytes.slice();
    copy[at + 10] ^= 0x01;
    expect(refusal(copy)).toBe('damaged bundle: entry "weights.safetensors" is corrupt (sha256 does not match the manifest)');
  });

  it('checks content against the config even when every checksum is consistent', () => {
    const bytes = buildBundle(small);
    expect(parseBundle(repack(bytes, () => {})).weights.length).toBe(small.weights.length); // repack itself is sound
    // the config says latentDim 5 but the weights have 4
    expect(refusal(repack(bytes, (_f, m) => (m.run.config.model.latentDim = 5)))).toMatch(
      /weights\.safetensors: weight "encoder\/mu\/kernel" has shape \[16, 4\], the config implies \[16, 5\]/,
    );
    // an invalid config
    expect(refusal(repack(bytes, (_f, m) => (m.run.config.model.activation = 'swish')))).toMatch(
      /run config does not validate: .*model\.activation/,
    );
    // a newer format version
    expect(refusal(repack(bytes, (_f, m) => (m.formatVersion = 3)))).toMatch(/format version 3 is newer/);
    // version 1 (before the log and the uid) is still read
    expect(parseBundle(repack(bytes, (_f, m) => (m.formatVersion = 1))).manifest.formatVersion).toBe(1);
    // an entry not in the manifest, and one missing
    expect(
      refusal(
        repack(bytes, (f) => {
          f['extra.txt'] = new Uint8Array(3);
        }),
      ),
    ).toBe('damaged bundle: unexpected entry "extra.txt"');
    expect(
      refusal(
        repack(bytes, (f) => {
          delete f['metrics.json'];
        }),
      ),
    ).toMatch(/entry "metrics\.json" is missing/);
    // an optimizer slot that does not belong to a weight
    expect(
      refusal(
        repack(bytes, (f) => {
          const st = readSafetensors(f['optimizer.safetensors']!);
          st.tensors[0] = { ...st.tensors[0]!, name: 'encoder/nothing/kernel/m' };
          f['optimizer.safetensors'] = writeSafetensors(st.tensors, st.metadata);
        }),
      ),
    ).toMatch(/slot "encoder\/nothing\/kernel\/m" does not belong to any weight/);
    // a metric point without a value
    expect(
      refusal(
        repack(bytes, (f, m) => {
          f['metrics.json'] = new Uint8Array(Buffer.from(JSON.stringify([{ name: 'train/loss', step: 0, epoch: 0, time: 0 }])));
          m.metrics.points = 1;
        }),
      ),
    ).toMatch(/metrics\.json: 0\.value/);
  });
});
