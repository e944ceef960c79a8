// The Electron host: one IPC channel per contract call ("api:<name>"), answered by the service, and one
// event channel pushed to the window. Every call's sender frame is checked against the app's own page.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { CALL_NAMES, type CallName } from '@shared/contract';
import { toApiError, type WorkbenchService } from '../../api/service';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './channels';


export function bindIpcHost(service: WorkbenchService, window: BrowserWindow, isOwnUrl: (url: string) => boolean): () => void {
  const handle = (name: CallName) => async (event: IpcMainInvokeEvent, input: unknown) => {
    const frame = event.senderFrame;
    if (!frame || event.sender !== window.webContents || !isOwnUrl(frame.url)) {
      return { ok: false, error: { code: 'unauthorized', message: 'IPC from a foreign frame refused' } };
    }
    try {
      return { ok: true, result: await service.call(name, input) };
    } catch (err) {
      return { ok: false, error: toApiError(err).toJSON() };
    }
  };
  for (const name of CALL_NAMES) ipcMain.handle(CALL_CHANNEL_PREFIX + name, handle(name));
  const unsubscribe = service.onEvent((event) => {
    if (!window.isDestroyed()) window.webContents.send(EVENT_CHANNEL, event);
  });
  return () => {
    unsubscribe();
    for (const name of CALL_NAMES) ipcMain.removeHandler(CALL_CHANNEL_PREFIX + name);
  };
}
