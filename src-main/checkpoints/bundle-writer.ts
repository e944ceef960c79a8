// Writing a bundle: a run's config, weights, optimizer state, metrics, tfjs models and snapshots into the entries
// of one zip, with the manifest that lists them (bundle-manifest.ts) and a README for a person who unzips it.
import { writeSafetensors } from './safetensors';
import { parseRunConfig, type RunConfig } from '@shared/run-config';
import { WEIGHT_NAMING_NOTES } from './architecture';
import { buildLayersModels } from './layers-model';
import { BundleError } from './bundle-error';
import { packBundle, sha256, utf8, type BundleEntry } from './bundle-container';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, checkWeightShapes, type BundleInput, type BundleManifest } from './bundle-manifest';

const MODEL_NOTES =
  'tfjs LayersModels (tf.loadLayersModel). encoder: flat rows of d values -> [mu | logvar] (2 x latentDim) for vae/iwae, ' +
  'the code (latentDim) for ae/dae. decoder: latent vectors -> the mean of p(x|z) as flat rows of d values ' +
  '(sigmoid of logits for bernoulli; sigmoid(out) for gaussian on images, out on series). A learned decoder variance ' +
  '(decoder/logsigma) is only in weights.safetensors.';

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
    manifest.log ? "log.json                the run's log [{time, level, message}], oldest first" : '',
    manifest.snapshots.length ? 'snapshots/              sample images the run produced (metadata in manifest.json)' : '',
    '',
    'Import it in VAE Workbench (Runs > Import bundle, or `vae-workbench import <file>`); the file is verified first.',
    '',
  ]
    .filter((l, i, a) => l !== '' || a[i - 1] !== '')
    .join('\n');
}

type Models = ReturnType<typeof buildLayersModels>;
type SnapshotRecord = BundleManifest['snapshots'][number];

/** The entries besides manifest.json and README.txt, in the order they are written, with what the manifest needs of them. */
function contentEntries(input: BundleInput, config: RunConfig): { files: BundleEntry[]; models: Models; snapshots: SnapshotRecord[] } {
  const files: BundleEntry[] = [];
  const add = (path: string, data: Uint8Array, compress: boolean) => files.push({ path, data, compress });

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
  let models: Models;
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
  if (input.log) add('log.json', utf8(JSON.stringify(input.log.map((l) => ({ time: l.time, level: l.level, message: l.message })))), true);
  const snapshots = input.snapshots.map((s, i) => {
    const path = `snapshots/${String(i + 1).padStart(4, '0')}-${s.kind}-e${String(s.epoch).replace(/[^0-9]/g, '_')}.${extensionFor(s.mime)}`;
    add(path, s.data, s.mime !== 'image/png');
    return { path, kind: s.kind, epoch: s.epoch, step: s.step, mime: s.mime, width: s.width, height: s.height, meta: s.meta };
  });
  return { files, models, snapshots };
}

/** The manifest of the bundle, its `entries` still empty (buildBundle fills them once every entry exists). */
function buildManifest(
  input: BundleInput,
  config: RunConfig,
  createdAt: number,
  models: Models,
  snapshots: SnapshotRecord[],
): BundleManifest {
  const run = input.run;
  return {
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
      ...(run.uid ? { uid: run.uid } : {}),
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
    ...(input.log ? { log: { path: 'log.json' as const, lines: input.log.length } } : {}),
  };
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
  const { files, models, snapshots } = contentEntries(input, config);
  const manifest = buildManifest(input, config, createdAt, models, snapshots);
  files.push({ path: 'README.txt', data: utf8(readme(manifest)), compress: true });
  for (const { path, data } of files) manifest.entries[path] = { sha256: sha256(data), bytes: data.byteLength };

  return packBundle([{ path: 'manifest.json', data: utf8(JSON.stringify(manifest, null, 1)), compress: true }, ...files], createdAt);
}

/** JSON has no NaN or Infinity: metrics that are not finite are left out of the manifest. */
function finiteOnly(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => Number.isFinite(v)));
}
