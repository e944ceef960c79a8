// `vae-workbench resume <runId> [--epochs N] [--set key.path=value ...] [--json]`: continue a run (with --set: a fork).
import { parseFlags, runIdArg } from '../args';
import { follow } from '../follow';
import { call, withService } from '../service';
import { setOverrides } from '../set-flags';

export async function resumeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('resume', args);
  const id = runIdArg(positionals[0], 'resume');
  const overrides = setOverrides(values.set as string[] | undefined);
  return withService(async (s) => {
    const { runId } = await call(s, 'runs.resume', {
      runId: id,
      ...(Object.keys(overrides).length ? { overrides } : {}),
      ...(values.epochs ? { epochs: Number(values.epochs) } : {}),
    });
    return follow(s, runId, !!values.json);
  });
}
