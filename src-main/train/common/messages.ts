// The messages between the service (parent) and a trainer process (child). Plain JSON over the IPC channel.
import type { ArtifactKind, MetricPoint, Progress } from '@shared/model-types';
import type { RunConfig } from '@shared/run-config';

export type FinalStatus = 'completed' | 'failed' | 'cancelled' | 'diverged';

/** Resume (or fork) a run from this checkpoint directory, at its step and epoch; optionally with its optimizer state. */
export interface ResumeFrom {
  dir: string;
  step: number;
  epoch: number;
  restoreOptimizer: boolean;
}

/** Parent -> child. */
export type TrainerCommand =
  | {
      type: 'start';
      runId: number;
      config: RunConfig;
      dataHome: string;
      /** Directory for this run's files (checkpoints). */
      runDir: string;
      /** Resume or fork from this checkpoint directory. */
      resumeFrom?: ResumeFrom;
      /** Idle cores this run may use beside its own (an evaluation worker); updated by 'idle-cores'. */
      idleCores?: number;
    }
  | { type: 'idle-cores'; count: number }
  | { type: 'cancel' };

/** Child -> parent. */
export type TrainerEvent =
  | { type: 'started'; backend: string; totalSteps: number; totalEpochs: number }
  | { type: 'progress'; progress: Omit<Progress, 'runId'> }
  | { type: 'metrics'; points: MetricPoint[] }
  | {
      type: 'artifact';
      kind: ArtifactKind;
      epoch: number;
      step: number;
      mime: string;
      /** PNG bytes (or JSON text for data artifacts), base64. */
      dataBase64: string;
      width: number;
      height: number;
      meta: Record<string, unknown>;
    }
  | {
      type: 'checkpoint';
      epoch: number;
      step: number;
      tag: 'interval' | 'best' | 'last';
      /** Directory written atomically (rename from a temporary name). */
      dir: string;
      bytes: number;
      metrics: Record<string, number>;
    }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; status: FinalStatus; error?: string; final: Record<string, number>; samplesPerSec: number };

/** What the training loop needs from its host process. */
export interface TrainingContext {
  runId: number;
  config: RunConfig;
  dataHome: string;
  runDir: string;
  backend: string;
  resumeFrom?: ResumeFrom;
  emit: (event: TrainerEvent) => void;
  /** Wall time the host process spent before the run began (process start, tfjs init), ms; reported as perf/time/startup. */
  startupMs?: number;
  /** Idle cores the run may use beside its own, now (the scheduler changes it as runs start and end); none when absent. */
  idleCores?: () => number;
  /** Set when the parent asked to cancel; the loop checks it between steps. */
  signal: AbortSignal;
}
