// A sweep's grid: one run config for every combination of up to three hyperparameters. Shared by the local
// sweep (runs.sweep) and the cluster sweeps (src-main/cluster/), so both name and build configurations alike.
import { z } from 'zod';
import { checkLimit } from './limits';
import { checkKeyPath, setByPath } from './run-config';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const sweepAxisSchema = z.object({
  key: z.string().min(1),
  values: z
    .array(z.union([scalar, z.array(z.number())]))
    .min(1)
    .max(50),
});
export const sweepAxesSchema = z.array(sweepAxisSchema).min(1).max(3);
export type SweepAxis = z.infer<typeof sweepAxisSchema>;

/** Every combination of the axes applied to the base config, each named "<base name> key=value ...". */
export function expandSweep(baseInput: unknown, axes: readonly SweepAxis[]): Record<string, unknown>[] {
  // Count before expanding (a 50 x 50 x 50 sweep is refused, not built), and refuse prototype keys up front.
  const count = axes.reduce((n, axis) => n * axis.values.length, 1);
  checkLimit(`a sweep of ${axes.map((a) => a.values.length).join(' x ')} values`, count, 'SWEEP_MAX_RUNS', { unit: 'runs' });
  for (const axis of axes) checkKeyPath(axis.key);
  let combos: [string, SweepAxis['values'][number]][][] = [[]];
  for (const axis of axes)
    combos = combos.flatMap((combo) => axis.values.map((v) => [...combo, [axis.key, v] as [string, SweepAxis['values'][number]]]));
  const base = (baseInput ?? {}) as Record<string, unknown>;
  const baseName = typeof base.name === 'string' && base.name ? base.name : 'sweep';
  return combos.map((combo) => {
    const c = structuredClone(base);
    for (const [key, value] of combo) setByPath(c, key, JSON.stringify(value));
    c.name = `${baseName} ${combo.map(([k, v]) => `${k.split('.').pop()}=${Array.isArray(v) ? JSON.stringify(v) : v}`).join(' ')}`;
    return c;
  });
}
