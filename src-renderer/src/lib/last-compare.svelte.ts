// The address of the last Compare view (its whole state, compare-state.ts), so the sidebar's Compare link returns to
// it after a visit to Runs or a run page; kept in sessionStorage, so a reload keeps it too.
const KEY = 'vae-workbench-last-compare';

function read(): string {
  try {
    const v = sessionStorage.getItem(KEY) ?? '';
    return v.startsWith('#/compare?') ? v : '';
  } catch {
    return '';
  }
}

class LastCompare {
  hash = $state(typeof window === 'undefined' ? '' : read());
  set(hash: string): void {
    if (hash === this.hash) return;
    this.hash = hash;
    try {
      sessionStorage.setItem(KEY, hash);
    } catch {
      /* storage unavailable: the link still works for this page's life */
    }
  }
}

export const lastCompare = new LastCompare();
