// The handlers of the cluster sweep calls (`sweeps.*`): submit to Slurm, follow, cancel, read a sweep's series, render
// the same sweep for Kubernetes. The sweeps themselves live in src-main/cluster/; the service owns their instance.
import type { CallParsedInput } from '@shared/contract';
import type { SweepAxis } from '@shared/sweep-expand';
import type { ClusterSweeps } from '../cluster/sweep-service';
import type { TopicHandlers } from './handler-types';

export interface SweepContext {
  /** The service's cluster sweeps (created on first use). */
  cluster(): ClusterSweeps;
  /** Expand the grid and validate every combination, before anything is submitted (WorkbenchService.validateSweep). */
  validateSweep(config: unknown, axes: readonly SweepAxis[]): Record<string, unknown>[];
  /** Wake the follower of unfinished sweeps (hosts with a window). */
  followSweeps(): void;
}

export function sweepHandlers(ctx: SweepContext): TopicHandlers<'sweeps'> {
  return {
    'sweeps.submit': (input) => submitClusterSweep(ctx, input),
    'sweeps.list': () => ctx.cluster().list(),
    'sweeps.status': (input) => ctx.cluster().status(input.sweepId),
    'sweeps.sync': (input) => ctx.cluster().sync(input.sweepId),
    'sweeps.cancel': (input) => ctx.cluster().cancel(input.sweepId, input.tasks),
    'sweeps.series': (input) => ctx.cluster().series(input.sweepId, input.metric, input.maxPoints),
    'sweeps.k8s': (input) => k8sSweep(ctx, input),
  };
}

/** The sweep's name: the one asked for, else the base config's, else "sweep". */
function sweepName(input: { name?: string; config?: unknown }): string {
  const base = (input.config ?? {}) as Record<string, unknown>;
  return input.name || (typeof base.name === 'string' && base.name) || 'sweep';
}

async function submitClusterSweep(ctx: SweepContext, input: CallParsedInput<'sweeps.submit'>) {
  const configs = ctx.validateSweep(input.config, input.axes);
  const detail = await ctx.cluster().submit({
    name: sweepName(input),
    spec: { config: input.config, axes: input.axes },
    configs,
    slurm: input.slurm,
    dir: input.dir,
  });
  ctx.followSweeps();
  return detail;
}

async function k8sSweep(ctx: SweepContext, input: CallParsedInput<'sweeps.k8s'>) {
  const configs = ctx.validateSweep(input.config, input.axes);
  const { renderK8sSweep, toYaml } = await import('../cluster/k8s');
  const manifests = renderK8sSweep(sweepName(input), configs, input.k8s);
  return { yaml: toYaml(manifests), manifests };
}
