// The IPC channel names shared by the main-process host and the preload.
/** One invoke channel per contract call: "api:<call name>". */
export const CALL_CHANNEL_PREFIX = 'api:';
/** Service events pushed to the window. */
export const EVENT_CHANNEL = 'api-event';
/** The desktop save path: the main process asks where (a save dialog) and writes the file. */
export const SAVE_CHANNEL = 'host:save-file';

/** What every invoke answers: errors travel as data, because an Error crossing contextBridge keeps only its message. */
export type { Reply as IpcReply } from '@shared/reply';

export interface SaveFileInput {
  filename: string;
  base64: string;
}
export type SaveFileResult = { saved: true; path: string } | { saved: false };
