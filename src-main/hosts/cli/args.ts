// Command-line arguments: the usage error (exit code 2) and the flag parser every command uses (its flags: command-table.ts).
import { parseArgs } from 'node:util';
import { findCommand, parseOptions, validFlags } from './command-table';

/** A mistake in how the command was called; main.ts prints it and exits with 2. */
export class UsageError extends Error {}

export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;

/**
 * Parse a command's arguments with the flags the command table (command-table.ts) gives it, strictly: an unknown
 * flag, or a string flag without its value, is a UsageError that names the command's valid flags.
 */
export function parseFlags(command: string, args: string[]): { values: Flags; positionals: string[] } {
  const spec = findCommand(command);
  if (!spec) throw new Error(`the command table has no command "${command}"`);
  try {
    const r = parseArgs({ args, options: parseOptions(spec), allowPositionals: true, strict: true });
    return { values: r.values as Flags, positionals: r.positionals };
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
      const message = (err as Error).message;
      const what =
        code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? `unknown option '${/'([^']+)'/.exec(message)?.[1] ?? '?'}'` : message.split('\n')[0];
      throw new UsageError(`${command}: ${what}; its options are ${validFlags(spec)} (see vae-workbench ${command} --help)`);
    }
    throw err;
  }
}

/** A positive whole run id, or a UsageError "`what` needs a run id". */
export function runIdArg(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!Number.isInteger(id) || id <= 0) throw new UsageError(`${what} needs a run id`);
  return id;
}
