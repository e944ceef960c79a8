// `vae-workbench presets [--json]`: the built-in configurations (use with train --preset).
import { PRESETS } from '@shared/presets';
import { parseFlags } from '../args';
import { table } from '../format';
import { out } from '../output';

export async function presetsCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('presets', args);
  if (values.json) out(JSON.stringify(PRESETS));
  else out(table([['id', 'title'], ...PRESETS.map((p) => [p.id, p.title])]));
  return 0;
}
