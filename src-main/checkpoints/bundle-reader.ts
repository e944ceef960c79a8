// Reading a bundle: parse and verify it completely, in named steps, before anything in it is trusted: the zip
// container (bundle-container.ts), the manifest against its schema (bundle-manifest.ts), the directory against
// what the format calls for and the limits (bundle-limits.ts), every entry's size and sha256, the archive
// checksum, then the content itself (config, weights, optimizer, metrics, tfjs models, snapshots).
import { z } from 'zod';
import { metricPointSchema, type MetricPoint } from '@shared/model-types';
import { parseRunConfig, type RunConfig } from '@shared/run-config';
import { LIMITS } from '@shared/limits';
import type { InputShape } from './architecture';
import type { NamedTensor, OptimizerState } from './checkpoint-dir';
import { WEIGHTS_FILE, type LayersModelJson } from './layers-model';
import { checkBundleDataset, checkBundleTotals, checkWeightValues } from './bundle-limits';
import { readSafetensors, SafetensorsError } from './safetensors';
import { BundleError } from './bundle-error';
import { checkJsonText, checkJsonValue, checkMetricRows, JSON_BOUNDS, UntrustedError } from '../os/untrusted';
import {
  archiveChecksumMatches,
  checkEntryInfo,
  checkZipSignature,
  hasBundleComment,
  readEntry,
  readZipDirectory,
  readZipLayout,
  sha256,
  type ZipDirectory,
  type ZipLayout,
} from './bundle-container';
import {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  BUNDLE_MIN_FORMAT_VERSION,
  bundleLogSchema,
  type BundleLogLine,
  checkWeightShapes,
  manifestSchema,
  type BundleManifest,
  type BundleSnapshot,
  type ParsedBundle,
} from './bundle-manifest';

const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

type Fail = (why: string) => never;

const damaged: Fail = (why) => {
  throw new BundleError(`damaged bundle: ${why}`);
};

/** The zip as read so far: its end record and directory, and whether its comment claims it is one of ours. */
interface Archive {
  bytes: Uint8Array;
  layout: ZipLayout;
  dir: ZipDirectory;
  ours: boolean;
  /** A zip of something else gets "not a VAE Workbench bundle"; our own files, once damaged, get "damaged bundle". */
  notOurs: Fail;
}

/** Parse and verify a bundle completely; throws BundleError saying what is wrong. */
export function parseBundle(bytes: Uint8Array): ParsedBundle {
  const archive = openArchive(bytes);
  const manifest = readManifest(archive);
  const required = checkDirectory(archive, manifest);
  const data = readEntries(archive, manifest, required);
  // The whole archive: the checksum in the zip comment covers every byte before the end record.
  if (!archive.ours) damaged('the archive checksum (zip comment) is missing');
  if (!archiveChecksumMatches(bytes, archive.layout)) damaged('the archive checksum does not match (the file was altered or corrupted)');
  return readContent(manifest, data);
}

/** Step 1: a zip at all, its end record exact, not too many entries, its directory read (nothing inflated yet). */
function openArchive(bytes: Uint8Array): Archive {
  checkZipSignature(bytes);
  const layout = readZipLayout(bytes, damaged);
  if (layout.entries > LIMITS.BUNDLE_MAX_ENTRIES)
    throw new BundleError(
      `the bundle has ${layout.entries} entries, more than the limit of ${LIMITS.BUNDLE_MAX_ENTRIES} (BUNDLE_MAX_ENTRIES)`,
    );
  const ours = hasBundleComment(layout);
  const notOurs: Fail = (why) => {
    throw new BundleError(ours ? `damaged bundle: ${why}` : `not a VAE Workbench bundle: ${why}`);
  };
  const dir = readZipDirectory(bytes, layout, damaged);
  return { bytes, layout, dir, ours, notOurs };
}

/** Step 2: manifest.json, inflated alone: valid JSON, our format, a version this app reads, and the schema. */
function readManifest(a: Archive): BundleManifest {
  const { names, infos } = a.dir;
  if (!names.includes('manifest.json'))
    a.notOurs(`no manifest.json (entries: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''})`);
  let raw: unknown;
  try {
    checkEntryInfo(a.bytes, a.dir, 'manifest.json', a.notOurs);
    const size = infos.get('manifest.json')!.originalSize;
    if (size > MAX_MANIFEST_BYTES) a.notOurs(`manifest.json is ${size} bytes, more than a manifest can be`);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(readEntry(a.bytes, a.dir, 'manifest.json', size, damaged));
    checkJsonText(text, 'manifest.json'); // depth and size checked on the text, before JSON.parse
    raw = JSON.parse(text);
  } catch (err) {
    if (err instanceof BundleError || err instanceof UntrustedError) throw err;
    return a.notOurs(`manifest.json is not valid JSON (${(err as Error).message})`);
  }
  checkFormat(raw, a.notOurs);
  checkJsonValue(raw, 'manifest.json');
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    damaged(`manifest.json: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data!;
}

function checkFormat(raw: unknown, notOurs: Fail): void {
  const head = raw as { format?: unknown; formatVersion?: unknown } | null;
  if (typeof head !== 'object' || head === null || head.format !== BUNDLE_FORMAT)
    notOurs(`manifest.json has format ${JSON.stringify(head?.format ?? null)}, expected "${BUNDLE_FORMAT}"`);
  const version = head!.formatVersion;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < BUNDLE_MIN_FORMAT_VERSION || version > BUNDLE_FORMAT_VERSION)
    throw new BundleError(
      typeof head!.formatVersion === 'number' && head!.formatVersion > BUNDLE_FORMAT_VERSION
        ? `bundle format version ${head!.formatVersion} is newer than this VAE Workbench reads (${BUNDLE_FORMAT_VERSION}); update the app`
        : `unsupported bundle format version ${JSON.stringify(head!.formatVersion)} (this app reads ${BUNDLE_FORMAT_VERSION})`,
    );
}

/**
 * Step 3, before anything but the manifest is inflated: every directory record plausible, the total inflated size
 * within the limit, no entry the format does not call for (even one the manifest lists with its true sha256), and
 * a model that fits the dataset it claims and this machine. Returns the entries the format requires.
 */
function checkDirectory(a: Archive, manifest: BundleManifest): Set<string> {
  const { names, infos } = a.dir;
  for (const name of names) checkEntryInfo(a.bytes, a.dir, name, damaged);
  checkBundleTotals([...infos.values()]); // the total inflated size, before any entry but the manifest is inflated
  const required = new Set(['README.txt', manifest.metrics.path, manifest.weights.path]);
  if (manifest.checkpoint.optimizer) required.add(manifest.checkpoint.optimizer.path);
  if (manifest.log) required.add(manifest.log.path);
  if (manifest.model)
    for (const part of ['encoder', 'decoder']) required.add(`model/${part}/model.json`).add(`model/${part}/${WEIGHTS_FILE}`);
  for (const s of manifest.snapshots) required.add(s.path);
  for (const name of [...names, ...Object.keys(manifest.entries)])
    if (name !== 'manifest.json' && !required.has(name)) damaged(`unexpected entry "${name}"`);
  checkBundleDataset(manifest.run.config, manifest.run.dataset, infos.get(manifest.weights.path)?.originalSize ?? 0);
  return required;
}

/** Step 4: every entry listed in the manifest, with the recorded size and sha256; nothing extra, nothing missing. */
function readEntries(a: Archive, manifest: BundleManifest, required: Set<string>): Map<string, Uint8Array> {
  const data = new Map<string, Uint8Array>();
  for (const name of a.dir.names) {
    if (name === 'manifest.json') continue;
    const expected = Object.hasOwn(manifest.entries, name) ? manifest.entries[name] : undefined;
    if (!expected) damaged(`unexpected entry "${name}" (not in the manifest)`);
    const content = readEntry(a.bytes, a.dir, name, expected!.bytes, damaged);
    if (sha256(content) !== expected!.sha256) damaged(`entry "${name}" is corrupt (sha256 does not match the manifest)`);
    data.set(name, content);
  }
  for (const name of Object.keys(manifest.entries)) if (!data.has(name)) damaged(`entry "${name}" is missing`);
  for (const name of required) if (!data.has(name)) damaged(`entry "${name}" is missing`);
  for (const name of data.keys()) if (!required.has(name)) damaged(`unexpected entry "${name}"`);
  return data;
}

/** Step 5, once every byte is verified: the content. Config, weights against the config, optimizer, metrics, models, snapshots. */
function readContent(manifest: BundleManifest, data: Map<string, Uint8Array>): ParsedBundle {
  let config: RunConfig;
  try {
    config = parseRunConfig(manifest.run.config);
  } catch (err) {
    return damaged(`the run config does not validate: ${(err as Error).message}`);
  }
  const need = (path: string): Uint8Array => data.get(path) ?? damaged(`entry "${path}" is missing`);
  const weights = readWeights(manifest, config, need);
  const optimizer = readOptimizer(manifest, weights, need, data);

  const metrics = parseMetrics(need(manifest.metrics.path), damaged);
  if (metrics.length !== manifest.metrics.points)
    damaged(`metrics.json has ${metrics.length} points, the manifest says ${manifest.metrics.points}`);

  const expectModel = config.model.kind !== 'gmm';
  if (expectModel !== (manifest.model !== null))
    damaged(expectModel ? 'the tfjs model (model/) is missing' : 'a gmm bundle must not hold a tfjs model');
  if (manifest.model) for (const part of ['encoder', 'decoder'] as const) checkLayersModel(need, `model/${part}`, damaged);
  const log = manifest.log ? parseLog(need(manifest.log.path), manifest.log.lines) : [];

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
    log,
  };
}

function parseLog(bytes: Uint8Array, lines: number): BundleLogLine[] {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return damaged(`log.json is not valid JSON (${(err as Error).message})`);
  }
  const parsed = bundleLogSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return damaged(`log.json: ${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  if (parsed.data.length !== lines) damaged(`log.json has ${parsed.data.length} lines, the manifest says ${lines}`);
  return parsed.data;
}

/** weights.safetensors: the tensors the config implies, finite and bounded, as the manifest lists them. */
function readWeights(manifest: BundleManifest, config: RunConfig, need: (path: string) => Uint8Array): NamedTensor[] {
  const weights = readTensors(need('weights.safetensors'), 'weights.safetensors', damaged).tensors;
  checkWeightShapes(config, manifest.run.dataset.shape, weights, 'damaged bundle: weights.safetensors');
  checkWeightValues(weights, 'weights.safetensors');
  const listed = manifest.weights.tensors;
  if (listed.length !== weights.length || listed.some((t, i) => t.name !== weights[i]!.name || t.shape.join() !== weights[i]!.shape.join()))
    damaged('weights.safetensors does not hold the tensors the manifest lists');
  return weights;
}

/** optimizer.safetensors, when the manifest records an optimizer: metadata as recorded, one slot per weight's shape. */
function readOptimizer(
  manifest: BundleManifest,
  weights: NamedTensor[],
  need: (path: string) => Uint8Array,
  data: Map<string, Uint8Array>,
): OptimizerState | null {
  const opt = manifest.checkpoint.optimizer;
  if (!opt) {
    if (data.has('optimizer.safetensors')) damaged('optimizer.safetensors is present but the manifest records no optimizer');
    return null;
  }
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
  return { name: opt.name, iterations: opt.iterations, slots: st.tensors };
}

function readTensors(bytes: Uint8Array, path: string, fail: (why: string) => never) {
  try {
    return readSafetensors(bytes);
  } catch (err) {
    if (err instanceof SafetensorsError) return fail(`${path}: ${err.message}`);
    throw err;
  }
}

function parseMetrics(bytes: Uint8Array, fail: (why: string) => never): MetricPoint[] {
  let raw: unknown;
  try {
    // A point is 6 JSON values; more than RUN_MAX_METRIC_POINTS points is refused on the text, before parsing.
    const bounds = { ...JSON_BOUNDS, maxValues: LIMITS.RUN_MAX_METRIC_POINTS * 6 + 1 };
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    checkJsonText(text, 'metrics.json', bounds);
    raw = JSON.parse(text);
  } catch (err) {
    if (err instanceof UntrustedError && err.limit === 'UNTRUSTED_MAX_JSON_VALUES')
      throw new UntrustedError(
        `metrics.json holds more than ${LIMITS.RUN_MAX_METRIC_POINTS.toLocaleString('en-US')} metric points, more than the limit (RUN_MAX_METRIC_POINTS)`,
        'RUN_MAX_METRIC_POINTS',
      );
    if (err instanceof UntrustedError) throw err;
    return fail(`metrics.json is not valid JSON (${(err as Error).message})`);
  }
  const parsed = z.array(metricPointSchema).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`metrics.json: ${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  checkMetricRows(parsed.data, 'metrics.json');
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
