// `vae-workbench runs [list] [--metric 'test/loss<130'] | show <id> | edit <id> --name/--tags/--notes | export --format csv|json | delete <id> ...`: the runs in
// the data home.
import path from 'node:path';
import type { WorkbenchService } from '../../../api/service';
import { writeFileAtomic } from '../../../os/atomic-file';
import { canonicalFinal, FIGURES_NOTE, metricLabel } from '@shared/metric-labels';
import { parseFlags, runIdArg, UsageError } from '../args';
import { parseMetricFilter } from '../metric-filter';
import { fmt, table } from '../format';
import { out } from '../output';
import { call, withService } from '../service';

type RunsFlags = {
  json?: boolean;
  status?: string[];
  tag?: string;
  format?: string;
  out?: string;
  series?: boolean;
  points?: string;
  metric?: string[];
  name?: string;
  tags?: string;
  notes?: string;
};

async function list(s: WorkbenchService, values: RunsFlags): Promise<number> {
  const { runs } = await call(s, 'runs.list', {
    ...(values.status ? { status: values.status } : {}),
    ...(values.tag ? { tag: values.tag } : {}),
    ...(values.metric?.length ? { metrics: values.metric.map(parseMetricFilter) } : {}),
    sort: { key: 'id', dir: 'asc' },
  });
  if (values.json) {
    out(JSON.stringify(runs));
  } else if (!runs.length) out('no runs yet — try: vae-workbench train --preset quick-test');
  else
    out(
      table([
        ['id', 'name', 'status', 'dataset', 'epoch', 'test/loss', 'test/nll', 'active', 'backend'],
        ...runs.map((r) => [
          String(r.id),
          r.name.slice(0, 40),
          r.status,
          r.dataset,
          String(r.epoch),
          fmt(r.final['test/loss']),
          fmt(r.final['test/nll']),
          fmt(r.final['test/activeUnits']),
          r.backend ?? '-',
        ]),
      ]),
    );
  return 0;
}

async function show(s: WorkbenchService, values: RunsFlags, positionals: string[]): Promise<number> {
  const id = runIdArg(positionals[0], 'runs show');
  const run = await call(s, 'runs.get', { runId: id });
  const names = await call(s, 'runs.metricNames', { runIds: [id] });
  const maxPoints = values.points ? Number(values.points) : 100000;
  const series: Record<string, { step: number; epoch: number; time: number; value: number }[]> = {};
  for (const name of names) {
    const [srs] = await call(s, 'runs.series', { runIds: [id], metric: name, x: 'step', maxPoints });
    series[name] = (srs?.points ?? []).map((p) => ({ step: p.step, epoch: p.epoch, time: p.time, value: p.y }));
  }
  if (values.json) out(JSON.stringify({ ...run, series }));
  else {
    out(`run ${run.id} "${run.name}" — ${run.status}${run.error ? ` (${run.error})` : ''}`);
    out(`dataset ${run.dataset}, seed ${run.seed}, backend ${run.backend ?? '-'}, epoch ${run.epoch}, step ${run.step}`);
    // each figure with the examples (n) and importance samples (k) it was computed on (src-shared/metric-labels.ts)
    const final = canonicalFinal(run.final);
    out('final metrics:');
    out(table(Object.entries(final).map(([k, v]) => ['  ' + metricLabel(k, final), fmt(v)])) || '  (none)');
    if ('test/nll' in final) out(FIGURES_NOTE);
    out(
      'series: ' +
        Object.entries(series)
          .map(([k, v]) => `${k} (${v.length} points)`)
          .join(', '),
    );
  }
  return 0;
}

async function exportRuns(s: WorkbenchService, values: RunsFlags): Promise<number> {
  const format = values.format;
  if (format !== 'csv' && format !== 'json') throw new UsageError('runs export needs --format csv|json');
  const result = await call(s, 'runs.export', { format, what: values.series ? 'series' : 'runs' });
  if (values.out) {
    writeFileAtomic(values.out, result.text);
    process.stderr.write(`wrote ${path.resolve(values.out)}\n`);
  } else out(result.text);
  return 0;
}

async function edit(s: WorkbenchService, values: RunsFlags, positionals: string[]): Promise<number> {
  const id = runIdArg(positionals[0], 'runs edit');
  if (values.name === undefined && values.tags === undefined && values.notes === undefined)
    throw new UsageError('runs edit needs --name, --tags or --notes');
  const tags = values.tags
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const run = await call(s, 'runs.update', {
    runId: id,
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(tags ? { tags } : {}),
    ...(values.notes !== undefined ? { notes: values.notes } : {}),
  });
  if (values.json) out(JSON.stringify(run));
  else out(`run ${run.id} "${run.name}" — tags: ${run.tags.join(', ') || '(none)'}`);
  return 0;
}

async function remove(s: WorkbenchService, positionals: string[]): Promise<number> {
  const ids = positionals.map(Number);
  if (!ids.length || ids.some((i) => !Number.isInteger(i) || i <= 0)) throw new UsageError('runs delete needs run ids');
  const { deleted } = await call(s, 'runs.delete', { runIds: ids });
  await s.purger.idle(); // the rows go in the background: finish them before the process ends
  out(`deleted ${deleted} run(s)`);
  return 0;
}

export async function runsCommand(args: string[]): Promise<number> {
  const sub = args[0] && !args[0].startsWith('-') ? args[0] : 'list';
  const rest = sub === 'list' && !(args[0] === 'list') ? args : args.slice(1);
  const { values, positionals } = parseFlags('runs', rest) as { values: RunsFlags; positionals: string[] };
  return withService(async (s) => {
    if (sub === 'list') return list(s, values);
    if (sub === 'show') return show(s, values, positionals);
    if (sub === 'edit') return edit(s, values, positionals);
    if (sub === 'export') return exportRuns(s, values);
    if (sub === 'delete') return remove(s, positionals);
    throw new UsageError(`unknown runs subcommand "${sub}"`);
  });
}
