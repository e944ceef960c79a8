// Choose the tfjs compute backend once per process: tfjs-node (native) where it loads, else wasm, else cpu.
// Only trainers (and the host's own generate/import paths) load this module: it imports tfjs.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { outsideAsar } from '../common/asar-path';
import { probeTfjsNode, type BackendReport } from '../common/backend-probe';
import { registerFastWasmMatMul } from '../../kernels/wasm-kernels';

const nodeRequire = createRequire(import.meta.url);

export { predictBackend, probeTfjsNode, type BackendReport } from '../common/backend-probe';

let chosen: Promise<BackendReport> | null = null;

/**
 * Initialise tfjs in this process. `prefer` forces one backend (tests, benchmarks);
 * VAE_WORKBENCH_BACKEND does the same from the environment.
 */
export function initBackend(prefer?: string): Promise<BackendReport> {
  if (!chosen) chosen = doInit(prefer ?? process.env.VAE_WORKBENCH_BACKEND);
  return chosen;
}

async function doInit(prefer: string | undefined): Promise<BackendReport> {
  const tfjsNode = probeTfjsNode();
  const order = prefer ? [prefer] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of order) {
    try {
      if (name === 'tensorflow') {
        if (!tfjsNode.available) continue;
        nodeRequire('@tensorflow/tfjs-node');
      } else if (name === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        const dist =
          outsideAsar(path.join(path.dirname(nodeRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')) + path.sep;
        wasm.setWasmPaths(dist);
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        // wasm's transposed matmuls (every dense layer's backward pass) are ~10x slower than the
        // plain ones; reroute them (see wasm-kernels.ts). VAE_WORKBENCH_WASM_FAST_MATMUL=0 turns it off.
        if (tf.getBackend() === 'wasm' && process.env.VAE_WORKBENCH_WASM_FAST_MATMUL !== '0') registerFastWasmMatMul();
        quietCpuBackend();
        return { active: tf.getBackend(), tfjsNode };
      }
    } catch (err) {
      if (name === 'tensorflow') tfjsNode.reason = `failed to load: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  throw new Error(`no tfjs backend could be initialised (tried ${order.join(', ')})`);
}

/**
 * The cpu backend prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner on its first
 * use (tfjs touches it for small host-side tensors even when wasm is active). The active backend is shown
 * in the UI and recorded with every run, so the banner only adds noise to the CLI and test output.
 */
function quietCpuBackend(): void {
  try {
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu && 'firstUse' in cpu) cpu.firstUse = false;
  } catch {
    // no cpu backend registered: nothing to quiet
  }
}
