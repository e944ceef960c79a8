// The IPC channel names shared by the main-process host and the preload.
/** One invoke channel per contract call: "api:<call name>". */
export const CALL_CHANNEL_PREFIX = 'api:';
/** Service events pushed to the window. */
export const EVENT_CHANNEL = 'api-event';
