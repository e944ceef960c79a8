// `vae-workbench train --config run.json [--set key.path=value ...] [--preset ID] [--json]`: one run, followed to its end.
import { PRESETS } from '@shared/presets';
import { parseFlags, UsageError } from '../args';
import { follow } from '../follow';
import { readUserJsonObject } from '../input-files';
import { call, withService } from '../service';
import { applySets } from '../set-flags';

export async function trainCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('train', args);
  let config: Record<string, unknown> = {};
  if (values.preset) {
    const preset = PRESETS.find((p) => p.id === values.preset);
    if (!preset) throw new UsageError(`unknown preset "${values.preset}" (known: ${PRESETS.map((p) => p.id).join(', ')})`);
    config = structuredClone(preset.config) as Record<string, unknown>;
  }
  if (values.config) config = { ...config, ...readUserJsonObject(values.config as string, 'config file') };
  if (!values.config && !values.preset) throw new UsageError('train needs --config run.json (or --preset ID)');
  applySets(config, values.set as string[] | undefined);
  return withService(async (s) => {
    const { runId } = await call(s, 'runs.start', { config });
    if (!values.json) process.stderr.write(`run ${runId} queued; data home ${s.layout.root}\n`);
    return follow(s, runId, !!values.json);
  });
}
