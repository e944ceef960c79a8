// `vae-workbench train --config run.json [--set key.path=value ...] [--preset ID] [--json]`: one run, followed to its end.
import { PRESETS, presetConfig } from '@shared/presets';
import { parseFlags, UsageError } from '../args';
import { follow } from '../follow';
import { readUserJsonObject } from '../input-files';
import { call, withService } from '../service';
import { applySets } from '../set-flags';

export async function trainCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('train', args);
  const preset = values.preset ? PRESETS.find((p) => p.id === values.preset) : undefined;
  if (values.preset && !preset) throw new UsageError(`unknown preset "${values.preset}" (known: ${PRESETS.map((p) => p.id).join(', ')})`);
  const fromFile = values.config ? readUserJsonObject(values.config as string, 'config file') : null;
  if (!fromFile && !preset) throw new UsageError('train needs --config run.json (or --preset ID)');
  return withService(async (s) => {
    let config: Record<string, unknown> = {};
    if (preset) {
      // a preset that prefers a larger dataset takes it when the data home has it (presetConfig)
      const available = preset.prefers ? (await call(s, 'datasets.list', {})).filter((d) => d.available).map((d) => d.id) : [];
      const chosen = presetConfig(preset, available);
      config = chosen.config as Record<string, unknown>;
      if (chosen.usesPreferred) process.stderr.write(`preset ${preset.id}: ${preset.prefers!.note}\n`);
    }
    if (fromFile) config = { ...config, ...fromFile };
    applySets(config, values.set as string[] | undefined);
    const { runId } = await call(s, 'runs.start', { config });
    if (!values.json) process.stderr.write(`run ${runId} queued; data home ${s.layout.root}\n`);
    return follow(s, runId, !!values.json);
  });
}
