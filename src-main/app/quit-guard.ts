// Closing the last window or quitting while runs train asks first: quitting stops those runs (they are
// recorded as cancelled). Once the user said yes, the rest of the quit does not ask again.
import { dialog, type BrowserWindow } from 'electron';

export interface QuitGuard {
  /** True when nothing trains or the user agreed to stop it. */
  confirm(window: BrowserWindow | null): Promise<boolean>;
  readonly confirmed: boolean;
}

export function createQuitGuard(activeRuns: () => number): QuitGuard {
  let confirmed = false;
  let asking: Promise<boolean> | null = null;
  const ask = async (window: BrowserWindow | null, n: number): Promise<boolean> => {
    const options = {
      type: 'question' as const,
      buttons: ['Stop and quit', 'Keep training'],
      defaultId: 1,
      cancelId: 1,
      title: 'Runs are training',
      message: n === 1 ? 'A run is still training or queued.' : `${n} runs are still training or queued.`,
      detail: 'Quitting stops them; they are recorded as cancelled.',
    };
    const { response } = window ? await dialog.showMessageBox(window, options) : await dialog.showMessageBox(options);
    return response === 0;
  };
  return {
    get confirmed() {
      return confirmed;
    },
    async confirm(window) {
      if (confirmed) return true;
      const n = activeRuns();
      if (n === 0) return true;
      asking ??= ask(window, n).finally(() => (asking = null));
      confirmed = await asking;
      return confirmed;
    },
  };
}
