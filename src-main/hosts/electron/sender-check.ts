// Who may call the IPC host: only the app's own window, from a frame of the app's own origin
// (app://workbench, or the dev server in development). Compared by origin, never by URL string.
import type { BrowserWindow, IpcMainInvokeEvent } from 'electron';
import { sameOrigin } from './origins';
import { errorReply } from '@shared/reply';
import type { IpcReply } from './channels';

export type SenderCheck = (event: IpcMainInvokeEvent) => boolean;

export function senderCheck(window: BrowserWindow, origin: string): SenderCheck {
  return (event) => {
    const frame = event.senderFrame;
    return !!frame && !window.isDestroyed() && event.sender === window.webContents && sameOrigin(frame.url, origin);
  };
}

export const REFUSED: IpcReply<never> = errorReply({ code: 'unauthorized', message: 'IPC from a foreign frame refused' });
