// Command-line arguments: the usage error (exit code 2) and the flag parser every command uses.
import { parseArgs } from 'node:util';

/** A mistake in how the command was called; main.ts prints it and exits with 2. */
export class UsageError extends Error {}

export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>;
export type FlagOptions = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** Parse a command's arguments (strict; `--json` is always known). */
export function parseFlags(args: string[], options: FlagOptions): { values: Flags; positionals: string[] } {
  const r = parseArgs({ args, options: { json: { type: 'boolean' }, ...options }, allowPositionals: true, strict: true });
  return { values: r.values as Flags, positionals: r.positionals };
}

/** A positive whole run id, or a UsageError "`what` needs a run id". */
export function runIdArg(value: string | undefined, what: string): number {
  const id = Number(value);
  if (!Number.isInteger(id) || id <= 0) throw new UsageError(`${what} needs a run id`);
  return id;
}
