// App info (backend, host) loaded once and shared by the header and the views.
import { api, connection, errorMessage, RemoteError } from './api';
import type { CallOutput } from '@shared/contract';

class AppState {
  info = $state<CallOutput<'app.info'> | null>(null);
  error = $state<string | null>(null);
  connection = $state<'connecting' | 'open' | 'closed'>(connection.state);
  /** Bumped when the event stream comes back after a drop: views reload what they may have missed. */
  reconnects = $state(0);

  async load(): Promise<void> {
    try {
      this.info = await api['app.info']({});
      this.error = null;
    } catch (err) {
      this.error =
        err instanceof RemoteError && err.code === 'unauthorized'
          ? `${errorMessage(err)} — open the address that \`vae-workbench serve\` printed (it carries this session's token)`
          : errorMessage(err);
    }
  }
}

export const appState = new AppState();
let wasClosed = false;
connection.listeners.add((s) => {
  appState.connection = s;
  if (s === 'closed') wasClosed = true;
  if (s === 'open' && wasClosed) {
    wasClosed = false;
    appState.reconnects++;
    void appState.load();
  }
});
