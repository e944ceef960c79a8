// `vae-workbench sweep ...`: the sweep commands (../sweep.ts), with a service opened only when one needs it.
import { WorkbenchService } from '../../../api/service';
import { out } from '../output';

export async function sweepMain(args: string[]): Promise<number> {
  const { sweepCommand } = await import('../sweep');
  let service: WorkbenchService | null = null;
  try {
    return await sweepCommand(args, async () => (service ??= new WorkbenchService({ host: 'cli' })), out);
  } finally {
    if (service) await (service as WorkbenchService).close();
  }
}
