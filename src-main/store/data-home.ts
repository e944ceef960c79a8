// The data home: one directory for the database, run artifacts and the dataset cache.
// The same default for Electron, the CLI and the web host, so all three see the same runs.
import os from 'node:os';
import path from 'node:path';

export const APP_DIR_NAME = 'vae-workbench';

/** The platform's app-data directory (what Electron calls appData), or VAE_WORKBENCH_HOME when set. */
export function resolveDataHome(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const override = env.VAE_WORKBENCH_HOME?.trim();
  if (override) return path.resolve(override);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', APP_DIR_NAME);
  return path.join(env.XDG_CONFIG_HOME || path.join(home, '.config'), APP_DIR_NAME);
}

export interface DataHomeLayout {
  root: string;
  database: string;
  runsDir: string;
  cacheDir: string;
  datasetsDir: string;
}

export function dataHomeLayout(root: string): DataHomeLayout {
  return {
    root,
    database: path.join(root, 'workbench.sqlite'),
    runsDir: path.join(root, 'runs'),
    cacheDir: path.join(root, 'cache'),
    datasetsDir: path.join(root, 'datasets'),
  };
}
