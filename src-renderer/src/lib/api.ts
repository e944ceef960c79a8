// Transport: the renderer reaches the service only through the contract's WorkbenchApi.
// In Electron the preload exposes window.vaeApi; in a browser we talk HTTP + WebSocket to the web host.
import { CALL_NAMES } from '@shared/contract';
import type { DesktopHost } from '@shared/desktop-save';
import type { ApiErrorCode, CallName, EventName, EventPayload, FieldIssue, Reply, WorkbenchApi, WorkbenchEvent } from '@shared/contract';

declare global {
  interface Window {
    vaeApi?: ElectronBridge;
    vaeHost?: DesktopHost;
  }
}

/** An api error as the renderer sees it: message plus code and field issues when the host sent them. */
export class RemoteError extends Error {
  constructor(
    message: string,
    readonly code: ApiErrorCode | 'network',
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = 'RemoteError';
  }
}

const TOKEN_KEY = 'vae-workbench-token';

/** The web host's token: taken from ?token= once, kept in sessionStorage, removed from the address bar. */
export function takeToken(): string {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

type Listener = (event: WorkbenchEvent) => void;

/** Connection state of the event socket (browser host only); Electron is always 'open'. */
export const connection = {
  state: 'connecting' as 'connecting' | 'open' | 'closed',
  listeners: new Set<(state: 'connecting' | 'open' | 'closed') => void>(),
  set(state: 'connecting' | 'open' | 'closed') {
    this.state = state;
    for (const l of this.listeners) l(state);
  },
};

function webApi(): WorkbenchApi {
  const token = takeToken();
  const listeners = new Set<Listener>();
  let socket: WebSocket | null = null;
  let retry = 0;

  function connect() {
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    connection.set('connecting');
    const ws = new WebSocket(`${proto}//${window.location.host}/ws?token=${encodeURIComponent(token)}`);
    socket = ws;
    ws.onopen = () => {
      retry = 0;
      connection.set('open');
    };
    ws.onmessage = (msg) => {
      let parsed: WorkbenchEvent;
      try {
        parsed = JSON.parse(String(msg.data)) as WorkbenchEvent;
      } catch {
        return;
      }
      if (!parsed || typeof parsed.event !== 'string') return;
      for (const l of listeners) {
        try {
          l(parsed);
        } catch (err) {
          console.error('event listener failed', err);
        }
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      connection.set('closed');
      const delay = Math.min(15000, 500 * 2 ** retry++);
      setTimeout(connect, delay);
    };
  }

  async function invoke(name: CallName, input: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`/api/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify(input ?? {}),
      });
    } catch (err) {
      throw new RemoteError(`cannot reach the workbench host (${(err as Error).message})`, 'network');
    }
    let body: Reply;
    try {
      body = (await res.json()) as Reply;
    } catch {
      throw new RemoteError(`${name}: the host answered HTTP ${res.status} without JSON`, 'internal');
    }
    if (!body.ok) throw new RemoteError(body.error.message, body.error.code, body.error.issues);
    return body.result;
  }

  const api: Record<string, unknown> = {
    onEvent(listener: Listener) {
      listeners.add(listener);
      if (!socket) connect();
      return () => listeners.delete(listener);
    },
  };
  for (const name of CALL_NAMES) api[name] = (input: unknown) => invoke(name, input);
  return api as unknown as WorkbenchApi;
}

/** What the Electron preload exposes (src-main/hosts/electron/preload.ts): calls answer reply envelopes. */
export type ElectronBridge = { [N in CallName]: (input: unknown) => Promise<Reply> } & { onEvent(listener: Listener): () => void };

function electronApi(bridge: ElectronBridge): WorkbenchApi {
  connection.set('open');
  // Errors cannot cross contextBridge with their fields, so the preload answers envelopes and the error is
  // rebuilt here, with its code and field issues (the Launch form shows those next to the fields).
  const api: Record<string, unknown> = { onEvent: (l: Listener) => bridge.onEvent(l) };
  for (const name of CALL_NAMES) {
    api[name] = async (input: unknown) => {
      const reply = await bridge[name](input);
      if (!reply.ok) throw new RemoteError(reply.error.message, reply.error.code, reply.error.issues);
      return reply.result;
    };
  }
  return api as unknown as WorkbenchApi;
}

export const api: WorkbenchApi = typeof window !== 'undefined' && window.vaeApi ? electronApi(window.vaeApi) : webApi();

/** Subscribe to one event kind; returns the unsubscribe function. */
export function onEvent<E extends EventName>(name: E, handler: (payload: EventPayload<E>) => void): () => void {
  return api.onEvent((ev) => {
    if (ev.event === name) handler(ev.payload as EventPayload<E>);
  });
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
