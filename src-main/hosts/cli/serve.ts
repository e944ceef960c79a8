// `vae-workbench serve`: the web host on 127.0.0.1, serving the built renderer.
import { spawnSync } from 'node:child_process';
import { WorkbenchService } from '../../api/service';
import { projectRoot, rendererBuildDir, rendererIsBuilt } from '../web/renderer-dir';
import { startWebHost } from '../web/server';

export async function serve(opts: { port: number; json: boolean; reason?: string }): Promise<void> {
  if (!rendererIsBuilt()) {
    process.stderr.write('The UI is not built yet; building it once (electron-vite build)…\n');
    const r = spawnSync(process.execPath, ['node_modules/electron-vite/bin/electron-vite.js', 'build'], {
      cwd: projectRoot(),
      stdio: 'inherit',
    });
    if (r.status !== 0 || !rendererIsBuilt()) throw new Error('the UI could not be built: run `npm run build` and look at its errors');
  }
  const service = new WorkbenchService({ host: 'web' });
  const host = await startWebHost({ service, rendererDir: rendererBuildDir(), port: opts.port });
  if (opts.json)
    process.stdout.write(JSON.stringify({ url: host.url, port: host.port, token: host.token, dataHome: service.layout.root }) + '\n');
  else {
    if (opts.reason) process.stdout.write(`${opts.reason}\n`);
    process.stdout.write(
      `VAE Workbench is served at ${host.url}\nOpen that address in a browser (it carries this session's token). Data home: ${service.layout.root}. Ctrl-C stops it.\n`,
    );
  }
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    setTimeout(() => process.exit(0), 5000).unref(); // the first signal stops the host, whatever is still running
    void host
      .close()
      .then(() => service.close())
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
