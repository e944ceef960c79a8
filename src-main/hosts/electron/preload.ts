// The preload (sandboxed, context-isolated): exposes exactly the contract's calls, one function per call,
// plus an event subscription and the desktop save path. The renderer never sees ipcRenderer itself.
// Calls resolve to reply envelopes ({ok, result} | {ok:false, error}), never reject with the api error:
// an Error crossing contextBridge keeps only its message, so `code` and field `issues` travel as data and
// the renderer (src-renderer/src/lib/api.ts) rethrows them.
import { contextBridge, ipcRenderer } from 'electron';
import { CALL_NAMES, type WorkbenchEvent } from '@shared/contract';
import type { DesktopHost, SaveFileResult } from '@shared/desktop-save';
import { errorReply, type Reply } from '@shared/reply';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL, SAVE_CHANNEL, type IpcReply } from './channels';

async function invoke(channel: string, input: unknown): Promise<IpcReply> {
  try {
    return (await ipcRenderer.invoke(channel, input)) as IpcReply;
  } catch (err) {
    return errorReply({ code: 'internal', message: String((err as Error)?.message ?? err) });
  }
}

const api: Record<string, unknown> = {};
for (const name of CALL_NAMES) api[name] = (input: unknown) => invoke(CALL_CHANNEL_PREFIX + name, input);

// One ipcRenderer listener for the whole page, fanning events out to the subscribers.
const subscribers = new Set<(event: WorkbenchEvent) => void>();
ipcRenderer.on(EVENT_CHANNEL, (_e, event: WorkbenchEvent) => {
  for (const listener of subscribers) {
    try {
      listener(event);
    } catch (err) {
      console.error('event listener failed', err);
    }
  }
});
api.onEvent = (listener: (event: WorkbenchEvent) => void) => {
  const own = (event: WorkbenchEvent) => listener(event);
  subscribers.add(own);
  return () => void subscribers.delete(own);
};

contextBridge.exposeInMainWorld('vaeApi', api);
const host: DesktopHost = { saveFile: async (input) => (await invoke(SAVE_CHANNEL, input)) as Reply<SaveFileResult> };
contextBridge.exposeInMainWorld('vaeHost', host);
