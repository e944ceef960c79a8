// `vae-workbench export <runId> --out FILE [--checkpoint ID]`: the run as a portable bundle (.zip).
import path from 'node:path';
import { writeFileAtomic } from '../../../os/atomic-file';
import { parseFlags, runIdArg, UsageError } from '../args';
import { out } from '../output';
import { call, withService } from '../service';

export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('export', args);
  const id = runIdArg(positionals[0], 'export');
  if (!values.out) throw new UsageError('export needs --out FILE');
  const result = await withService((s) =>
    call(s, 'bundles.export', { runId: id, ...(values.checkpoint ? { checkpointId: Number(values.checkpoint) } : {}) }),
  );
  const file = path.resolve(values.out as string);
  writeFileAtomic(file, Buffer.from(result.dataBase64, 'base64'));
  if (values.json) out(JSON.stringify({ file, bytes: result.bytes }));
  else out(`wrote ${file} (${result.bytes} bytes)`);
  return 0;
}
