// `vae-workbench generate <runId> --out FILE.png [--kind K] [--n N] [--seed S] [--indices 1,2] [--checkpoint ID]`.
import path from 'node:path';
import { writeFileAtomic } from '../../../os/atomic-file';
import { parseFlags, runIdArg, UsageError } from '../args';
import { out } from '../output';
import { call, withService } from '../service';

export async function generateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags('generate', args);
  const id = runIdArg(positionals[0], 'generate');
  if (!values.out) throw new UsageError('generate needs --out FILE.png');
  const kind = (values.kind as string | undefined) ?? 'prior';
  const result = await withService((s) =>
    call(s, 'runs.generate', {
      runId: id,
      kind,
      ...(values.n ? { n: Number(values.n) } : {}),
      ...(values.seed ? { seed: Number(values.seed) } : {}),
      ...(values.indices ? { indices: String(values.indices).split(',').map(Number) } : {}),
      ...(values.checkpoint ? { checkpointId: Number(values.checkpoint) } : {}),
    }),
  );
  const file = path.resolve(values.out as string);
  writeFileAtomic(file, Buffer.from(result.dataBase64, 'base64'));
  if (values.json) out(JSON.stringify({ file, width: result.width, height: result.height, meta: result.meta }));
  else out(`wrote ${file} (${result.width}x${result.height})`);
  return 0;
}
