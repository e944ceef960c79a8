// The preload (sandboxed, context-isolated): exposes exactly the contract's calls, one function per call,
// plus an event subscription. The renderer never sees ipcRenderer itself.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { CALL_NAMES, type WorkbenchEvent } from '@shared/contract';
import { CALL_CHANNEL_PREFIX, EVENT_CHANNEL } from './channels';


const api: Record<string, unknown> = {};
for (const name of CALL_NAMES) {
  api[name] = async (input: unknown) => {
    const reply = (await ipcRenderer.invoke(CALL_CHANNEL_PREFIX + name, input)) as
      | { ok: true; result: unknown }
      | { ok: false; error: { code: string; message: string; issues?: unknown } };
    if (reply.ok) return reply.result;
    const error = new Error(reply.error.message) as Error & { code?: string; issues?: unknown };
    error.code = reply.error.code;
    error.issues = reply.error.issues;
    throw error;
  };
}
api.onEvent = (listener: (event: WorkbenchEvent) => void) => {
  const wrapped = (_e: IpcRendererEvent, event: WorkbenchEvent) => listener(event);
  ipcRenderer.on(EVENT_CHANNEL, wrapped);
  return () => ipcRenderer.removeListener(EVENT_CHANNEL, wrapped);
};

contextBridge.exposeInMainWorld('vaeApi', api);
