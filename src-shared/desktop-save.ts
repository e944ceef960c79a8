// The desktop save path, typed once for both ends: the preload exposes `window.vaeHost` (src-main/hosts/electron/
// preload.ts, handled by save-host.ts) and the renderer calls it (src-renderer/src/lib/download.ts): the main
// process asks where (a save dialog) and writes the file. Pure TypeScript: no Node imports.
import type { Reply } from './reply';

/** The IPC channel of the save path. */
export const SAVE_CHANNEL = 'host:save-file';

/** A file to save: its suggested name and its bytes as base64. */
export interface SaveFileInput {
  filename: string;
  base64: string;
}

/** Where it went, or that the user cancelled the dialog. */
export type SaveFileResult = { saved: true; path: string } | { saved: false };

/** What the preload exposes as `window.vaeHost`. */
export interface DesktopHost {
  saveFile(input: SaveFileInput): Promise<Reply<SaveFileResult>>;
}
