// The scheduler: a queue of runs and at most `concurrency` trainer processes at once.
// Each run trains in its own process, so a crash, a NaN or a kill of one run never takes down the
// host or another run. Cancelling asks the trainer to stop and kills it if it has not within 500 ms.
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { TrainerCommand, TrainerEvent } from '../common/messages';
import { spawnTrainer } from './trainer-launcher';

export type StartCommand = Extract<TrainerCommand, { type: 'start' }>;

export interface SchedulerHandlers {
  /** A queued run got a process. */
  onStart(runId: number): void;
  /** Everything the trainer reports, in order. */
  onEvent(runId: number, event: TrainerEvent): void;
  /**
   * The run is over. `reported` is the trainer's own 'done' event when it sent one; otherwise the
   * process died (crash, kill, cancel) and `exit` says how.
   */
  onExit(runId: number, outcome: { reported: Extract<TrainerEvent, { type: 'done' }> | null; cancelled: boolean; exit: string }): void;
}

interface Active {
  child: ChildProcess;
  /** Idle cores this run may use beside its own (its evaluation worker), as last told. */
  idleCores: number;
  cancelled: boolean;
  done: Extract<TrainerEvent, { type: 'done' }> | null;
  killTimer: NodeJS.Timeout | null;
}

export class Scheduler {
  private readonly queue: StartCommand[] = [];
  private readonly active = new Map<number, Active>();
  private closed = false;

  constructor(
    private readonly handlers: SchedulerHandlers,
    readonly concurrency: number = Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
    private readonly spawn: () => ChildProcess = () => spawnTrainer(),
  ) {}

  enqueue(command: StartCommand): void {
    if (this.closed) throw new Error('scheduler is closed');
    this.queue.push(command);
    this.pump();
  }

  get runningIds(): number[] {
    return [...this.active.keys()];
  }

  get queuedIds(): number[] {
    return this.queue.map((c) => c.runId);
  }

  isActive(runId: number): boolean {
    return this.active.has(runId) || this.queue.some((c) => c.runId === runId);
  }

  /** Cancel a queued or running run. Returns false when it is neither. */
  cancel(runId: number): boolean {
    const queued = this.queue.findIndex((c) => c.runId === runId);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.handlers.onExit(runId, { reported: null, cancelled: true, exit: 'cancelled while queued' });
      return true;
    }
    const run = this.active.get(runId);
    if (!run) return false;
    if (run.cancelled) return true;
    run.cancelled = true;
    if (run.child.connected) run.child.send({ type: 'cancel' } satisfies TrainerCommand);
    run.killTimer = setTimeout(() => run.child.kill('SIGKILL'), 500);
    return true;
  }

  /** Stop everything: the queue is dropped (those runs are reported cancelled), running trainers are killed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.queue.splice(0)) this.handlers.onExit(c.runId, { reported: null, cancelled: true, exit: 'host shut down' });
    const exits = [...this.active.entries()].map(
      ([runId, run]) =>
        new Promise<void>((resolve) => {
          run.child.once('exit', () => resolve());
          this.cancel(runId);
        }),
    );
    await Promise.all(exits);
  }

  private pump(): void {
    while (!this.closed && this.active.size < this.concurrency && this.queue.length) {
      const command = this.queue.shift()!;
      this.launch(command);
    }
  }

  /**
   * Cores no run trains on go to the oldest runs, one each (their evaluation workers); told to the trainers
   * whenever a run starts or ends, so that two runs on two cores never also run workers.
   */
  private idleCoreCounts(): Map<number, number> {
    let spare = Math.max(0, this.concurrency - this.active.size);
    const counts = new Map<number, number>();
    for (const runId of this.active.keys()) counts.set(runId, spare-- > 0 ? 1 : 0);
    return counts;
  }

  private rebalance(except?: number): void {
    for (const [runId, count] of this.idleCoreCounts()) {
      const run = this.active.get(runId)!;
      if (runId === except || run.idleCores === count) continue;
      run.idleCores = count;
      if (run.child.connected) run.child.send({ type: 'idle-cores', count } satisfies TrainerCommand);
    }
  }

  private launch(command: StartCommand): void {
    const child = this.spawn();
    const run: Active = { child, idleCores: 0, cancelled: false, done: null, killTimer: null };
    this.active.set(command.runId, run);
    run.idleCores = this.idleCoreCounts().get(command.runId) ?? 0;
    this.rebalance(command.runId);
    this.handlers.onStart(command.runId);
    child.on('message', (raw: unknown) => {
      const event = raw as TrainerEvent;
      if (event.type === 'done') run.done = event;
      this.handlers.onEvent(command.runId, event);
    });
    let finished = false;
    const finish = (exit: string) => {
      if (finished) return;
      finished = true;
      if (run.killTimer) clearTimeout(run.killTimer);
      this.active.delete(command.runId);
      this.handlers.onExit(command.runId, { reported: run.done, cancelled: run.cancelled, exit });
      this.pump();
      this.rebalance();
    };
    child.on('exit', (code, signal) => finish(signal ? `killed by ${signal}` : `exit code ${code}`));
    child.on('error', (err) => {
      finish(`could not start trainer: ${err.message}`);
      child.kill('SIGKILL');
    });
    child.send({ ...command, idleCores: run.idleCores } satisfies TrainerCommand);
  }
}
