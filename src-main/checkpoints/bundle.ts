// A model bundle: one run as ONE portable zip file, verified completely before anything is trusted.
//
// Entries (paths inside the zip):
//   manifest.json                 what this is: format, versions, the run (config, dataset, seed, ...), final metrics,
//                                 the checkpoint, weight names and shapes, snapshots' metadata, and the sha256 and size
//                                 of every other entry
//   README.txt                    the same in words, for a person who unzips the file
//   metrics.json                  every metric point of the run: [{name, step, epoch, time, value}, ...]
//   weights.safetensors           all model weights under the model's documented names (vae/model.ts, vae/weight-layout.ts)
//   optimizer.safetensors         optimizer slot variables ("<weight name>/<slot>"); name and iterations in its
//                                 __metadata__ (absent when the checkpoint has no optimizer state, e.g. gmm)
//   model/encoder/model.json, model/encoder/weights.bin   tfjs LayersModel (see layers-model.ts; not for gmm)
//   model/decoder/model.json, model/decoder/weights.bin
//   snapshots/NNNN-<kind>-e<epoch>.<png|json|bin>          the run's sample artifacts
// The zip's archive comment is "vae-workbench-bundle sha256:<hex>", the sha256 of every byte before the
// end-of-central-directory record; with exact checks of that record's fields, a change of any byte of the file
// is refused before any entry is trusted (BundleError naming the check; BUNDLE-FORMAT.md lists every refusal).
//
// The format lives in four files, re-exported here so importers need one path:
//   bundle-manifest.ts   the manifest's zod schema and the types of what a bundle holds
//   bundle-container.ts  the zip container: writing with the archive checksum, reading with exact checks and limits
//   bundle-writer.ts     buildBundle: a run into entries and a manifest
//   bundle-reader.ts     parseBundle: verify everything, in named steps, then read the content
export { BundleError } from './bundle-error';
export {
  BUNDLE_FORMAT,
  BUNDLE_FORMAT_VERSION,
  type BundleCheckpoint,
  type BundleDataset,
  type BundleInput,
  type BundleLogLine,
  type BundleManifest,
  type BundleRun,
  type BundleSnapshot,
  type ParsedBundle,
} from './bundle-manifest';
export { packBundle, type BundleEntry } from './bundle-container';
export { buildBundle } from './bundle-writer';
export { parseBundle } from './bundle-reader';
