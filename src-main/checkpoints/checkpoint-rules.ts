// Which of a run's checkpoints serves, and which are kept: the one owner of both rules (README, "Checkpoints").
// pickCheckpoint: resume continues from the newest state ('last', else the highest step); export and generate
// take the best model ('best', else 'last', else the highest step). Retention: the trainer keeps the newest
// checkpoints.keepLast interval checkpoints (checkpoints/epoch-N) on disk and removes the older directories
// (pruneIntervalCheckpoints); the service drops the rows a new checkpoint supersedes, the same directory written
// again or a directory pruned (supersededCheckpoints).
import { existsSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { CheckpointMeta } from '@shared/model-types';

/** What the checkpoint is for: continuing training, or using the trained model (export, generate). */
export type CheckpointUse = 'resume' | 'export' | 'generate';

const PREFERRED_TAGS: Record<CheckpointUse, readonly string[]> = {
  resume: ['last'],
  export: ['best', 'last'],
  generate: ['best', 'last'],
};

/** The checkpoint `use` takes from a run's checkpoints (any order): `id` if given (or undefined when the run has
 *  no such checkpoint), else the first preferred tag present, else the one at the highest step (newest if tied). */
export function pickCheckpoint<C extends Pick<CheckpointMeta, 'id' | 'tag' | 'step'>>(
  use: CheckpointUse,
  checkpoints: readonly C[],
  id?: number,
): C | undefined {
  if (id !== undefined) return checkpoints.find((c) => c.id === id);
  for (const tag of PREFERRED_TAGS[use]) {
    const tagged = checkpoints.filter((c) => c.tag === tag);
    if (tagged.length) return newest(tagged);
  }
  return newest(checkpoints);
}

function newest<C extends Pick<CheckpointMeta, 'id' | 'step'>>(checkpoints: readonly C[]): C | undefined {
  return checkpoints.reduce<C | undefined>((a, c) => (!a || c.step > a.step || (c.step === a.step && c.id > a.id) ? c : a), undefined);
}

/** Interval checkpoints on disk under `root` (a run's checkpoints/ folder), oldest first. */
export function intervalCheckpoints(root: string): { dir: string; epoch: number }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => /^epoch-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ dir: path.join(root, m[0]), epoch: Number(m[1]) }))
    .sort((a, b) => a.epoch - b.epoch);
}

/** Removes all but the newest `keepLast` interval checkpoints under `root`; returns the directories removed. */
export function pruneIntervalCheckpoints(root: string, keepLast: number): string[] {
  const all = intervalCheckpoints(root);
  const old = all.slice(0, Math.max(0, all.length - keepLast)).map((c) => c.dir);
  for (const dir of old) rmSync(dir, { recursive: true, force: true });
  return old;
}

/** The rows a checkpoint newly written at `dir` supersedes: the same directory (a 'best' or 'last' written
 *  again) or one no longer on disk (an interval checkpoint the trainer pruned). */
export function supersededCheckpoints<C extends Pick<CheckpointMeta, 'path'>>(
  rows: readonly C[],
  dir: string,
  exists: (p: string) => boolean = existsSync,
): C[] {
  return rows.filter((c) => c.path === dir || !exists(c.path));
}
