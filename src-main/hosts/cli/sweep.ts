// `vae-workbench sweep ...`: a grid on a Slurm cluster (or written out for Kubernetes), followed from here.
//   sweep --config sweep.json --on slurm [--partition P] [--time T] [--cpus N] [--mem M] [--gpus G] [--max-parallel K] [--dir SHARED_DIR] [--wait] [--json]
//   sweep --config sweep.json --on k8s --dry-run [--image I] [--namespace NS] [--cpus N] [--mem 2Gi] [--gpus G] [--storage 20Gi] [--json]
//   sweep list | status ID | sync ID [--wait] | cancel ID [--task I ...]
import path from 'node:path';
import type { SweepDetail } from '@shared/cluster-types';
import type { WorkbenchService } from '../../api/service';
import { parseFlags } from './args';
import { readUserJsonObject } from './input-files';

export class SweepUsageError extends Error {
  override name = 'SweepUsageError';
}

type Out = (text: string) => void;

function readSpec(file: string): { config?: unknown; axes?: unknown; name?: string } {
  return readUserJsonObject(file, 'sweep file', 'an object { "config": {...}, "axes": [...] }');
}

function int(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new SweepUsageError(`${flag} expects a whole number, got "${String(v)}"`);
  return n;
}

function sweepId(v: string | undefined, sub: string): number {
  const id = Number(v);
  if (!Number.isInteger(id) || id <= 0) throw new SweepUsageError(`sweep ${sub} needs a sweep id`);
  return id;
}

export function formatSweep(d: SweepDetail): string {
  const head = `sweep ${d.id} "${d.name}" — Slurm job ${d.jobId ?? '-'}, ${d.imported}/${d.total} imported${d.done ? ', done' : ''}\n  folder ${d.dir}`;
  const rows = d.tasks.map((t) => {
    const live = t.state === 'running' && t.step ? ` step ${t.step} epoch ${t.epoch}` : '';
    const run = t.runId ? ` → run ${t.runId}` : '';
    const why = t.reason ? ` (${t.reason})` : '';
    const code = t.exitCode !== null && t.state !== 'completed' ? ` exit ${t.exitCode}` : '';
    return `  task ${t.index}  ${t.state.padEnd(9)}${code}${why}${live}${run}  ${t.name}`;
  });
  const tails = d.tasks
    .filter((t) => ['failed', 'timeout', 'cancelled'].includes(t.state) && t.logTail)
    .map((t) => `--- task ${t.index} (${t.state}) log tail:\n${t.logTail.split('\n').slice(-8).join('\n')}`);
  return [head, ...rows, ...(d.warning ? [`  warning: ${d.warning}`] : []), ...tails].join('\n');
}

async function follow(service: WorkbenchService, id: number, json: boolean): Promise<SweepDetail> {
  let last = '';
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  try {
    const interval = Number(process.env.VAE_WORKBENCH_SWEEP_POLL_MS) || 2000;
    return await service.cluster.wait(id, {
      intervalMs: interval,
      signal: abort.signal,
      onUpdate: (d) => {
        const line = d.tasks.map((t) => `${t.index}:${t.state}${t.runId ? `→${t.runId}` : ''}`).join(' ');
        if (line !== last && !json) process.stderr.write(`sweep ${id}: ${line}\n`);
        last = line;
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
  }
}

function exitCode(d: SweepDetail): number {
  return d.done && d.tasks.every((t) => t.state === 'completed') ? 0 : d.done ? 1 : 3;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** What each task asks for, the same flags on Slurm and Kubernetes: --cpus, --mem, --gpus, --max-parallel. */
function taskResources(values: Values): { cpus?: number; mem?: string; gpus?: number; maxParallel?: number } {
  return {
    ...(values.cpus ? { cpus: int(values.cpus, '--cpus') } : {}),
    ...(values.mem ? { mem: String(values.mem) } : {}),
    ...(values.gpus ? { gpus: int(values.gpus, '--gpus') } : {}),
    ...(values['max-parallel'] ? { maxParallel: int(values['max-parallel'], '--max-parallel') } : {}),
  };
}

async function submitCommand(
  values: Values,
  s: WorkbenchService,
  json: boolean,
  out: Out,
  show: (d: SweepDetail) => void,
): Promise<number> {
  if (!values.config)
    throw new SweepUsageError('sweep needs --config sweep.json ({ "config": {...}, "axes": [{ "key": ..., "values": [...] }] })');
  const spec = readSpec(String(values.config));
  if (values.on === 'k8s') {
    if (!values['dry-run'])
      throw new SweepUsageError('--on k8s only writes the manifests: add --dry-run (the workbench does not apply them to a cluster)');
    const k8s = {
      ...(values.image ? { image: String(values.image) } : {}),
      ...(values.namespace ? { namespace: String(values.namespace) } : {}),
      ...(values.storage ? { storage: String(values.storage) } : {}),
      ...taskResources(values),
    };
    const r = await s.call('sweeps.k8s', { config: spec.config, axes: spec.axes, ...(spec.name ? { name: spec.name } : {}), k8s });
    out(json ? JSON.stringify(r.manifests, null, 2) : r.yaml);
    return 0;
  }
  if (values.on !== 'slurm') throw new SweepUsageError('sweep needs --on slurm (or --on k8s --dry-run); local sweeps run from the app');
  const slurm = {
    ...(values.partition ? { partition: String(values.partition) } : {}),
    ...(values.time ? { time: String(values.time) } : {}),
    ...taskResources(values),
  };
  const d = await s.call('sweeps.submit', {
    config: spec.config,
    axes: spec.axes,
    ...(spec.name ? { name: spec.name } : {}),
    on: 'slurm',
    slurm,
    ...(values.dir ? { dir: path.resolve(String(values.dir)) } : {}), // relative to where the command runs
  });
  if (!json) process.stderr.write(`sweep ${d.id}: ${d.total} tasks submitted as Slurm job ${d.jobId}; folder ${d.dir}\n`);
  if (!values.wait) {
    show(d);
    return 0;
  }
  const final = await follow(s, d.id, json);
  show(final);
  return exitCode(final);
}

export async function sweepCommand(args: string[], service: () => Promise<WorkbenchService>, out: Out): Promise<number> {
  const sub = args[0] && !args[0].startsWith('-') ? args[0] : 'submit';
  const rest = sub === 'submit' && args[0] !== 'submit' ? args : args.slice(1);
  const { values, positionals } = parseFlags('sweep', rest) as { values: Values & { task?: string[] }; positionals: string[] };
  const json = !!values.json;
  const s = await service();
  const show = (d: SweepDetail) => out(json ? JSON.stringify(d) : formatSweep(d));
  switch (sub) {
    case 'submit':
      return submitCommand(values, s, json, out, show);
    case 'list': {
      const list = await s.call('sweeps.list', {});
      if (json) out(JSON.stringify(list));
      else if (!list.length) out('no cluster sweeps yet — try: vae-workbench sweep --config sweep.json --on slurm');
      else
        for (const w of list)
          out(
            `${w.id}  "${w.name}"  job ${w.jobId ?? '-'}  ${Object.entries(w.counts)
              .filter(([, n]) => n)
              .map(([k, n]) => `${n} ${k}`)
              .join(', ')}  ${w.imported}/${w.total} imported${w.done ? ', done' : ''}`,
          );
      return 0;
    }
    case 'status': {
      show(await s.call('sweeps.status', { sweepId: sweepId(positionals[0], 'status') }));
      return 0;
    }
    case 'sync': {
      const id = sweepId(positionals[0], 'sync');
      const d = values.wait ? await follow(s, id, json) : await s.call('sweeps.sync', { sweepId: id });
      show(d);
      return values.wait ? exitCode(d) : 0;
    }
    case 'cancel': {
      const id = sweepId(positionals[0], 'cancel');
      const tasks = (values.task ?? []).map((t) => int(t, '--task')!);
      const r = await s.call('sweeps.cancel', { sweepId: id, ...(tasks.length ? { tasks } : {}) });
      out(
        json
          ? JSON.stringify(r)
          : r.cancelled
            ? `cancel sent for sweep ${id}${tasks.length ? ` tasks ${tasks.join(', ')}` : ''}`
            : `sweep ${id} has no job to cancel`,
      );
      return 0;
    }
    default:
      throw new SweepUsageError(`unknown sweep subcommand "${sub}" (submit, list, status, sync, cancel)`);
  }
}
