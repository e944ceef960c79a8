// `vae-workbench import FILE [--again] [--json]`: import a bundle (the service verifies it before anything is written); a
// bundle whose run is already in the store is refused naming that run (exit 1) unless --again.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LIMITS } from '@shared/limits';
import { parseFlags, UsageError } from '../args';
import { out } from '../output';
import { call, withService } from '../service';

/** The file's bytes, refused as a UsageError when it is not a regular file, empty, or over BUNDLE_MAX_FILE_BYTES. */
function readBundleFile(file: string): Buffer {
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new UsageError(`${file} is not a regular file`);
    if (st.size === 0) throw new UsageError(`${file} is empty (0 bytes): not a bundle`);
    if (st.size > LIMITS.BUNDLE_MAX_FILE_BYTES)
      throw new UsageError(
        `${file} is ${st.size} bytes, more than the limit of ${LIMITS.BUNDLE_MAX_FILE_BYTES} bytes for a bundle (BUNDLE_MAX_FILE_BYTES)`,
      );
    return readFileSync(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

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
