// `vae-workbench import FILE [--again] [--json]`: import a bundle (the service verifies it before anything is written); a
// bundle whose run is already in the store is refused naming that run (exit 1) unless --again.
import path from 'node:path';
import { parseFlags, UsageError } from '../args';
import { readBundleFile } from '../input-files';
import { out } from '../output';
import { call, withService } from '../service';

export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('import', args);
  const file = positionals[0];
  if (!file) throw new UsageError('import needs a bundle file');
  const data = readBundleFile(file);
  const { runId } = await withService((s) =>
    call(s, 'bundles.import', { filename: path.basename(file), dataBase64: data.toString('base64'), again: values.again === true }),
  );
  if (values.json) out(JSON.stringify({ runId }));
  else out(`imported ${file} as run ${runId}`);
  return 0;
}
