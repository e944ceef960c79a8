// The command line host: `vae-workbench <command>`. It binds the same service as the app and the web host,
// on the same data home, so runs trained here show up in the app and vice versa.
// This file is the dispatch to one module per command (commands/), `--help` for each from the command table
// (command-table.ts), and the exit codes.
import { ConfigError } from '@shared/run-config';
import { APP_VERSION, toApiError } from '../../api/service';
import { parseFlags, UsageError } from './args';
import { COMMAND_TABLE, commandHelp, findCommand, mainHelp, readmeCommandList, type CommandSpec } from './command-table';
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
import { sourcesCommand } from './commands/sources';
import { sweepMain } from './commands/sweep';
import { trainCommand } from './commands/train';

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
  help: helpCommand,
  sources: sourcesCommand,
};

/** `help`, `help <command>`, `help --readme` (the README's command list). */
async function helpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('help', args);
  if (values.readme) out(readmeCommandList());
  else if (positionals[0]) out(commandHelp(mustFind(positionals[0]), APP_VERSION));
  else out(mainHelp(APP_VERSION));
  return 0;
}

function mustFind(name: string): CommandSpec {
  const spec = findCommand(name);
  if (!spec) throw new UsageError(`unknown command "${name}"; the commands: ${COMMAND_TABLE.map((c) => c.name).join(', ')}`);
  return spec;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    out(mainHelp(APP_VERSION));
    return 0;
  }
  if (command === '--version' || command === '-v') {
    out(APP_VERSION);
    return 0;
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run)
    throw new UsageError(
      `unknown command "${command}"; the commands: ${COMMAND_TABLE.map((c) => c.name).join(', ')} (see vae-workbench --help)`,
    );
  // every command answers --help / -h from the command table (before its own parsing, so nothing runs)
  if (rest.includes('--help') || rest.includes('-h')) {
    out(commandHelp(mustFind(command), APP_VERSION));
    return 0;
  }
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
