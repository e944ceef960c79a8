// The bounds on a watched source's folders (each refusal names the limit), in the spirit of the bundle limits of
// src-shared/limits.ts: a source folder is written by another program and may be hostile.
const MiB = 1024 * 1024;

export const SOURCE_LIMITS = {
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
  SOURCE_MAX_LOG_FILE_BYTES: 1024 * MiB,
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
} as const;

export type SourceLimitName = keyof typeof SOURCE_LIMITS;
