// The reference model in PyTorch beside the workbench, for `npm run bench`: scripts/pytorch_reference.py run with
// /usr/bin/python3 (Debian's python3-torch) on the very digits the workbench trains on, written here as raw float32
// files. Where that Python has no torch, the bench says why and skips this part.
//
// OpenBLAS: this machine's environment pins OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE; for PyTorch's timing command
// (and only there: never in tests or CI) both are removed so that OpenBLAS picks its own kernel for the CPU. Its
// thread count is set to PyTorch's (OPENBLAS_NUM_THREADS): torch.set_num_threads does not reach Debian's
// pthread OpenBLAS, which otherwise runs (and spins) on every core, so that "1 thread" used both cores (measured
// 2026-12-07: 19,860 samples/s at 9,972 per CPU second; pinned to one thread 18,443 at 19,396).
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseRunConfig } from '@shared/run-config';
import { loadDataset } from '../data/registry';
import { referenceExperiment } from './time-to-result';

export const PYTHON = '/usr/bin/python3';

export interface PytorchResult {
  threads: number;
  /** Wall seconds of the whole process (Python start, imports, data, 10 epochs with test ELBO, IW NLL k = 200). */
  wallSeconds: number;
  trainSeconds: number;
  nllSeconds: number;
  testLoss: number;
  testNll: number;
}

/** torch's version, or why PyTorch cannot run here. */
export function pytorchAvailable(): { version: string } | { reason: string } {
  if (!existsSync(PYTHON)) return { reason: `${PYTHON} is missing` };
  const r = spawnSync(PYTHON, ['-c', 'import numpy, torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0)
    return {
      reason: `${PYTHON} has no torch/numpy (apt-get install python3-torch libopenblas0-pthread): ${(r.stderr || '').trim().split('\n').pop()}`,
    };
  return { version: r.stdout.trim() };
}

/** The project's root (the folder with package.json above this module, from the sources or the build). */
function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('the project root (package.json) was not found above the bench');
    dir = parent;
  }
  return dir;
}

export interface ReferenceData {
  train: string;
  trainN: number;
  test: string;
  testN: number;
}

/** The reference experiment's train and test digits, as the workbench loads them, written as raw float32 under `dir`. */
export async function writeReferenceData(dir: string, dataHome: string): Promise<ReferenceData> {
  const config = parseRunConfig(referenceExperiment());
  const data = await loadDataset(config.data, { dataHome, seed: config.seed });
  if (data.d !== 784) throw new Error(`the reference data has ${data.d} features, the PyTorch script expects 784`);
  const file = (name: string, x: Float32Array) => {
    const p = path.join(dir, name);
    writeFileSync(p, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    return p;
  };
  return { train: file('train.f32', data.train.x), trainN: data.train.n, test: file('test.f32', data.test.x), testN: data.test.n };
}

/** The environment of PyTorch's timing command: this one without the OpenBLAS pins, OpenBLAS on `threads` threads. */
function pytorchEnv(threads: number): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  env.OPENBLAS_NUM_THREADS = String(threads);
  env.OMP_NUM_THREADS = String(threads);
  return env;
}

function runScript(args: string[], threads: number, data: ReferenceData): Promise<{ json: Record<string, number>; wallSeconds: number }> {
  const script = path.join(projectRoot(), 'scripts', 'pytorch_reference.py');
  const argv = [
    script,
    ...args,
    '--threads',
    String(threads),
    '--train',
    data.train,
    '--train-n',
    String(data.trainN),
    '--test',
    data.test,
    '--test-n',
    String(data.testN),
  ];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    execFile(PYTHON, argv, { env: pytorchEnv(threads), maxBuffer: 1 << 20, timeout: 3_600_000 }, (err, stdout, stderr) => {
      const wallSeconds = (performance.now() - t0) / 1000;
      if (err) return reject(new Error(`the PyTorch script failed: ${err.message} ${stderr.trim().split('\n').pop() ?? ''}`));
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve({ json: JSON.parse(line) as Record<string, number>, wallSeconds });
      } catch {
        reject(new Error(`the PyTorch script printed no result: ${line.slice(0, 200)}`));
      }
    });
  });
}

/** PyTorch's training samples per second (wall) and per CPU second of the reference model with `threads` threads over `steps` steps (after 10 warm-up steps). */
export async function pytorchThroughput(data: ReferenceData, threads: number, steps: number): Promise<{ wall: number; cpu: number }> {
  const r = await runScript(['throughput', '--steps', String(steps)], threads, data);
  return { wall: r.json.samplesPerSec ?? 0, cpu: r.json.samplesPerCpuSec ?? 0 };
}

/** The whole reference experiment in PyTorch (10 epochs, test ELBO each, IW NLL k = 200 on every test digit). */
export async function pytorchResult(data: ReferenceData, threads: number): Promise<PytorchResult> {
  const r = await runScript(['result', '--epochs', '10', '--iw', '200'], threads, data);
  const j = r.json;
  return {
    threads,
    wallSeconds: r.wallSeconds,
    trainSeconds: j.trainSeconds ?? 0,
    nllSeconds: j.nllSeconds ?? 0,
    testLoss: j.testLoss ?? NaN,
    testNll: j.testNll ?? NaN,
  };
}
