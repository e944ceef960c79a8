// `vae-workbench train --config run.json [--set key.path=value ...] [--preset ID] [--json]`: one run, followed to its end.
import { readFileSync } from 'node:fs';
import { PRESETS } from '@shared/presets';
import { parseFlags, UsageError } from '../args';
import { follow } from '../follow';
import { call, withService } from '../service';
import { applySets } from '../set-flags';

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

export async function trainCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('train', args);
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
