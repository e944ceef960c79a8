// A model bundle: one run as ONE portable zip file, verified completely before anything is trusted.
//
// Entries (paths inside the zip):
//   manifest.json                 what this is: format, versions, the run (config, dataset, seed, ...), final metrics,
//                                 the checkpoint, weight names and shapes, snapshots' metadata, and the sha256 and size
//                                 of every other entry
//   README.txt                    the same in words, for a person who unzips the file
//   metrics.json                  every metric point of the run: [{name, step, epoch, time, value}, ...]
//   weights.safetensors           all model weights under the model's documented names (see architecture.ts)
//   optimizer.safetensors         optimizer slot variables ("<weight name>/<slot>"); name and iterations in its
//                                 __metadata__ (absent when the checkpoint has no optimizer state, e.g. gmm)
//   model/encoder/model.json, model/encoder/weights.bin   tfjs LayersModel (see layers-model.ts; not for gmm)
//   model/decoder/model.json, model/decoder/weights.bin
//   snapshots/NNNN-<kind>-e<epoch>.<png|json|bin>          the run's sample artifacts
// The zip's archive comment is "vae-workbench-bundle sha256:<hex>", the sha256 of every byte before the
// end-of-central-directory record; with exact checks of that record's fields, a change of any byte of the file
// is detected, not only changes inside entries.
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { z } from 'zod';
import {
  ARTIFACT_KINDS,
  metricPointSchema,
  RUN_STATUSES,
  type ArtifactFields,
  type MetricPoint,
  type RunStatus,
} from '@shared/model-types';
import { parseRunConfig, type RunConfig } from '@shared/run-config';
import { LIMITS } from '@shared/limits';
import { expectedWeightShapes, WEIGHT_NAMING_NOTES, type InputShape } from './architecture';
import type { NamedTensor, OptimizerState } from './checkpoint-dir';
import { buildLayersModels, WEIGHTS_FILE, type LayersModelJson } from './layers-model';
import { checkBundleDataset, checkBundleTotals, checkWeightValues } from './bundle-limits';
import { readSafetensors, SafetensorsError, writeSafetensors } from './safetensors';
import { ApiError } from '@shared/errors';

export const BUNDLE_FORMAT = 'vae-workbench-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
const COMMENT_PREFIX = `${BUNDLE_FORMAT} sha256:`;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const MAX_INFLATED_BYTES = 1024 * 1024 * 1024;
const DOS_MIN = new Date(1980, 0, 2).getTime();
const DOS_MAX = new Date(2099, 11, 30).getTime();

export class BundleError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'BundleError';
  }
}

export interface BundleDataset {
  id: string;
  /** [h, w, c] of one example. */
  shape: InputShape;
  kind: 'image' | 'series';
}

export interface BundleRun {
  name: string;
  /** The config with defaults filled. */
  config: RunConfig;
  /** The config exactly as the user wrote it. */
  configText: string;
  dataset: BundleDataset;
  seed: number;
  backend: string | null;
  status: RunStatus;
  tags: string[];
  notes: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** The run's id in the database it was exported from (informational). */
  sourceRunId: number | null;
}

export interface BundleCheckpoint {
  epoch: number;
  step: number;
  /** interval | best | last */
  tag: string;
  metrics: Record<string, number>;
  backend: string;
  createdAt: number;
}

export interface BundleSnapshot extends ArtifactFields {
  data: Uint8Array;
}

export interface BundleInput {
  appVersion: string;
  /** Default Date.now(). */
  createdAt?: number;
  run: BundleRun;
  finalMetrics: Record<string, number>;
  metrics: MetricPoint[];
  checkpoint: BundleCheckpoint;
  weights: NamedTensor[];
  optimizer: OptimizerState | null;
  snapshots: BundleSnapshot[];
}

/** What a verified bundle holds: everything it was built from, plus its manifest. */
export interface ParsedBundle extends BundleInput {
  manifest: BundleManifest;
  createdAt: number;
}

// ------------------------------------------------------------------ manifest schema

const finiteRecord = z.record(z.string(), z.number());
const shape3 = z.tuple([z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]);
const entrySchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }).strict();

const manifestSchema = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
    formatVersion: z.literal(BUNDLE_FORMAT_VERSION),
    appVersion: z.string(),
    createdAt: z.number(),
    run: z
      .object({
        name: z.string().max(LIMITS.RUN_NAME_MAX_CHARS, `at most ${LIMITS.RUN_NAME_MAX_CHARS} characters (RUN_NAME_MAX_CHARS)`),
        config: z.unknown(),
        configText: z.string().max(1024 * 1024, 'at most 1 MiB'),
        dataset: z.object({ id: z.string().min(1), shape: shape3, kind: z.enum(['image', 'series']) }).strict(),
        seed: z.number().int(),
        backend: z.string().nullable(),
        status: z.enum(RUN_STATUSES),
        tags: z
          .array(z.string().min(1).max(LIMITS.TAG_MAX_CHARS, `at most ${LIMITS.TAG_MAX_CHARS} characters (TAG_MAX_CHARS)`))
          .max(LIMITS.TAGS_MAX_COUNT, `at most ${LIMITS.TAGS_MAX_COUNT} tags (TAGS_MAX_COUNT)`),
        notes: z.string().max(LIMITS.RUN_NOTES_MAX_CHARS, `at most ${LIMITS.RUN_NOTES_MAX_CHARS} characters (RUN_NOTES_MAX_CHARS)`),
        createdAt: z.number(),
        startedAt: z.number().nullable(),
        finishedAt: z.number().nullable(),
        sourceRunId: z.number().int().nullable(),
      })
      .strict(),
    finalMetrics: finiteRecord,
    metrics: z.object({ path: z.literal('metrics.json'), points: z.number().int().min(0), names: z.array(z.string()) }).strict(),
    checkpoint: z
      .object({
        epoch: z.number().min(0),
        step: z.number().int().min(0),
        tag: z.string().min(1).max(LIMITS.TAG_MAX_CHARS, `at most ${LIMITS.TAG_MAX_CHARS} characters (TAG_MAX_CHARS)`),
        metrics: finiteRecord,
        backend: z.string(),
        createdAt: z.number(),
        optimizer: z
          .object({ name: z.string(), iterations: z.number().int().min(0), path: z.literal('optimizer.safetensors') })
          .strict()
          .nullable(),
      })
      .strict(),
    weights: z
      .object({
        path: z.literal('weights.safetensors'),
        tensors: z.array(z.object({ name: z.string(), shape: z.array(z.number().int().min(0)) }).strict()),
        naming: z.string(),
      })
      .strict(),
    model: z
      .object({
        encoder: z.literal('model/encoder/model.json'),
        decoder: z.literal('model/decoder/model.json'),
        notes: z.string(),
      })
      .strict()
      .nullable(),
    snapshots: z.array(
      z
        .object({
          path: z.string().regex(/^snapshots\/[A-Za-z0-9._-]+$/),
          kind: z.enum(ARTIFACT_KINDS),
          epoch: z.number().min(0),
          step: z.number().int().min(0),
          mime: z.string(),
          width: z.number().int().min(0),
          height: z.number().int().min(0),
          meta: z.record(z.string(), z.unknown()),
        })
        .strict(),
    ),
    entries: z.record(z.string(), entrySchema),
  })
  .strict();

export type BundleManifest = z.infer<typeof manifestSchema>;

// ------------------------------------------------------------------ build

const MODEL_NOTES =
  'tfjs LayersModels (tf.loadLayersModel). encoder: flat rows of d values -> [mu | logvar] (2 x latentDim) for vae/iwae, ' +
  'the code (latentDim) for ae/dae. decoder: latent vectors -> the mean of p(x|z) as flat rows of d values ' +
  '(sigmoid of logits for bernoulli; sigmoid(out) for gaussian on images, out on series). A learned decoder variance ' +
  '(decoder/logsigma) is only in weights.safetensors.';

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function utf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

function extensionFor(mime: string): string {
  if (mime === 'image/png') return 'png';
  if (mime === 'application/json') return 'json';
  return 'bin';
}

function readme(manifest: BundleManifest): string {
  const r = manifest.run;
  return [
    `VAE Workbench model bundle (format ${BUNDLE_FORMAT} v${BUNDLE_FORMAT_VERSION}, written by VAE Workbench ${manifest.appVersion})`,
    '',
    `Run: ${r.name}  (dataset ${r.dataset.id} [${r.dataset.shape.join(' x ')}], seed ${r.seed}, backend ${r.backend ?? 'unknown'})`,
    `Checkpoint: ${manifest.checkpoint.tag}, epoch ${manifest.checkpoint.epoch}, step ${manifest.checkpoint.step}`,
    '',
    'manifest.json           the run, its config, final metrics, and the sha256 of every entry',
    'metrics.json            every metric point [{name, step, epoch, time, value}]',
    'weights.safetensors     all weights (float32) under these names:',
    ...WEIGHT_NAMING_NOTES.split('\n').map((l) => `                          ${l}`),
    manifest.checkpoint.optimizer ? 'optimizer.safetensors   optimizer slots "<weight>/<slot>", to resume training' : '',
    manifest.model ? `model/encoder, model/decoder   ${MODEL_NOTES}` : '',
    manifest.snapshots.length ? 'snapshots/              sample images the run produced (metadata in manifest.json)' : '',
    '',
    'Import it in VAE Workbench (Runs > Import bundle, or `vae-workbench import <file>`); the file is verified first.',
    '',
  ]
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n');
}

/** Serialize a run into one bundle zip. Throws BundleError when the input is inconsistent (e.g. weights vs config). */
export function buildBundle(input: BundleInput): Uint8Array {
  let config: RunConfig;
  try {
    config = parseRunConfig(input.run.config);
  } catch (err) {
    throw new BundleError(`cannot export: ${(err as Error).message}`);
  }
  checkWeightShapes(config, input.run.dataset.shape, input.weights, 'cannot export');
  const createdAt = input.createdAt ?? Date.now();
  const files: [string, Uint8Array, boolean][] = []; // path, data, compress
  const add = (path: string, data: Uint8Array, compress: boolean) => files.push([path, data, compress]);

  add(
    'metrics.json',
    utf8(JSON.stringify(input.metrics.map((p) => ({ name: p.name, step: p.step, epoch: p.epoch, time: p.time, value: p.value })))),
    true,
  );
  add(
    'weights.safetensors',
    writeSafetensors(input.weights, {
      format: BUNDLE_FORMAT,
      producer: `VAE Workbench ${input.appVersion}`,
      kind: config.model.kind,
      arch: config.model.arch,
      inputShape: JSON.stringify(input.run.dataset.shape),
      naming: WEIGHT_NAMING_NOTES,
    }),
    false,
  );
  if (input.optimizer)
    add(
      'optimizer.safetensors',
      writeSafetensors(input.optimizer.slots, { optimizer: input.optimizer.name, iterations: String(input.optimizer.iterations) }),
      false,
    );
  let models: ReturnType<typeof buildLayersModels>;
  try {
    models = buildLayersModels(config, input.run.dataset, input.weights, `VAE Workbench ${input.appVersion}`);
  } catch (err) {
    throw new BundleError(`cannot export: ${(err as Error).message}`);
  }
  if (models) {
    add('model/encoder/model.json', utf8(models.encoder.modelJson), true);
    add('model/encoder/weights.bin', models.encoder.weightsBin, false);
    add('model/decoder/model.json', utf8(models.decoder.modelJson), true);
    add('model/decoder/weights.bin', models.decoder.weightsBin, false);
  }
  const snapshots = input.snapshots.map((s, i) => {
    const path = `snapshots/${String(i + 1).padStart(4, '0')}-${s.kind}-e${String(s.epoch).replace(/[^0-9]/g, '_')}.${extensionFor(s.mime)}`;
    add(path, s.data, s.mime !== 'image/png');
    return { path, kind: s.kind, epoch: s.epoch, step: s.step, mime: s.mime, width: s.width, height: s.height, meta: s.meta };
  });

  const run = input.run;
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    appVersion: input.appVersion,
    createdAt,
    run: {
      name: run.name,
      config,
      configText: run.configText,
      dataset: { id: run.dataset.id, shape: [...run.dataset.shape], kind: run.dataset.kind },
      seed: run.seed,
      backend: run.backend,
      status: run.status,
      tags: [...run.tags],
      notes: run.notes,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      sourceRunId: run.sourceRunId,
    },
    finalMetrics: finiteOnly(input.finalMetrics),
    metrics: { path: 'metrics.json', points: input.metrics.length, names: [...new Set(input.metrics.map((p) => p.name))].sort() },
    checkpoint: {
      epoch: input.checkpoint.epoch,
      step: input.checkpoint.step,
      tag: input.checkpoint.tag,
      metrics: finiteOnly(input.checkpoint.metrics),
      backend: input.checkpoint.backend,
      createdAt: input.checkpoint.createdAt,
      optimizer: input.optimizer
        ? { name: input.optimizer.name, iterations: input.optimizer.iterations, path: 'optimizer.safetensors' }
        : null,
    },
    weights: {
      path: 'weights.safetensors',
      tensors: input.weights.map((w) => ({ name: w.name, shape: [...w.shape] })),
      naming: WEIGHT_NAMING_NOTES,
    },
    model: models ? { encoder: 'model/encoder/model.json', decoder: 'model/decoder/model.json', notes: MODEL_NOTES } : null,
    snapshots,
    entries: {},
  };
  add('README.txt', utf8(readme(manifest)), true);
  for (const [path, data] of files) manifest.entries[path] = { sha256: sha256(data), bytes: data.byteLength };

  return packBundle(
    [
      { path: 'manifest.json', data: utf8(JSON.stringify(manifest, null, 1)), compress: true },
      ...files.map(([path, data, compress]) => ({ path, data, compress })),
    ],
    createdAt,
  );
}

export interface BundleEntry {
  path: string;
  data: Uint8Array;
  /** Deflate (text) or store (already dense binary: float32 tensors, PNG). */
  compress: boolean;
}

/**
 * Write entries, in order, into a zip whose archive comment carries the checksum parseBundle verifies. The
 * low-level half of buildBundle (which also writes the manifest); exported for tools and tests that repackage.
 */
export function packBundle(entries: BundleEntry[], mtimeMs: number = Date.now()): Uint8Array {
  // Zip timestamps (DOS dates) only cover 1980..2099; clamp rather than fail on odd clocks.
  const mtime = new Date(Math.min(Math.max(Number.isFinite(mtimeMs) ? mtimeMs : Date.now(), DOS_MIN), DOS_MAX));
  const zippable: Zippable = {};
  for (const e of entries) zippable[e.path] = [e.data, { level: e.compress ? 6 : 0, mtime }];
  return withArchiveChecksum(zipSync(zippable));
}

/** JSON has no NaN or Infinity: metrics that are not finite are left out of the manifest. */
function finiteOnly(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => Number.isFinite(v)));
}

// ------------------------------------------------------------------ zip structure

const EOCD_SIG = 0x06054b50;
const EOCD_SIZE = 22;

function findEocd(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let e = bytes.byteLength - EOCD_SIZE; e >= 0 && bytes.byteLength - e <= EOCD_SIZE + 0xffff; e--) {
    if (view.getUint32(e, true) === EOCD_SIG && e + EOCD_SIZE + view.getUint16(e + 20, true) === bytes.byteLength) return e;
  }
  return -1;
}

/** Set the zip's archive comment to the sha256 of everything before the end-of-central-directory record. */
function withArchiveChecksum(zip: Uint8Array): Uint8Array {
  const e = findEocd(zip);
  if (e < 0 || e + EOCD_SIZE !== zip.byteLength) throw new BundleError('internal error: unexpected zip layout from the zip writer');
  const comment = utf8(COMMENT_PREFIX + sha256(zip.subarray(0, e)));
  const out = new Uint8Array(zip.byteLength + comment.byteLength);
  out.set(zip);
  out.set(comment, zip.byteLength);
  new DataView(out.buffer).setUint16(e + 20, comment.byteLength, true);
  return out;
}

interface ZipLayout {
  eocd: number;
  entries: number;
  comment: string;
}

/** Check the end-of-central-directory record exactly (single disk, counts agree, directory ends where it starts). */
function readZipLayout(bytes: Uint8Array, fail: (why: string) => never): ZipLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const e = findEocd(bytes);
  if (e < 0) fail('the zip file is truncated or damaged (no end-of-central-directory record)');
  const disk = view.getUint16(e + 4, true);
  const cdDisk = view.getUint16(e + 6, true);
  const onDisk = view.getUint16(e + 8, true);
  const total = view.getUint16(e + 10, true);
  const cdSize = view.getUint32(e + 12, true);
  const cdOffset = view.getUint32(e + 16, true);
  if (disk !== 0 || cdDisk !== 0 || onDisk !== total) fail('the zip file is damaged (multi-disk fields in its end record)');
  if (cdOffset + cdSize !== e) fail('the zip file is truncated or damaged (central directory does not end where its end record starts)');
  const comment = Buffer.from(bytes.subarray(e + EOCD_SIZE)).toString('utf8');
  return { eocd: e, entries: total, comment };
}

// ------------------------------------------------------------------ parse

/** Parse and verify a bundle completely; throws BundleError saying what is wrong. */
export function parseBundle(bytes: Uint8Array): ParsedBundle {
  const notZip = (why?: string): never => {
    throw new BundleError(why ? `not a zip file (${why})` : 'not a zip file');
  };
  if (bytes.byteLength < EOCD_SIZE) notZip(`${bytes.byteLength} bytes`);
  const isLocalHeader = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
  const isEmptyZip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x05 && bytes[3] === 0x06;
  if (!isLocalHeader && !isEmptyZip) notZip();
  const damaged = (why: string): never => {
    throw new BundleError(`damaged bundle: ${why}`);
  };
  const layout = readZipLayout(bytes, damaged);
  if (layout.entries > LIMITS.BUNDLE_MAX_ENTRIES)
    throw new BundleError(
      `the bundle has ${layout.entries} entries, more than the limit of ${LIMITS.BUNDLE_MAX_ENTRIES} (BUNDLE_MAX_ENTRIES)`,
    );
  const ours = layout.comment.startsWith(COMMENT_PREFIX);
  // A zip of something else gets "not a VAE Workbench bundle"; our own files, once damaged, get "damaged bundle".
  const notOurs = (why: string): never => {
    throw new BundleError(ours ? `damaged bundle: ${why}` : `not a VAE Workbench bundle: ${why}`);
  };

  // Entry names and sizes from the central directory (nothing decompressed yet), then each entry on its own so an
  // error can name it. Sizes are checked before decompressing, so a damaged size field cannot make us allocate
  // gigabytes.
  const infos = new Map<string, { size: number; originalSize: number; compression: number }>();
  const names: string[] = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        names.push(f.name);
        infos.set(f.name, { size: f.size, originalSize: f.originalSize, compression: f.compression });
        return false;
      },
    });
  } catch (err) {
    damaged(`cannot read the zip directory (${(err as Error).message})`);
  }
  if (names.length !== layout.entries) damaged(`the zip directory lists ${names.length} entries, its end record ${layout.entries}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) damaged(`entry "${dup}" appears twice`);
  /** The directory record of one entry must be plausible before we inflate it. */
  const checkInfo = (name: string, fail: (why: string) => never) => {
    const info = infos.get(name)!;
    if (info.compression !== 0 && info.compression !== 8) fail(`entry "${name}" uses unknown compression method ${info.compression}`);
    if (info.compression === 0 && info.size !== info.originalSize) fail(`entry "${name}" is stored but its two sizes differ`);
    if (info.size > bytes.byteLength) fail(`entry "${name}" claims ${info.size} compressed bytes, more than the whole file`);
    // Deflate expands at most ~1032:1; anything claiming more (or over 1 GiB of text) is damaged or a zip bomb.
    if (info.compression === 8 && (info.originalSize > MAX_INFLATED_BYTES || info.originalSize > info.size * 1100 + 1024))
      fail(`entry "${name}" claims ${info.originalSize} bytes from ${info.size} compressed bytes`);
  };
  const read = (name: string, expectedBytes: number): Uint8Array => {
    const info = infos.get(name)!;
    if (info.originalSize !== expectedBytes) damaged(`entry "${name}" has ${info.originalSize} bytes, the manifest says ${expectedBytes}`);
    let out: Uint8Array | undefined;
    try {
      out = unzipSync(bytes, { filter: (f) => f.name === name })[name];
    } catch (err) {
      return damaged(`entry "${name}" cannot be decompressed (${(err as Error).message})`);
    }
    if (!out) return damaged(`entry "${name}" cannot be read`);
    if (out.byteLength !== expectedBytes) damaged(`entry "${name}" has ${out.byteLength} bytes, the manifest says ${expectedBytes}`);
    return out;
  };

  if (!names.includes('manifest.json'))
    notOurs(`no manifest.json (entries: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''})`);
  let raw: unknown;
  try {
    checkInfo('manifest.json', notOurs);
    const size = infos.get('manifest.json')!.originalSize;
    if (size > MAX_MANIFEST_BYTES) notOurs(`manifest.json is ${size} bytes, more than a manifest can be`);
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(read('manifest.json', size)));
  } catch (err) {
    if (err instanceof BundleError) throw err;
    return notOurs(`manifest.json is not valid JSON (${(err as Error).message})`);
  }
  const head = raw as { format?: unknown; formatVersion?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== BUNDLE_FORMAT)
    notOurs(`manifest.json has format ${JSON.stringify(head?.format ?? null)}, expected "${BUNDLE_FORMAT}"`);
  if (head!.formatVersion !== BUNDLE_FORMAT_VERSION)
    throw new BundleError(
      typeof head!.formatVersion === 'number' && head!.formatVersion > BUNDLE_FORMAT_VERSION
        ? `bundle format version ${head!.formatVersion} is newer than this VAE Workbench reads (${BUNDLE_FORMAT_VERSION}); update the app`
        : `unsupported bundle format version ${JSON.stringify(head!.formatVersion)} (this app reads ${BUNDLE_FORMAT_VERSION})`,
    );
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    damaged(`manifest.json: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  const manifest = parsed.data!;
  for (const name of names) checkInfo(name, damaged);
  checkBundleTotals([...infos.values()]); // the total inflated size, before any entry but the manifest is inflated
  const required = new Set(['README.txt', manifest.metrics.path, manifest.weights.path]);
  if (manifest.checkpoint.optimizer) required.add(manifest.checkpoint.optimizer.path);
  if (manifest.model)
    for (const part of ['encoder', 'decoder']) required.add(`model/${part}/model.json`).add(`model/${part}/${WEIGHTS_FILE}`);
  for (const s of manifest.snapshots) required.add(s.path);
  // Before anything but the manifest is inflated: no entry the format does not call for (even one the manifest
  // lists with its true sha256), and a model that fits the dataset it claims and this machine.
  for (const name of [...names, ...Object.keys(manifest.entries)])
    if (name !== 'manifest.json' && !required.has(name)) damaged(`unexpected entry "${name}"`);
  checkBundleDataset(manifest.run.config, manifest.run.dataset, infos.get(manifest.weights.path)?.originalSize ?? 0);

  // Every entry: listed in the manifest, with the recorded size and sha256; nothing extra, nothing missing.
  const data = new Map<string, Uint8Array>();
  for (const name of names) {
    if (name === 'manifest.json') continue;
    const expected = Object.hasOwn(manifest.entries, name) ? manifest.entries[name] : undefined;
    if (!expected) damaged(`unexpected entry "${name}" (not in the manifest)`);
    const content = read(name, expected!.bytes);
    if (sha256(content) !== expected!.sha256) damaged(`entry "${name}" is corrupt (sha256 does not match the manifest)`);
    data.set(name, content);
  }
  for (const name of Object.keys(manifest.entries)) if (!data.has(name)) damaged(`entry "${name}" is missing`);
  for (const name of required) if (!data.has(name)) damaged(`entry "${name}" is missing`);
  for (const name of data.keys()) if (!required.has(name)) damaged(`unexpected entry "${name}"`);

  // The whole archive: the checksum in the zip comment covers every byte before the end record.
  if (!ours) damaged('the archive checksum (zip comment) is missing');
  if (layout.comment !== COMMENT_PREFIX + sha256(bytes.subarray(0, layout.eocd)))
    damaged('the archive checksum does not match (the file was altered or corrupted)');

  // Content: config, weights against the config, optimizer, metrics, models, snapshots.
  let config: RunConfig;
  try {
    config = parseRunConfig(manifest.run.config);
  } catch (err) {
    return damaged(`the run config does not validate: ${(err as Error).message}`);
  }
  const need = (path: string): Uint8Array => data.get(path) ?? damaged(`entry "${path}" is missing`);
  const weights = readTensors(need('weights.safetensors'), 'weights.safetensors', damaged).tensors;
  checkWeightShapes(config, manifest.run.dataset.shape, weights, 'damaged bundle: weights.safetensors');
  checkWeightValues(weights, 'weights.safetensors');
  const listed = manifest.weights.tensors;
  if (listed.length !== weights.length || listed.some((t, i) => t.name !== weights[i]!.name || t.shape.join() !== weights[i]!.shape.join()))
    damaged('weights.safetensors does not hold the tensors the manifest lists');

  let optimizer: OptimizerState | null = null;
  const opt = manifest.checkpoint.optimizer;
  if (opt) {
    const st = readTensors(need(opt.path), opt.path, damaged);
    if (st.metadata.optimizer !== opt.name || st.metadata.iterations !== String(opt.iterations))
      damaged(`${opt.path}: its metadata (${st.metadata.optimizer}, ${st.metadata.iterations} iterations) disagrees with the manifest`);
    const shapes = new Map(weights.map((w) => [w.name, w.shape.join()]));
    for (const slot of st.tensors) {
      const base = slot.name.slice(0, slot.name.lastIndexOf('/'));
      if (!shapes.has(base)) damaged(`${opt.path}: slot "${slot.name}" does not belong to any weight`);
      if (shapes.get(base) !== slot.shape.join())
        damaged(`${opt.path}: slot "${slot.name}" has shape [${slot.shape.join(', ')}], its weight [${shapes.get(base)}]`);
    }
    checkWeightValues(st.tensors, opt.path, 1e30);
    optimizer = { name: opt.name, iterations: opt.iterations, slots: st.tensors };
  } else if (data.has('optimizer.safetensors')) damaged('optimizer.safetensors is present but the manifest records no optimizer');

  const metrics = parseMetrics(need(manifest.metrics.path), damaged);
  if (metrics.length !== manifest.metrics.points)
    damaged(`metrics.json has ${metrics.length} points, the manifest says ${manifest.metrics.points}`);

  const expectModel = config.model.kind !== 'gmm';
  if (expectModel !== (manifest.model !== null))
    damaged(expectModel ? 'the tfjs model (model/) is missing' : 'a gmm bundle must not hold a tfjs model');
  if (manifest.model) for (const part of ['encoder', 'decoder'] as const) checkLayersModel(need, `model/${part}`, damaged);

  const snapshots: BundleSnapshot[] = manifest.snapshots.map((s) => {
    const bytesOf = need(s.path);
    if (s.mime === 'image/png' && !isPng(bytesOf)) damaged(`${s.path} is not a PNG image`);
    return { kind: s.kind, epoch: s.epoch, step: s.step, mime: s.mime, width: s.width, height: s.height, meta: s.meta, data: bytesOf };
  });

  const r = manifest.run;
  return {
    manifest,
    appVersion: manifest.appVersion,
    createdAt: manifest.createdAt,
    run: { ...r, config, dataset: { id: r.dataset.id, shape: [...r.dataset.shape] as InputShape, kind: r.dataset.kind } },
    finalMetrics: manifest.finalMetrics,
    metrics,
    checkpoint: {
      epoch: manifest.checkpoint.epoch,
      step: manifest.checkpoint.step,
      tag: manifest.checkpoint.tag,
      metrics: manifest.checkpoint.metrics,
      backend: manifest.checkpoint.backend,
      createdAt: manifest.checkpoint.createdAt,
    },
    weights,
    optimizer,
    snapshots,
  };
}

function readTensors(bytes: Uint8Array, path: string, fail: (why: string) => never) {
  try {
    return readSafetensors(bytes);
  } catch (err) {
    if (err instanceof SafetensorsError) return fail(`${path}: ${err.message}`);
    throw err;
  }
}

/** Every weight the config implies, with its shape; nothing else. `context` prefixes the error. */
function checkWeightShapes(config: RunConfig, inputShape: InputShape, weights: NamedTensor[], context: string): void {
  const expected = expectedWeightShapes(config, inputShape);
  const byName = new Map(weights.map((w) => [w.name, w]));
  for (const e of expected) {
    const w = byName.get(e.name);
    if (!w) throw new BundleError(`${context}: weight "${e.name}" is missing (the config implies shape [${e.shape.join(', ')}])`);
    if (w.shape.length !== e.shape.length || w.shape.some((s, i) => s !== e.shape[i]))
      throw new BundleError(`${context}: weight "${e.name}" has shape [${w.shape.join(', ')}], the config implies [${e.shape.join(', ')}]`);
  }
  const known = new Set(expected.map((e) => e.name));
  const extra = weights.find((w) => !known.has(w.name));
  if (extra) throw new BundleError(`${context}: weight "${extra.name}" is not part of the model the config describes`);
}

function parseMetrics(bytes: Uint8Array, fail: (why: string) => never): MetricPoint[] {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return fail(`metrics.json is not valid JSON (${(err as Error).message})`);
  }
  const parsed = z.array(metricPointSchema).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`metrics.json: ${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

function checkLayersModel(need: (path: string) => Uint8Array, dir: string, fail: (why: string) => never): void {
  let json: LayersModelJson;
  try {
    json = JSON.parse(Buffer.from(need(`${dir}/model.json`)).toString('utf8')) as LayersModelJson;
  } catch (err) {
    return fail(`${dir}/model.json is not valid JSON (${(err as Error).message})`);
  }
  const group = json?.weightsManifest?.[0];
  if (json?.format !== 'layers-model' || !json.modelTopology || !group || json.weightsManifest.length !== 1 || group.paths.length !== 1)
    fail(`${dir}/model.json is not a single-shard tfjs layers-model`);
  if (group!.paths[0] !== WEIGHTS_FILE) fail(`${dir}/model.json refers to weights "${group!.paths[0]}", expected "${WEIGHTS_FILE}"`);
  const bin = need(`${dir}/${WEIGHTS_FILE}`);
  const bytes = group!.weights.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * 4, 0);
  if (bytes !== bin.byteLength) fail(`${dir}: weights file has ${bin.byteLength} bytes, model.json needs ${bytes}`);
}

function isPng(b: Uint8Array): boolean {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  return b.byteLength >= 8 && sig.every((v, i) => b[i] === v);
}
