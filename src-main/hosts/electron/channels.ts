// The IPC channel names shared by the main-process host and the preload.
/** One invoke channel per contract call: "api:<call name>". */
export const CALL_CHANNEL_PREFIX = 'api:';
/** Service events pushed to the window. */
export const EVENT_CHANNEL = 'api-event';
/** The desktop save path (its channel and types live in @shared/desktop-save, where the renderer reads them). */
export { SAVE_CHANNEL, type SaveFileInput, type SaveFileResult } from '@shared/desktop-save';

/** What every invoke answers: errors travel as data, because an Error crossing contextBridge keeps only its message. */
export type { Reply as IpcReply } from '@shared/reply';
