// Following a run to its end (train, resume): a progress line on stderr, Ctrl-C cancels, a summary on stdout.
import { canonicalFinal, FD_CLASSIFIER_METRIC, metricLabel, SUMMARY_TEST_METRICS } from '@shared/metric-labels';
import type { RunSummary } from '@shared/model-types';
import type { WorkbenchService } from '../../api/service';
import { fmt } from './format';
import { out } from './output';
import { ProgressLine, formatEpoch, runFraction } from './progress-line';

function finalSummary(run: RunSummary, samplesPerSec: number) {
  const f = canonicalFinal(run.final);
  return {
    runId: run.id,
    name: run.name,
    status: run.status,
    error: run.error,
    backend: run.backend,
    samplesPerSec,
    final: {
      test: {
        /** loss, recon and kl are on `examples` test examples; nll on the first `nllExamples` with k = `nllK`, and
         * `nllLoss` is the -ELBO on those same examples (compare nll with nllLoss, not with loss). */
        examples: f['test/examples'] ?? null,
        loss: f['test/loss'] ?? null,
        recon: f['test/recon'] ?? null,
        kl: f['test/kl'] ?? null,
        lossCorrupted: f['test/lossCorrupted'] ?? null,
        nll: f['test/nll'] ?? null,
        nllLoss: f['test/nllLoss'] ?? null,
        nllExamples: f['test/nllExamples'] ?? null,
        nllK: f['test/nllK'] ?? null,
        inferenceGap: f['test/inferenceGap'] ?? null,
        activeUnits: f['test/activeUnits'] ?? null,
        activeUnitsCov: f['test/activeUnitsCov'] ?? null,
        fdClassifier: f[FD_CLASSIFIER_METRIC] ?? null,
      },
      train: { loss: f['train/loss'] ?? null },
      val: { loss: f['val/loss'] ?? null },
    },
    metrics: f,
  };
}

/** The final figures, one per line, each labelled with the examples (n) and samples (k) it was computed on. */
function summaryLines(f: Record<string, number>): string[] {
  return SUMMARY_TEST_METRICS.filter((k) => f[k] !== undefined).map((k) => `  ${metricLabel(k, f)}: ${fmt(f[k])}`);
}

/** Follow a run to its end with a progress line; Ctrl-C cancels it. */
export async function follow(service: WorkbenchService, runId: number, json: boolean): Promise<number> {
  const progress = new ProgressLine(process.stderr);
  let samplesPerSec = 0;
  const t0 = Date.now();
  const off = service.onEvent((e) => {
    if (e.event === 'run.progress' && e.payload.runId === runId) {
      const p = e.payload;
      samplesPerSec = p.samplesPerSec || samplesPerSec;
      // The bar is the fraction of the run's wall time (training, evaluation, snapshots, checkpoints).
      const fraction = runFraction((Date.now() - t0) / 1000, p.etaSeconds, p.step, p.totalSteps);
      progress.update(
        Math.round(fraction * 1000),
        1000,
        `epoch ${formatEpoch(p.epoch)}/${p.totalEpochs} ${p.phase} ${Math.round(p.samplesPerSec)} samples/s`,
        p.etaSeconds,
      );
    } else if (e.event === 'run.log' && e.payload.runId === runId && e.payload.level !== 'info') {
      progress.message(`${e.payload.level}: ${e.payload.message}`);
    } else if (e.event === 'run.metrics' && e.payload.runId === runId) {
      const test = e.payload.points.filter((p) => p.name.startsWith('test/') || p.name === 'val/loss');
      if (test.length && !json) progress.message(`epoch ${test[0]!.epoch}: ${test.map((p) => `${p.name} ${fmt(p.value)}`).join('  ')}`);
      const sps = e.payload.points.find((p) => p.name === 'perf/samplesPerSec');
      if (sps) samplesPerSec = sps.value;
    }
  });
  let interrupted = 0;
  const onSignal = () => {
    interrupted++;
    progress.message(interrupted > 1 ? 'cancelling…' : 'cancelling the run (Ctrl-C again to force)…');
    service.cancelRun(runId, 'the user (Ctrl-C)');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const run = await service.waitForRun(runId);
  off();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  progress.done();
  const summary = finalSummary(run, run.final['perf/samplesPerSec'] || samplesPerSec || 0);
  if (json) out(JSON.stringify(summary));
  else {
    out(`run ${run.id} "${run.name}": ${run.status}${run.error ? ` — ${run.error}` : ''}`);
    if (run.status === 'cancelled') {
      const line = service.store.getLog(run.id, 20).findLast((l) => l.message.startsWith('cancelled by'));
      if (line) out(line.message);
    }
    for (const line of summaryLines(summary.metrics)) out(line);
    out(`${Math.round(summary.samplesPerSec)} samples/s on ${run.backend ?? '?'}`);
  }
  return run.status === 'completed' ? 0 : run.status === 'cancelled' ? 130 : 1;
}
