// The desktop save path: the renderer hands over a file name and the bytes, the main process asks where
// to save (the system save dialog) and writes the file. Bundles, CSV and chart PNGs all take this path.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { app, dialog, ipcMain, type BrowserWindow } from 'electron';
import { errorReply, okReply } from '@shared/reply';
import { SAVE_CHANNEL, type IpcReply, type SaveFileResult } from './channels';
import { REFUSED, type SenderCheck } from './sender-check';

const MAX_SAVE_BYTES = 2 * 1024 ** 3;

function parseSaveInput(input: unknown): { filename: string; bytes: Buffer } | string {
  const o = input as { filename?: unknown; base64?: unknown } | null;
  if (!o || typeof o.filename !== 'string' || !o.filename.trim()) return 'filename: a non-empty string is required';
  if (typeof o.base64 !== 'string') return 'base64: a base64 string is required';
  if (o.base64.length > (MAX_SAVE_BYTES * 4) / 3 + 4) return `base64: larger than ${MAX_SAVE_BYTES} bytes`;
  return { filename: path.basename(o.filename), bytes: Buffer.from(o.base64, 'base64') };
}

export function bindSaveHost(window: BrowserWindow, allowed: SenderCheck): () => void {
  ipcMain.handle(SAVE_CHANNEL, async (event, input: unknown): Promise<IpcReply<SaveFileResult>> => {
    if (!allowed(event)) return REFUSED;
    const parsed = parseSaveInput(input);
    if (typeof parsed === 'string') return errorReply({ code: 'invalid_input', message: parsed });
    try {
      const choice = await dialog.showSaveDialog(window, {
        title: 'Save',
        defaultPath: path.join(app.getPath('downloads'), parsed.filename),
      });
      if (choice.canceled || !choice.filePath) return okReply({ saved: false });
      await writeFile(choice.filePath, parsed.bytes);
      return okReply({ saved: true, path: choice.filePath });
    } catch (err) {
      return errorReply({ code: 'internal', message: `could not save ${parsed.filename}: ${(err as Error).message}` });
    }
  });
  return () => ipcMain.removeHandler(SAVE_CHANNEL);
}
