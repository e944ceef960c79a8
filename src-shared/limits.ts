// Every hard limit the workbench enforces on input, in one place, with the reason for each number.
// Pure constants and one error class (no Node imports), so the renderer and every host can share them.
// A refusal always names the limit: "<what> is <n>, more than the limit of <max> (<LIMIT_NAME>)".
import { ApiError } from './errors';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export const LIMITS = {
  // ---- run configs
  /** Runs one sweep may queue (counted before any combination is built). */
  SWEEP_MAX_RUNS: 200,
  /** Trainable parameters of one model (encoder + decoder). 50 M float32 = 200 MB of weights, 600 MB with Adam's slots. */
  MODEL_MAX_PARAMETERS: 50_000_000,
  /** Length of a run's name (the same on import as on rename). */
  RUN_NAME_MAX_CHARS: 200,
  /** Length of a run's notes. */
  RUN_NOTES_MAX_CHARS: 20_000,
  /** One tag, and how many tags a run may carry. */
  TAG_MAX_CHARS: 64,
  TAGS_MAX_COUNT: 32,

  // ---- bundles (zip files)
  /** Entries in one bundle's zip directory (a real bundle has ~10 + one per snapshot). */
  BUNDLE_MAX_ENTRIES: 2_000,
  /** Sum of the inflated sizes of every entry of one bundle. */
  BUNDLE_MAX_INFLATED_BYTES: 2 * GiB,
  /** One bundle file (the compressed bytes). */
  BUNDLE_MAX_FILE_BYTES: 1 * GiB,
  /** Weights of one bundle, as float32 bytes; also refused above half of the machine's free memory. */
  BUNDLE_MAX_WEIGHT_BYTES: 800 * MiB,
  /** Largest finite weight magnitude accepted from a bundle (float32 max is 3.4e38; trained VAEs stay far below). */
  BUNDLE_MAX_ABS_WEIGHT: 1e6,

  // ---- dataset files (data.dataset = import, or a directory of IDX/CIFAR files)
  /** One dataset file on disk (CIFAR-10 is 163 MiB, MNIST 47 MiB; a CSV is read as one string, which V8 caps near 512 MiB). */
  DATASET_MAX_FILE_BYTES: 512 * MiB,
  /** One gzip-compressed dataset file, once inflated (uint8 pixels become float32: 4x this in memory). */
  DATASET_MAX_INFLATED_BYTES: 512 * MiB,
  /** Values per example (the dimension d = h * w * c): 4096 x 4096 grey, or 1182 x 1182 RGB. */
  DATASET_MAX_DIMENSION: 4096 * 4096,
  /** Values in one CSV row (the row width). */
  CSV_MAX_COLUMNS: 100_000,

  // ---- web host
  /** Body of one API request (a bundle upload is base64 in JSON: 4/3 of the file). */
  WEB_MAX_BODY_BYTES: 600 * MiB,
  /** Body of every other call (configs, queries). */
  WEB_MAX_SMALL_BODY_BYTES: 4 * MiB,
  /** Heavy calls (bundle import/export, export of runs or series, generate) running at once; more wait, then 503. */
  WEB_MAX_HEAVY_CALLS: 1,
  /** Heavy calls waiting for a slot before new ones are refused with 503. */
  WEB_MAX_HEAVY_QUEUE: 4,
  /** A WebSocket client whose unsent data grows past this is closed (it does not read its events). */
  WS_MAX_BUFFERED_BYTES: 8 * MiB,
  /** Longest request URL the web host reads. */
  WEB_MAX_URL_CHARS: 8192,

  // ---- run listing
  /** `params` filters in one runs.list query. */
  LIST_MAX_PARAM_FILTERS: 32,
  /** `metrics` filters in one runs.list query. */
  LIST_MAX_METRIC_FILTERS: 32,
  /** Runs in one runs.list page when the query gives no limit (the contract's largest limit). */
  LIST_MAX_PAGE_RUNS: 10_000,
  /** Serialized size of one runs.list page: runs past it are left to the next page (at least one run is sent). */
  LIST_MAX_RESPONSE_BYTES: 16 * MiB,

  /** Text of one runs or series export (V8 strings stop near 512 MiB; export fewer runs or metrics past it). */
  EXPORT_MAX_BYTES: 256 * MiB,

  // ---- what one run may hold when it comes from outside (bundle import, a Slurm task coming home)
  /** Distinct metric names of one run (a real run logs ~30). */
  RUN_MAX_METRIC_NAMES: 1_000,
  /** Metric points of one run (a 1,000-epoch run of 500 steps logging every 10th step x 10 metrics is 500k). */
  RUN_MAX_METRIC_POINTS: 1_000_000,
  /** Images and other artifacts of one run from outside (a 1,000-epoch run with five snapshot grids an epoch is 5,000;
   *  they are copied one at a time). */
  RUN_MAX_ARTIFACTS: 20_000,
  /** A metric name, an artifact kind, a checkpoint tag, any key of untrusted JSON. */
  NAME_MAX_CHARS: 200,

  // ---- every untrusted source (bundles, Slurm task homes, Python run folders, datasets): src-main/os/untrusted.ts
  /** Nesting depth of JSON from outside (configs and meta are < 10 deep; structured clone and recursion die past ~5,000). */
  UNTRUSTED_MAX_DEPTH: 64,
  /** Values (objects, arrays, scalars) in one JSON document from outside, checked on its text before parsing. */
  UNTRUSTED_MAX_JSON_VALUES: 200_000,
  /** One small file read whole from an untrusted folder (a JSON document, a completion marker). */
  UNTRUSTED_MAX_SMALL_FILE_BYTES: 16 * MiB,
  /** Files copied out of one untrusted folder (a checkpoint directory holds 2). */
  UNTRUSTED_MAX_COPY_FILES: 64,
  /** Bytes copied out of one untrusted folder (a checkpoint is at most MODEL_MAX_PARAMETERS float32s and Adam slots). */
  UNTRUSTED_MAX_COPY_BYTES: 2 * GiB,
  /** A task's SQLite database (read-only; every query also has a LIMIT). */
  TASK_DB_MAX_BYTES: 4 * GiB,
  /** Values in one CSV dataset (rows x columns; Fashion-MNIST as CSV is 55 M), counted on the bytes before parsing. */
  CSV_MAX_VALUES: 64 * 1024 * 1024,
  /** Lines of one CSV dataset (each line becomes a string while parsing), counted on the bytes before parsing. */
  CSV_MAX_ROWS: 2_000_000,

  // ---- watched sources: folders of run folders written by the vaewb Python client (src-main/sources/)
  /** Run folders followed in one source (a project level in between counts its run folders). */
  SOURCE_MAX_RUNS: 2_000,
  /** Entries listed in one source folder or project folder per scan. */
  SOURCE_MAX_ENTRIES: 10_000,
  /** run.json and status.json. */
  SOURCE_MAX_SMALL_FILE_BYTES: 1 * MiB,
  /** One line of metrics.jsonl, images.jsonl, log.jsonl or checkpoints.jsonl. */
  SOURCE_MAX_LINE_BYTES: 1 * MiB,
  /** Bytes of one append-only file read per folder per scan (the rest is read at the next scan). */
  SOURCE_CHUNK_BYTES: 4 * MiB,
  /** One append-only file in total. */
  SOURCE_MAX_LOG_FILE_BYTES: 1 * GiB,
  /** One PNG image. */
  SOURCE_MAX_IMAGE_BYTES: 16 * MiB,
  /** Images imported per run. */
  SOURCE_MAX_IMAGES: 20_000,
  /** Images read per folder per scan. */
  SOURCE_IMAGES_PER_SCAN: 64,
  /** One checkpoint (.safetensors), the bundles' weight limit. */
  SOURCE_MAX_CHECKPOINT_BYTES: 800 * MiB,
  /** Values in one metric list (test/klPerDim). */
  SOURCE_MAX_LIST_VALUES: 4_096,
  /** Length of a metric name or image key. */
  SOURCE_MAX_KEY_CHARS: 200,

  // ---- heavy calls
  /** A heavy call (bundle import/export, exports, generate) that has not answered by then fails and frees its slot. */
  HEAVY_CALL_DEADLINE_MS: 10 * 60_000,
  /** An upload that sends no byte this long is answered 408 and dropped (it is read before a heavy slot is taken). */
  WEB_BODY_IDLE_MS: 30_000,
  /** Bundle uploads held in memory at once (being read, waiting for the heavy slot, or importing): two of the largest. */
  WEB_MAX_UPLOAD_BYTES: 1200 * MiB,

  // ---- workspaces (Compare views saved by name)
  /** A workspace's name. */
  WORKSPACE_NAME_MAX_CHARS: 100,
  /** A workspace's view as a URL query (200 run ids, axes and brushes fit in a few kB). */
  WORKSPACE_STATE_MAX_CHARS: 32_768,
  /** Workspaces kept in one data home. */
  WORKSPACES_MAX_COUNT: 1_000,
} as const;

export type LimitName = keyof typeof LIMITS;

/** An input exceeds one of the LIMITS; maps to the API code `invalid_input`. */
export class LimitError extends ApiError {
  constructor(
    message: string,
    readonly limit: LimitName,
  ) {
    super('invalid_input', message);
    this.name = 'LimitError';
  }
}

function human(n: number, unit: string): string {
  if (unit !== 'bytes') return n.toLocaleString('en-US') + (unit ? ` ${unit}` : '');
  if (n >= GiB) return `${(n / GiB).toFixed(n % GiB ? 2 : 0)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB ? 1 : 0)} MiB`;
  return `${n} bytes`;
}

/** Throw a LimitError when `value` exceeds `LIMITS[limit]` (or `max`, when a smaller bound applies). */
export function checkLimit(what: string, value: number, limit: LimitName, opts: { unit?: string; max?: number } = {}): void {
  const max = opts.max ?? LIMITS[limit];
  if (value > max) throw limitError(what, value, limit, opts);
}

export function limitError(what: string, value: number, limit: LimitName, opts: { unit?: string; max?: number } = {}): LimitError {
  const max = opts.max ?? LIMITS[limit];
  const unit = opts.unit ?? '';
  return new LimitError(`${what} is ${human(value, unit)}, more than the limit of ${human(max, unit)} (${limit})`, limit);
}
