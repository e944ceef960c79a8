// `vae-workbench serve [--port N] [--json]`: the web host on 127.0.0.1 (../serve.ts), until a signal.
import { parseFlags } from '../args';

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseFlags('serve', args);
  const { serve } = await import('../serve');
  await serve({ port: values.port ? Number(values.port) : 0, json: !!values.json, reason: process.env.VAE_WORKBENCH_START_REASON });
  return new Promise<number>(() => {}); // runs until a signal
}
