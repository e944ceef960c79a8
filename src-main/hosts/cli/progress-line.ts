// A one-line progress bar for the terminal (redrawn in place on a TTY, a line every 5 s otherwise).
export class ProgressLine {
  private lastText = '';
  private lastPlain = 0;
  private active = false;
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(done: number, total: number, label: string, etaSeconds: number | null): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const width = 28;
    const filled = Math.round(fraction * width);
    const eta = etaSeconds === null || !Number.isFinite(etaSeconds) ? '' : ` ETA ${formatDuration(etaSeconds)}`;
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${label}${eta}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${text.slice(0, (this.stream.columns || 120) - 1)}\x1b[K`);
      this.active = true;
    } else if (text !== this.lastText && (Date.now() - this.lastPlain > 5000 || (fraction === 1 && !this.lastText.includes('100%')))) {
      this.lastPlain = Date.now();
      this.stream.write(text + '\n');
    }
    this.lastText = text;
  }

  message(text: string): void {
    if (this.active) this.stream.write('\r\x1b[K');
    this.stream.write(text + '\n');
    if (this.active && this.lastText) this.stream.write(this.lastText);
  }

  done(): void {
    if (this.active) this.stream.write('\n');
    this.active = false;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Epochs as a person writes them: whole numbers as is, else one decimal, never rounded up to the next epoch (3.4, not 3.4285714). */
export function formatEpoch(epoch: number): string {
  if (!Number.isFinite(epoch)) return '-';
  if (Number.isInteger(epoch)) return String(epoch);
  return (Math.floor(epoch * 10) / 10).toFixed(1);
}

/**
 * How far along a run is, as a fraction of its whole wall time: elapsed / (elapsed + ETA), the ETA
 * counting evaluation, snapshots and checkpoints too. Before the trainer knows an ETA: the fraction of
 * steps, scaled down, so the bar never runs ahead of the time left.
 */
export function runFraction(elapsedSeconds: number, etaSeconds: number | null, step: number, totalSteps: number): number {
  if (etaSeconds !== null && Number.isFinite(etaSeconds) && elapsedSeconds + etaSeconds > 0)
    return Math.min(1, elapsedSeconds / (elapsedSeconds + etaSeconds));
  return totalSteps > 0 ? Math.min(1, step / totalSteps) * 0.5 : 0;
}
