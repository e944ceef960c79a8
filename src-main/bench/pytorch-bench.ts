// The bench's PyTorch part: the same reference model run by scripts/pytorch_reference.py right after the
// workbench's own measurement, with both figures and their ratio (pytorch-reference.ts runs the script).
import {
  pytorchAvailable,
  pytorchResult,
  pytorchThroughput,
  writeReferenceData,
  type PytorchResult,
  type ReferenceData,
} from './pytorch-reference';

export interface PytorchBench {
  /** torch's version, or null with the reason it was skipped. */
  torch: string | null;
  skipped: string | null;
  /**
   * Training samples/s: the workbench (wasm, one run, medians: one shard, and two shards on two cores where the
   * machine has them, its default there) and PyTorch per thread count, right after each workbench repeat.
   */
  throughput: {
    workbench: number;
    workbenchTwoShards: number | null;
    pytorchByThreads: Record<string, number>;
    pytorchBest: number;
    bestThreads: number;
    /** workbench (one shard) / PyTorch at its best thread count; ratioTwoShards the same for two shards. */
    ratio: number;
    ratioTwoShards: number | null;
  } | null;
  /** Time to result (10 epochs, test ELBO each, IW NLL k = 200 on all test digits): wall seconds, ours / PyTorch's. */
  timeToResult: {
    workbenchWall: number;
    pytorch: PytorchResult;
    ratio: number;
    workbenchTestLoss: number | null;
    workbenchTestNll: number | null;
  } | null;
}

const THREADS = [1, 2];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return 0;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Collects the PyTorch figures beside the workbench's over one bench. */
export class PytorchSide {
  readonly torch: string | null;
  readonly skipped: string | null;
  private data: ReferenceData | null = null;
  private readonly samples = new Map<number, number[]>();
  private readonly cpuSamples = new Map<number, number[]>();
  private readonly ours: number[] = [];
  private readonly oursTwoShards: number[] = [];
  private ttr: PytorchBench['timeToResult'] = null;

  constructor(
    private readonly dir: string,
    private readonly dataHome: string,
    private readonly log: (message: string) => void,
  ) {
    const a = pytorchAvailable();
    this.torch = 'version' in a ? a.version : null;
    this.skipped = 'reason' in a ? a.reason : null;
    if (this.skipped) log(`PyTorch comparison skipped: ${this.skipped}`);
  }

  private async referenceData(): Promise<ReferenceData> {
    this.data ??= await writeReferenceData(this.dir, this.dataHome);
    return this.data;
  }

  /** Right after one workbench training measurement (`ours` samples/s over `steps` steps; and with two shards): PyTorch on 1 and 2 threads. */
  async afterWorkbenchTraining(ours: number, steps: number, oursTwoShards: number | null = null): Promise<void> {
    if (!this.torch) return;
    this.ours.push(ours);
    if (oursTwoShards !== null) this.oursTwoShards.push(oursTwoShards);
    const just = `workbench ${Math.round(ours)}${oursTwoShards !== null ? `, two shards ${Math.round(oursTwoShards)}` : ''} samples/s just before`;
    const data = await this.referenceData();
    for (const t of THREADS) {
      const sps = await pytorchThroughput(data, t, steps);
      this.samples.set(t, [...(this.samples.get(t) ?? []), sps.wall]);
      this.cpuSamples.set(t, [...(this.cpuSamples.get(t) ?? []), sps.cpu]);
      this.log(
        `  PyTorch ${this.torch}, ${t} thread${t > 1 ? 's' : ''}: ${Math.round(sps.wall)} samples/s, ${Math.round(sps.cpu)} per CPU second (${just})`,
      );
    }
  }

  /** Right after the workbench's time-to-result run (evaluated as the script does): the same experiment in PyTorch. */
  async afterWorkbenchTimeToResult(workbenchWall: number, final: Record<string, number>): Promise<void> {
    if (!this.torch) return;
    const data = await this.referenceData();
    // its best thread count, from a short probe (one thread is its best for this model on a small machine)
    let threads = 1;
    let best = 0;
    for (const t of THREADS) {
      const sps = (await pytorchThroughput(data, t, 40)).wall;
      if (sps > best) [best, threads] = [sps, t];
    }
    this.log(
      `time to result in PyTorch ${this.torch} (${threads} thread${threads > 1 ? 's' : ''}: 10 epochs, test ELBO each, IW NLL k = 200 on every test digit)…`,
    );
    const pytorch = await pytorchResult(data, threads);
    const ratio = workbenchWall / pytorch.wallSeconds;
    this.ttr = {
      workbenchWall,
      pytorch,
      ratio,
      workbenchTestLoss: final['test/loss'] ?? null,
      workbenchTestNll: final['test/nll'] ?? null,
    };
    this.log(
      `  PyTorch ${pytorch.wallSeconds.toFixed(1)} s wall (train ${pytorch.trainSeconds.toFixed(1)} s, IW NLL ${pytorch.nllSeconds.toFixed(1)} s; ` +
        `test loss ${pytorch.testLoss.toFixed(2)}, NLL ${pytorch.testNll.toFixed(2)}); workbench ${workbenchWall.toFixed(1)} s: ratio ${ratio.toFixed(2)}x`,
    );
  }

  result(): PytorchBench {
    let throughput: PytorchBench['throughput'] = null;
    if (this.ours.length) {
      const byThreads = Object.fromEntries(THREADS.map((t) => [String(t), median(this.samples.get(t) ?? [])]));
      const [bestThreads, pytorchBest] = Object.entries(byThreads).reduce((a, b) => (b[1] > a[1] ? b : a));
      const workbench = median(this.ours);
      const workbenchTwoShards = this.oursTwoShards.length ? median(this.oursTwoShards) : null;
      throughput = {
        workbench,
        workbenchTwoShards,
        pytorchByThreads: byThreads,
        pytorchBest,
        bestThreads: Number(bestThreads),
        ratio: pytorchBest > 0 ? workbench / pytorchBest : 0,
        ratioTwoShards: workbenchTwoShards !== null && pytorchBest > 0 ? workbenchTwoShards / pytorchBest : null,
      };
    }
    return { torch: this.torch, skipped: this.skipped, throughput, timeToResult: this.ttr };
  }
}
