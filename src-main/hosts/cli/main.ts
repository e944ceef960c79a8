// The command line host: `vae-workbench <command>`. It binds the same service as the app and the web host,
// on the same data home, so runs trained here show up in the app and vice versa.
// This file is the help text, the dispatch to one module per command (commands/), and the exit codes.
import { ConfigError } from '@shared/run-config';
import { APP_VERSION, toApiError } from '../../api/service';
import { UsageError } from './args';
import { out } from './output';
import { benchCommand } from './commands/bench';
import { datasetsCommand } from './commands/datasets';
import { exportCommand } from './commands/export';
import { generateCommand } from './commands/generate';
import { importCommand } from './commands/import';
import { infoCommand } from './commands/info';
import { presetsCommand } from './commands/presets';
import { resumeCommand } from './commands/resume';
import { runsCommand } from './commands/runs';
import { serveCommand } from './commands/serve';
import { sweepMain } from './commands/sweep';
import { trainCommand } from './commands/train';

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
  bench [--json] [--steps N] [--quick] [--time-to-result [--preset ID] | --data-parallel]
                                        time to result of the reference experiment, training speed on every
                                        available backend, data-parallel steps on 1 and 2 cores, and the store
                                        benchmark (--time-to-result / --data-parallel: only that part;
                                        --preset: the time to result and ETA error of that preset instead)
  sweep --config sweep.json --on slurm [--partition P] [--time T] [--cpus N] [--mem M] [--gpus G] [--dir SHARED_DIR] [--wait]
                                        submit a grid ({config, axes}) as one Slurm job array; results come home by sync
  sweep --config sweep.json --on k8s --dry-run [--image I] [--namespace NS]   the same sweep as a Kubernetes Indexed Job (YAML)
  sweep list | status ID | sync ID [--wait] | cancel ID [--task I]   follow, import, cancel a cluster sweep

Environment:
  VAE_WORKBENCH_HOME   the data home (database, run files, dataset cache); default: the platform's app-data directory
  VAE_WORKBENCH_BACKEND  force a tfjs backend (tensorflow, wasm or cpu)
`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  info: infoCommand,
  serve: serveCommand,
  train: trainCommand,
  resume: resumeCommand,
  runs: runsCommand,
  sweep: sweepMain,
  export: exportCommand,
  import: importCommand,
  generate: generateCommand,
  datasets: datasetsCommand,
  presets: presetsCommand,
  bench: benchCommand,
};

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
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) throw new UsageError(`unknown command "${command}"; see vae-workbench --help`);
  return run(rest);
}

/** Exit once everything written to stdout and stderr has left the process (a pipe may not be read yet). */
function exitDrained(code: number): void {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}

main(process.argv.slice(2)).then(
  (code) => exitDrained(code),
  (err: unknown) => {
    if (
      err instanceof UsageError ||
      (err as Error).name === 'SweepUsageError' ||
      (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    ) {
      process.stderr.write(`vae-workbench: ${(err as Error).message}\n`);
      return exitDrained(2);
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`vae-workbench: ${err.message}\n`);
      return exitDrained(2);
    }
    const e = toApiError(err);
    process.stderr.write(`vae-workbench: ${e.message}\n`);
    exitDrained(e.code === 'invalid_config' || e.code === 'invalid_input' ? 2 : 1);
  },
);
