// The command line host: `vae-workbench <command>`. It binds the same service as the app and the web host,
// on the same data home, so runs trained here show up in the app and vice versa.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CallName, CallOutput } from '@shared/contract';
import type { RunSummary } from '@shared/model-types';
import { PRESETS } from '@shared/presets';
import { LIMITS } from '@shared/limits';
import { checkKeyPath, ConfigError, setByPath } from '@shared/run-config';
import { writeFileAtomic } from '../../os/atomic-file';
import { APP_VERSION, WorkbenchService, toApiError } from '../../api/service';
import { ProgressLine, formatEpoch, runFraction } from './progress-line';

const HELP = `VAE Workbench ${APP_VERSION} — train, compare and export variational autoencoders

Usage: vae-workbench <command> [options]

Commands:
  info [--json]                         version, data home, tfjs backend, host
  serve [--port N] [--json]             serve the workbench UI to a browser on 127.0.0.1 (prints the URL with its token)
  train --config run.json [--set key.path=value ...] [--preset ID] [--json]
                                        train one run with a progress bar; exit code 0 only when it completes
  resume <runId> [--epochs N] [--set key.path=value ...] [--json]
                                        continue a run from its last checkpoint (with --set: a fork)
  runs [--json] [--status S] [--tag T]  list runs with their final metrics
  runs show <id> [--json]               one run with its metric series
  runs export --format csv|json [--series] [--out FILE]
  runs delete <id> [<id> ...]
  export <runId> --out FILE [--checkpoint ID]   write the run as a portable bundle (.zip)
  import FILE [--json]                  import a bundle (verified before anything is written)
  generate <runId> --out FILE.png [--kind prior|reconstruct|traversal|interpolate] [--n N] [--seed S] [--indices 1,2]
                                        images from a run's checkpoint, without training
  datasets [--json]                     the datasets the registry knows
  datasets download <id>                fetch mnist-full, fashion-mnist or cifar10 into the data home (SHA-256 checked)
  presets [--json]                      the built-in configurations (use with train --preset)
  bench [--json] [--steps N] [--quick] [--time-to-result]
                                        time to result of the reference experiment, training speed on every
                                        available backend, and the store benchmark (--time-to-result: only the first)
  sweep --config sweep.json --on slurm [--partition P] [--time T] [--cpus N] [--mem M] [--gpus G] [--dir SHARED_DIR] [--wait]
                                        submit a grid ({config, axes}) as one Slurm job array; results come home by sync
  sweep --config sweep.json --on k8s --dry-run [--image I] [--namespace NS]   the same sweep as a Kubernetes Indexed Job (YAML)
  sweep list | status ID | sync ID [--wait] | cancel ID [--task I]   follow, import, cancel a cluster sweep

Environment:
  VAE_WORKBENCH_HOME   the data home (database, run files, dataset cache); default: the platform's app-data directory
  VAE_WORKBENCH_BACKEND  force a tfjs backend (tensorflow, wasm or cpu)
`;

class UsageError extends Error {}
type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : text + '\n');
}

function fmt(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : v.toPrecision(5);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function withService<T>(fn: (service: WorkbenchService) => Promise<T>, host: 'cli' | 'web' = 'cli'): Promise<T> {
  const service = new WorkbenchService({ host });
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
}

function call<N extends CallName>(service: WorkbenchService, name: N, input: unknown): Promise<CallOutput<N>> {
  return service.call(name, input);
}

function finalSummary(run: RunSummary, samplesPerSec: number) {
  const f = run.final;
  return {
    runId: run.id,
    name: run.name,
    status: run.status,
    error: run.error,
    backend: run.backend,
    samplesPerSec,
    final: {
      test: {
        loss: f['test/loss'] ?? null,
        recon: f['test/recon'] ?? null,
        kl: f['test/kl'] ?? null,
        nll: f['test/nll'] ?? null,
        activeUnits: f['test/activeUnits'] ?? null,
        fid: f['test/fid'] ?? null,
      },
      train: { loss: f['train/loss'] ?? null },
      val: { loss: f['val/loss'] ?? null },
    },
    metrics: f,
  };
}

/** Follow a run to its end with a progress line; Ctrl-C cancels it. */
async function follow(service: WorkbenchService, runId: number, json: boolean): Promise<number> {
  const progress = new ProgressLine(process.stderr);
  let samplesPerSec = 0;
  const t0 = Date.now();
  const off = service.onEvent((e) => {
    if (e.event === 'run.progress' && e.payload.runId === runId) {
      const p = e.payload;
      samplesPerSec = p.samplesPerSec || samplesPerSec;
      // The bar is the fraction of the run's wall time (training, evaluation, snapshots, checkpoints).
      const fraction = runFraction((Date.now() - t0) / 1000, p.etaSeconds, p.step, p.totalSteps);
      progress.update(
        Math.round(fraction * 1000),
        1000,
        `epoch ${formatEpoch(p.epoch)}/${p.totalEpochs} ${p.phase} ${Math.round(p.samplesPerSec)} samples/s`,
        p.etaSeconds,
      );
    } else if (e.event === 'run.log' && e.payload.runId === runId && e.payload.level !== 'info') {
      progress.message(`${e.payload.level}: ${e.payload.message}`);
    } else if (e.event === 'run.metrics' && e.payload.runId === runId) {
      const test = e.payload.points.filter((p) => p.name.startsWith('test/') || p.name === 'val/loss');
      if (test.length && !json) progress.message(`epoch ${test[0]!.epoch}: ${test.map((p) => `${p.name} ${fmt(p.value)}`).join('  ')}`);
      const sps = e.payload.points.find((p) => p.name === 'perf/samplesPerSec');
      if (sps) samplesPerSec = sps.value;
    }
  });
  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    progress.message(interrupted > 1 ? 'cancelling…' : 'cancelling the run (Ctrl-C again to force)…');
    service.scheduler.cancel(runId);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const run = await service.waitForRun(runId);
  off();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  progress.done();
  const summary = finalSummary(run, run.final['perf/samplesPerSec'] || samplesPerSec || 0);
  if (json) out(JSON.stringify(summary));
  else {
    out(`run ${run.id} "${run.name}": ${run.status}${run.error ? ` — ${run.error}` : ''}`);
    const t = summary.final.test;
    out(
      `test loss ${fmt(t.loss ?? undefined)} nats (recon ${fmt(t.recon ?? undefined)}, KL ${fmt(t.kl ?? undefined)}), ` +
        `-log p(x) ≈ ${fmt(t.nll ?? undefined)} nats, active units ${fmt(t.activeUnits ?? undefined)}, FID ${fmt(t.fid ?? undefined)}; ` +
        `${Math.round(summary.samplesPerSec)} samples/s on ${run.backend ?? '?'}`,
    );
  }
  return run.status === 'completed' ? 0 : run.status === 'cancelled' ? 130 : 1;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('the top level must be a JSON object');
    return value as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

function applySets(config: Record<string, unknown>, sets: string[] | undefined): void {
  for (const s of sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects key.path=value, got "${s}"`);
    setByPath(config, s.slice(0, eq), s.slice(eq + 1));
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out(HELP);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    out(APP_VERSION);
    return 0;
  }
  const parse = (options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>) => {
    const r = parseArgs({ args: rest, options: { json: { type: 'boolean' }, ...options }, allowPositionals: true, strict: true });
    return { values: r.values as Flags, positionals: r.positionals };
  };

  switch (command) {
    case 'info': {
      const { values } = parse({});
      const info = await withService((s) => call(s, 'app.info', {}));
      if (values.json) out(JSON.stringify(info));
      else
        out(
          table([
            ['version', info.version],
            ['data home', info.dataHome],
            ['backend', info.backend],
            ['tfjs-node', info.tfjsNode.available ? 'available' : `not available: ${info.tfjsNode.reason}`],
            ['concurrency', String(info.concurrency)],
            ['node', info.node],
          ]),
        );
      return 0;
    }
    case 'serve': {
      const { values } = parse({ port: { type: 'string' } });
      const { serve } = await import('./serve');
      await serve({ port: values.port ? Number(values.port) : 0, json: !!values.json, reason: process.env.VAE_WORKBENCH_START_REASON });
      return new Promise<number>(() => {}); // runs until a signal
    }
    case 'train': {
      const { values } = parse({
        config: { type: 'string', short: 'c' },
        set: { type: 'string', multiple: true },
        preset: { type: 'string' },
      });
      let config: Record<string, unknown> = {};
      if (values.preset) {
        const preset = PRESETS.find((p) => p.id === values.preset);
        if (!preset) throw new UsageError(`unknown preset "${values.preset}" (known: ${PRESETS.map((p) => p.id).join(', ')})`);
        config = structuredClone(preset.config) as Record<string, unknown>;
      }
      if (values.config) config = { ...config, ...readConfigFile(values.config as string) };
      if (!values.config && !values.preset) throw new UsageError('train needs --config run.json (or --preset ID)');
      applySets(config, values.set as string[] | undefined);
      return withService(async (s) => {
        const { runId } = await call(s, 'runs.start', { config });
        if (!values.json) process.stderr.write(`run ${runId} queued; data home ${s.layout.root}\n`);
        return follow(s, runId, !!values.json);
      });
    }
    case 'resume': {
      const { values, positionals } = parse({ epochs: { type: 'string' }, set: { type: 'string', multiple: true } });
      const id = Number(positionals[0]);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError('resume needs a run id');
      const overrides: Record<string, string | number | boolean | null> = {};
      for (const s of (values.set as string[] | undefined) ?? []) {
        const eq = s.indexOf('=');
        if (eq <= 0) throw new UsageError(`--set expects key.path=value, got "${s}"`);
        checkKeyPath(s.slice(0, eq));
        const raw = s.slice(eq + 1);
        let v: string | number | boolean | null = raw;
        try {
          v = JSON.parse(raw) as string | number | boolean | null;
        } catch {
          v = raw;
        }
        overrides[s.slice(0, eq)] = v;
      }
      return withService(async (s) => {
        const { runId } = await call(s, 'runs.resume', {
          runId: id,
          ...(Object.keys(overrides).length ? { overrides } : {}),
          ...(values.epochs ? { epochs: Number(values.epochs) } : {}),
        });
        return follow(s, runId, !!values.json);
      });
    }
    case 'runs':
      return runsCommand(rest);
    case 'sweep': {
      const { sweepCommand } = await import('./sweep');
      let service: WorkbenchService | null = null;
      try {
        return await sweepCommand(rest, async () => (service ??= new WorkbenchService({ host: 'cli' })), out);
      } finally {
        if (service) await (service as WorkbenchService).close();
      }
    }
    case 'export': {
      const { values, positionals } = parse({ out: { type: 'string', short: 'o' }, checkpoint: { type: 'string' } });
      const id = Number(positionals[0]);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError('export needs a run id');
      if (!values.out) throw new UsageError('export needs --out FILE');
      const result = await withService((s) =>
        call(s, 'bundles.export', { runId: id, ...(values.checkpoint ? { checkpointId: Number(values.checkpoint) } : {}) }),
      );
      const file = path.resolve(values.out as string);
      writeFileAtomic(file, Buffer.from(result.dataBase64, 'base64'));
      if (values.json) out(JSON.stringify({ file, bytes: result.bytes }));
      else out(`wrote ${file} (${result.bytes} bytes)`);
      return 0;
    }
    case 'import': {
      const { values, positionals } = parse({});
      const file = positionals[0];
      if (!file) throw new UsageError('import needs a bundle file');
      let data: Buffer;
      try {
        const st = statSync(file);
        if (!st.isFile()) throw new UsageError(`${file} is not a regular file`);
        if (st.size === 0) throw new UsageError(`${file} is empty (0 bytes): not a bundle`);
        if (st.size > LIMITS.BUNDLE_MAX_FILE_BYTES)
          throw new UsageError(
            `${file} is ${st.size} bytes, more than the limit of ${LIMITS.BUNDLE_MAX_FILE_BYTES} bytes for a bundle (BUNDLE_MAX_FILE_BYTES)`,
          );
        data = readFileSync(file);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      const { runId } = await withService((s) =>
        call(s, 'bundles.import', { filename: path.basename(file), dataBase64: data.toString('base64') }),
      );
      if (values.json) out(JSON.stringify({ runId }));
      else out(`imported ${file} as run ${runId}`);
      return 0;
    }
    case 'generate': {
      const { values, positionals } = parse({
        kind: { type: 'string' },
        n: { type: 'string' },
        seed: { type: 'string' },
        indices: { type: 'string' },
        out: { type: 'string', short: 'o' },
        checkpoint: { type: 'string' },
      });
      const id = Number(positionals[0]);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError('generate needs a run id');
      if (!values.out) throw new UsageError('generate needs --out FILE.png');
      const kind = (values.kind as string | undefined) ?? 'prior';
      const result = await withService((s) =>
        call(s, 'runs.generate', {
          runId: id,
          kind,
          ...(values.n ? { n: Number(values.n) } : {}),
          ...(values.seed ? { seed: Number(values.seed) } : {}),
          ...(values.indices ? { indices: String(values.indices).split(',').map(Number) } : {}),
          ...(values.checkpoint ? { checkpointId: Number(values.checkpoint) } : {}),
        }),
      );
      const file = path.resolve(values.out as string);
      writeFileAtomic(file, Buffer.from(result.dataBase64, 'base64'));
      if (values.json) out(JSON.stringify({ file, width: result.width, height: result.height, meta: result.meta }));
      else out(`wrote ${file} (${result.width}x${result.height})`);
      return 0;
    }
    case 'datasets': {
      if (rest[0] === 'download') {
        const id = rest[1];
        if (!id) throw new UsageError('datasets download needs a dataset id (mnist-full, fashion-mnist or cifar10)');
        const { downloadDataset } = await import('../../data/download');
        const { resolveDataHome } = await import('../../api/data-home');
        const progress = new ProgressLine(process.stderr);
        const abort = new AbortController();
        process.on('SIGINT', () => abort.abort());
        const result = await downloadDataset(id, {
          dataHome: resolveDataHome(),
          signal: abort.signal,
          onProgress: (fraction, message) => progress.update(Math.round(fraction * 1000), 1000, message, null),
        });
        progress.done();
        out(
          `${id}: ${result.downloaded.length} file(s) downloaded and verified, ${result.reused.length} already present, in ${result.dir}`,
        );
        return 0;
      }
      const { values } = parse({});
      const list = await withService((s) => call(s, 'datasets.list', {}));
      if (values.json) out(JSON.stringify(list));
      else
        out(
          table([
            ['id', 'shape', 'train', 'test', 'available'],
            ...list.map((d) => [
              d.id,
              d.shape.join('x'),
              String(d.splits.train),
              String(d.splits.test),
              d.available ? 'yes' : `no: ${d.unavailableReason ?? ''}`,
            ]),
          ]),
        );
      return 0;
    }
    case 'presets': {
      const { values } = parse({});
      if (values.json) out(JSON.stringify(PRESETS));
      else out(table([['id', 'title'], ...PRESETS.map((p) => [p.id, p.title])]));
      return 0;
    }
    case 'bench': {
      const { values } = parse({ steps: { type: 'string' }, quick: { type: 'boolean' }, 'time-to-result': { type: 'boolean' } });
      const { runBench } = await import('../../bench/bench');
      const result = await runBench({
        steps: values.steps ? Number(values.steps) : undefined,
        quick: !!values.quick,
        onlyTimeToResult: !!values['time-to-result'],
        log: (m: string) => process.stderr.write(m + '\n'),
      });
      out(values.json ? JSON.stringify(result) : JSON.stringify(result, null, 2));
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"; see vae-workbench --help`);
  }
}

async function runsCommand(args: string[]): Promise<number> {
  const sub = args[0] && !args[0].startsWith('-') ? args[0] : 'list';
  const rest = sub === 'list' && !(args[0] === 'list') ? args : args.slice(1);
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      json: { type: 'boolean' },
      status: { type: 'string', multiple: true },
      tag: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string', short: 'o' },
      series: { type: 'boolean' },
      points: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  return withService(async (s) => {
    if (sub === 'list') {
      const { runs } = await call(s, 'runs.list', {
        ...(values.status ? { status: values.status } : {}),
        ...(values.tag ? { tag: values.tag } : {}),
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
    if (sub === 'show') {
      const id = Number(positionals[0]);
      if (!Number.isInteger(id) || id <= 0) throw new UsageError('runs show needs a run id');
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
        out('final metrics:');
        out(table(Object.entries(run.final).map(([k, v]) => ['  ' + k, fmt(v)])) || '  (none)');
        out(
          'series: ' +
            Object.entries(series)
              .map(([k, v]) => `${k} (${v.length} points)`)
              .join(', '),
        );
      }
      return 0;
    }
    if (sub === 'export') {
      const format = values.format;
      if (format !== 'csv' && format !== 'json') throw new UsageError('runs export needs --format csv|json');
      const result = await call(s, 'runs.export', { format, what: values.series ? 'series' : 'runs' });
      if (values.out) {
        writeFileAtomic(values.out, result.text);
        process.stderr.write(`wrote ${path.resolve(values.out)}\n`);
      } else out(result.text);
      return 0;
    }
    if (sub === 'delete') {
      const ids = positionals.map(Number);
      if (!ids.length || ids.some((i) => !Number.isInteger(i) || i <= 0)) throw new UsageError('runs delete needs run ids');
      const { deleted } = await call(s, 'runs.delete', { runIds: ids });
      out(`deleted ${deleted} run(s)`);
      return 0;
    }
    throw new UsageError(`unknown runs subcommand "${sub}"`);
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      (err as Error).name === 'SweepUsageError' ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      process.stderr.write(`vae-workbench: ${(err as Error).message}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`vae-workbench: ${err.message}\n`);
      process.exit(2);
    }
    const e = toApiError(err);
    process.stderr.write(`vae-workbench: ${e.message}\n`);
    process.exit(e.code === 'invalid_config' || e.code === 'invalid_input' ? 2 : 1);
  },
);
