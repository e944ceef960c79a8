// What backend a trainer will get, answered without loading tfjs (safe in the Electron main process and the
// web host). @tensorflow/tfjs-node is a Node-API addon (its binding lives in lib/napi-v8/), so one build
// loads in plain Node and in Electron's Node (trainers run with ELECTRON_RUN_AS_NODE) alike; it copies
// tensor data into V8-allocated buffers, so Electron's V8 memory cage does not stop it either.
import { createRequire } from 'node:module';
import path from 'node:path';

const nodeRequire = createRequire(import.meta.url);

export interface BackendReport {
  /** The active tfjs backend name: tensorflow | wasm | cpu. */
  active: string;
  /** Whether @tensorflow/tfjs-node could be loaded, and if not why. */
  tfjsNode: { available: boolean; reason: string };
}

/** Why tfjs-node cannot be used here, without loading it into this process (safe in the UI host). */
export function probeTfjsNode(): { available: boolean; reason: string } {
  try {
    nodeRequire.resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    return {
      available: false,
      reason: 'the optional package @tensorflow/tfjs-node is not installed (its libtensorflow download failed or was skipped)',
    };
  }
  try {
    const dir = path.dirname(nodeRequire.resolve('@tensorflow/tfjs-node/package.json'));
    nodeRequire.resolve(path.join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'));
    return { available: true, reason: 'installed' };
  } catch {
    return { available: false, reason: '@tensorflow/tfjs-node is installed but its native binding (libtensorflow) is missing' };
  }
}

/**
 * The backend a trainer would choose, without loading tfjs: VAE_WORKBENCH_BACKEND when set, tensorflow when
 * tfjs-node resolves, else wasm. The trainers report (and every run records) the one they really got.
 */
export function predictBackend(env: NodeJS.ProcessEnv = process.env): BackendReport {
  const tfjsNode = probeTfjsNode();
  const forced = env.VAE_WORKBENCH_BACKEND?.trim();
  return { active: forced || (tfjsNode.available ? 'tensorflow' : 'wasm'), tfjsNode };
}
