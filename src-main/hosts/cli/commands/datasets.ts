// `vae-workbench datasets [--json]` and `datasets download <id>` (SHA-256 checked, into the data home).
import { parseFlags, UsageError } from '../args';
import { table } from '../format';
import { out } from '../output';
import { ProgressLine } from '../progress-line';
import { call, withService } from '../service';

async function download(id: string | undefined): Promise<number> {
  if (!id) throw new UsageError('datasets download needs a dataset id (mnist-full, fashion-mnist or cifar10)');
  const { downloadDataset } = await import('../../../data/download');
  const { resolveDataHome } = await import('../../../api/data-home');
  const progress = new ProgressLine(process.stderr);
  const abort = new AbortController();
  process.on('SIGINT', () => abort.abort());
  const result = await downloadDataset(id, {
    dataHome: resolveDataHome(),
    signal: abort.signal,
    onProgress: (fraction, message) => progress.update(Math.round(fraction * 1000), 1000, message, null),
  });
  progress.done();
  out(`${id}: ${result.downloaded.length} file(s) downloaded and verified, ${result.reused.length} already present, in ${result.dir}`);
  return 0;
}

export async function datasetsCommand(args: string[]): Promise<number> {
  if (args[0] === 'download') return download(args[1]);
  const { values } = parseFlags('datasets', args);
  const list = await withService((s) => call(s, 'datasets.list', {}));
  if (values.json) out(JSON.stringify(list));
  else
    out(
      table([
        ['id', 'shape', 'train', 'test', 'available'],
        ...list.map((d) => [
          d.id,
          d.shape.join('x'),
          String(d.splits.train),
          String(d.splits.test),
          d.available ? 'yes' : `no: ${d.unavailableReason ?? ''}`,
        ]),
      ]),
    );
  return 0;
}
