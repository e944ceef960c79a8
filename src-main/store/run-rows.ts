// Rows of the runs table turned into RunSummary: the row type and hydrate(), which adds tags and final metrics
// (two queries for the whole page, not two per run). Shared by runs-repo.ts and runs-query.ts.
import type { RunStatus, RunSummary } from '@shared/model-types';
import { flattenConfig } from '@shared/run-config';
import type { StoreDb } from './db';
import { parseJsonObject } from './types';

export interface RunRow {
  id: number;
  name: string;
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  config_text: string;
  config_json: string;
  dataset: string;
  backend: string | null;
  app_version: string;
  seed: number;
  error: string | null;
  notes: string;
  parent_id: number | null;
  imported: number;
  last_step: number;
  last_epoch: number;
}

export function hydrate(sql: StoreDb, rows: RunRow[]): RunSummary[] {
  if (!rows.length) return [];
  const ids = JSON.stringify(rows.map((r) => r.id));
  const tags = new Map<number, string[]>();
  for (const [runId, tag] of sql
    .stmt('SELECT run_id, tag FROM run_tags WHERE run_id IN (SELECT value FROM json_each(?)) ORDER BY run_id, rowid')
    .raw(true)
    .iterate(ids) as IterableIterator<[number, string]>) {
    let list = tags.get(runId);
    if (!list) tags.set(runId, (list = []));
    list.push(tag);
  }
  const finals = new Map<number, Record<string, number>>();
  for (const [runId, name, value] of sql
    .stmt('SELECT run_id, name, value FROM run_final WHERE run_id IN (SELECT value FROM json_each(?))')
    .raw(true)
    .iterate(ids) as IterableIterator<[number, string, number]>) {
    let rec = finals.get(runId);
    if (!rec) finals.set(runId, (rec = {}));
    rec[name] = value;
  }
  return rows.map((r) => {
    const config = parseJsonObject<unknown>(r.config_json, null);
    return {
      id: r.id,
      name: r.name,
      status: r.status as RunStatus,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      dataset: r.dataset,
      backend: r.backend,
      appVersion: r.app_version,
      seed: r.seed,
      error: r.error,
      tags: tags.get(r.id) ?? [],
      notes: r.notes,
      parentId: r.parent_id,
      configText: r.config_text,
      config,
      params: flattenConfig(config),
      final: finals.get(r.id) ?? {},
      step: r.last_step,
      epoch: r.last_epoch,
    };
  });
}
