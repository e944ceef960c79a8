// Compare's "metrics at one epoch": every run's per-epoch evaluation metrics (test/ and val/) fetched once per metric,
// the epochs any run reached, the value of a metric at an epoch, and the default epoch (the last every run reached,
// so the table compares like with like).
import type { CallInput, CallOutput } from '@shared/contract';

/** metric -> run id -> points (epoch, value). */
export type EpochData = Map<string, Map<number, { epoch: number; y: number }[]>>;
type SeriesCall = (input: CallInput<'runs.series'>) => Promise<CallOutput<'runs.series'>>;

/** The per-epoch evaluation metrics among `names`. */
export function epochMetricNames(names: readonly string[]): string[] {
  return names.filter((m) => /^(test|val)\//.test(m));
}

export async function loadEpochData(series: SeriesCall, runIds: number[], metrics: readonly string[]): Promise<EpochData> {
  const pairs = await Promise.all(
    metrics.map((m) => series({ runIds, metric: m, x: 'epoch', maxPoints: 100000 }).then((s) => [m, s] as const)),
  );
  const out: EpochData = new Map();
  for (const [m, list] of pairs) out.set(m, new Map(list.map((s) => [s.runId, s.points.map((p) => ({ epoch: p.epoch, y: p.y }))])));
  return out;
}

/** Every epoch any run has a point at, ascending. */
export function allEpochs(data: EpochData): number[] {
  const s = new Set<number>();
  for (const byRun of data.values()) for (const pts of byRun.values()) for (const p of pts) s.add(p.epoch);
  return [...s].sort((a, b) => a - b);
}

/** The metric's last value in the epoch that ends at `e` (points in (e - 1, e]). */
export function valueAt(data: EpochData, metric: string, runId: number, e: number): number | undefined {
  let v: number | undefined;
  for (const p of data.get(metric)?.get(runId) ?? []) if (p.epoch <= e && p.epoch > e - 1) v = p.y;
  return v;
}

/** `wanted` when some run has it, else the last epoch every run reached (else the last epoch of any run). */
export function chooseEpoch(data: EpochData, runIds: readonly number[], wanted: number | null): number | null {
  const all = allEpochs(data);
  if (wanted !== null && all.includes(wanted)) return wanted;
  const lasts = runIds.map((id) =>
    Math.max(-Infinity, ...[...data.values()].flatMap((byRun) => (byRun.get(id) ?? []).map((p) => p.epoch))),
  );
  const common = Math.min(...lasts.filter((e) => Number.isFinite(e)));
  return all.includes(common) ? common : (all[all.length - 1] ?? null);
}
