// A sweep's grid: one run config for every combination of up to three hyperparameters. Shared by the local
// sweep (runs.sweep) and the cluster sweeps (src-main/cluster/), so both name and build configurations alike.
import { z } from 'zod';
import { setByPath } from './run-config';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const sweepAxisSchema = z.object({ key: z.string().min(1), values: z.array(z.union([scalar, z.array(z.number())])).min(1).max(50) });
export const sweepAxesSchema = z.array(sweepAxisSchema).min(1).max(3);
export type SweepAxis = z.infer<typeof sweepAxisSchema>;
export const MAX_SWEEP_RUNS = 200;

export class SweepSizeError extends Error {
  constructor(readonly size: number) {
    super(`a sweep of ${size} runs is too large (at most ${MAX_SWEEP_RUNS})`);
    this.name = 'SweepSizeError';
  }
}

/** Every combination of the axes applied to the base config, each named "<base name> key=value ...". */
export function expandSweep(baseInput: unknown, axes: readonly SweepAxis[]): Record<string, unknown>[] {
  let combos: [string, SweepAxis['values'][number]][][] = [[]];
  for (const axis of axes) combos = combos.flatMap((combo) => axis.values.map((v) => [...combo, [axis.key, v] as [string, SweepAxis['values'][number]]]));
  if (combos.length > MAX_SWEEP_RUNS) throw new SweepSizeError(combos.length);
  const base = (baseInput ?? {}) as Record<string, unknown>;
  const baseName = typeof base.name === 'string' && base.name ? base.name : 'sweep';
  return combos.map((combo) => {
    const c = structuredClone(base);
    for (const [key, value] of combo) setByPath(c, key, JSON.stringify(value));
    c.name = `${baseName} ${combo.map(([k, v]) => `${k.split('.').pop()}=${Array.isArray(v) ? JSON.stringify(v) : v}`).join(' ')}`;
    return c;
  });
}
