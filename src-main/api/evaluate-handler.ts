// `runs.evaluate`: the workbench's evaluation of one of a run's checkpoints (the best, else the last, unless one is
// named), computed on the heavy worker (evaluate-checkpoint.ts) and written as one line to the run's log (with the
// same run.log event the UI follows), so the figures stay beside the run. A checkpoint saved from PyTorch gets the
// workbench's own figures this way.
import { ApiError } from '@shared/errors';
import type { CallOutput, CallParsedInput, WorkbenchEvent } from '@shared/contract';
import type { RunStore } from '../store/run-store';
import { pickCheckpoint } from '../checkpoints/checkpoint-rules';
import type { HeavyWork } from './heavy-work';
import type { CheckpointEvaluation } from './evaluate-checkpoint';

export interface EvaluateContext {
  store: RunStore;
  heavy: HeavyWork;
  dataHome: string;
  emit: (e: WorkbenchEvent) => void;
}

const fmt = (v: number | undefined, digits = 3) => (v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(digits));

/** The log line: which checkpoint, on how many examples, and the figures. */
export function evaluationLine(tag: string, r: CheckpointEvaluation): string {
  const f = r.figures;
  const nll =
    f['test/nll'] !== undefined
      ? `; -log p(x) ${fmt(f['test/nll'])} (k = ${r.k}, ${r.nllExamples} examples), inference gap ${fmt(f['test/inferenceGap'])}`
      : '';
  return (
    `evaluated checkpoint "${tag}" (epoch ${fmt(r.epoch, 1)}, step ${r.step}) in the workbench on ${r.n} test examples: ` +
    `-ELBO ${fmt(f['test/loss'])} = recon ${fmt(f['test/recon'])} (${r.samples} sample${r.samples === 1 ? '' : 's'}) + KL ${fmt(f['test/kl'])} nats${nll}; ` +
    `active units ${fmt(f['test/activeUnits'])} (KL > 0.01), ${fmt(f['test/activeUnitsCov'])} (Cov > 0.01)`
  );
}

export async function evaluateHandler(input: CallParsedInput<'runs.evaluate'>, ctx: EvaluateContext): Promise<CallOutput<'runs.evaluate'>> {
  if (!ctx.store.getRun(input.runId)) throw new ApiError('not_found', `no run with id ${input.runId}`);
  const checkpoint = pickCheckpoint('generate', ctx.store.listCheckpoints(input.runId), input.checkpointId);
  if (!checkpoint) throw new ApiError('not_found', `run ${input.runId} has no checkpoint to evaluate`);
  const r = await ctx.heavy.evaluate(checkpoint.path, {
    k: input.k,
    examples: input.examples,
    samples: input.samples,
    seed: input.seed,
    dataHome: ctx.dataHome,
  });
  const message = evaluationLine(checkpoint.tag, r);
  if (ctx.store.isOpen && ctx.store.getRun(input.runId)) {
    ctx.store.log(input.runId, 'info', message);
    ctx.emit({ event: 'run.log', payload: { runId: input.runId, time: Date.now(), level: 'info', message } });
  }
  return { checkpointId: checkpoint.id, ...r };
}
