// `vae-workbench info [--json]`: version, data home, tfjs backend, host.
import { parseFlags } from '../args';
import { table } from '../format';
import { out } from '../output';
import { call, withService } from '../service';

export async function infoCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('info', args);
  const info = await withService((s) => call(s, 'app.info', {}));
  if (values.json) out(JSON.stringify(info));
  else
    out(
      table([
        ['version', info.version],
        ['data home', info.dataHome],
        ['backend', info.backend],
        ['tfjs-node', info.tfjsNode.available ? 'available' : `not available: ${info.tfjsNode.reason}`],
        ['concurrency', String(info.concurrency)],
        ['node', info.node],
      ]),
    );
  return 0;
}
