// The Electron host: one IPC channel per contract call ("api:<name>"), answered by the service, and one
// event channel pushed to the window. Every call's sender frame is checked against the app's own origin.
// Replies are envelopes ({ok, result} | {ok:false, error}); the renderer rethrows them with code and issues.
import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { CALL_NAMES, type CallName } from '@shared/contract';
import { errorReply, okReply } from '@shared/reply';
import { toApiError, type WorkbenchService } from '../../api/service';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL, type IpcReply } from './channels';
import { REFUSED, type SenderCheck } from './sender-check';

export function bindIpcHost(service: WorkbenchService, window: BrowserWindow, allowed: SenderCheck): () => void {
  const handle =
    (name: CallName) =>
    async (event: IpcMainInvokeEvent, input: unknown): Promise<IpcReply> => {
      if (!allowed(event)) return REFUSED;
      try {
        return okReply(await service.call(name, input));
      } catch (err) {
        return errorReply(toApiError(err).toJSON());
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
