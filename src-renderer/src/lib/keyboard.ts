// Keyboard shortcuts that work anywhere in the app (when no text field has the focus): the arrow keys step the
// epoch slider of the view (Samples, Compare), `/` focuses the runs filter, `?` toggles the help overlay.
export const SHORTCUTS: { keys: string; what: string }[] = [
  { keys: '← / →', what: 'previous / next epoch on the epoch slider (Samples, Compare)' },
  { keys: 'Home / End', what: 'first / last epoch on the epoch slider' },
  { keys: '/', what: 'focus the runs filter' },
  { keys: '?', what: 'show or hide this help' },
  { keys: 'Esc', what: 'close this help' },
];

/** Whether a key event comes from a place that types text (then shortcuts stay out of its way). */
export function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  if (el.tagName !== 'INPUT') return false;
  const type = (el as HTMLInputElement).type;
  return !['checkbox', 'radio', 'range', 'button', 'submit'].includes(type);
}

/** The epoch slider on screen (the first one marked data-epoch-slider), or null. */
export function epochSlider(doc: Document = document): HTMLInputElement | null {
  return doc.querySelector<HTMLInputElement>('input[type=range][data-epoch-slider]');
}

/** Move a range input by `delta` steps (or to an end), firing input/change as a user's drag would. */
export function stepSlider(slider: HTMLInputElement, delta: number | 'first' | 'last'): boolean {
  const min = Number(slider.min || 0);
  const max = Number(slider.max || 100);
  const step = Number(slider.step || 1) || 1;
  const cur = Number(slider.value);
  const next = delta === 'first' ? min : delta === 'last' ? max : Math.min(max, Math.max(min, cur + delta * step));
  if (next === cur) return false;
  slider.value = String(next);
  slider.dispatchEvent(new Event('input', { bubbles: true }));
  slider.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
}
