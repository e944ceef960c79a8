// Entry point of a trainer process: one run, then exit. It never opens the database; it reports
// everything to its parent as TrainerEvents and writes only checkpoint directories under its run dir.
import { initBackend } from '../compute/backend';
import type { TrainerCommand, TrainerEvent } from '../common/messages';

const abort = new AbortController();
let started = false;
let idleCores = 0;

function send(event: TrainerEvent): void {
  if (process.connected) process.send?.(event);
}

process.on('disconnect', () => {
  // The parent is gone: nobody would record what we do. Stop at once.
  process.exit(0);
});

process.on('message', (raw: unknown) => {
  const command = raw as TrainerCommand;
  if (command.type === 'cancel') {
    abort.abort();
    return;
  }
  if (command.type === 'idle-cores') {
    idleCores = Math.max(0, command.count);
    return;
  }
  if (command.type === 'start' && !started) {
    started = true;
    idleCores = Math.max(0, command.idleCores ?? 0);
    void run(command);
  }
});

async function run(command: Extract<TrainerCommand, { type: 'start' }>): Promise<void> {
  let exitCode = 0;
  try {
    const backend = await initBackend();
    const { runTraining } = await import('./run-training');
    const result = await runTraining({
      runId: command.runId,
      config: command.config,
      dataHome: command.dataHome,
      runDir: command.runDir,
      backend: backend.active,
      resumeFrom: command.resumeFrom,
      emit: send,
      signal: abort.signal,
      idleCores: () => idleCores,
      startupMs: process.uptime() * 1000,
    });
    // Peak resident memory of this trainer process (maxRSS is in kilobytes), recorded with the run.
    const peakRssMB = process.resourceUsage().maxRSS / 1024;
    send({ type: 'metrics', points: [{ name: 'perf/peakRssMB', step: 0, epoch: 0, time: Date.now(), value: peakRssMB }] });
    send({ type: 'done', ...result });
  } catch (err) {
    exitCode = 1;
    send({ type: 'done', status: 'failed', error: (err as Error).message || String(err), final: {}, samplesPerSec: 0 });
  }
  // Let the IPC channel flush before exiting.
  setTimeout(() => process.exit(exitCode), 50);
}
