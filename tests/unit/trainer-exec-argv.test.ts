// The trainers' V8 flags (train/host/trainer-launcher.ts): relaxed SIMD, for the FMA variant of our wasm GEMM, where the
// runtime has it only behind a flag (Node 20), and nothing where it is on by default (Node >= 22, Electron).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { trainerExecArgv } from '../../src-main/train/host/trainer-launcher';
import { gemmModuleBytes } from '../../src-main/kernels/wasm-gemm-module';

const versions = (node: string, electron?: string) => ({ ...process.versions, node, electron }) as NodeJS.ProcessVersions;

describe('trainerExecArgv', () => {
  it('asks Node 20 for relaxed SIMD, and nothing of Node 22+ or Electron', () => {
    expect(trainerExecArgv(versions('20.20.2'))).toEqual(['--experimental-wasm-relaxed-simd']);
    expect(trainerExecArgv(versions('22.1.0'))).toEqual([]);
    expect(trainerExecArgv(versions('24.0.0'))).toEqual([]);
    expect(trainerExecArgv(versions('20.18.0', '40.0.0'))).toEqual([]);
  });

  it('gives this Node the FMA variant of the GEMM', () => {
    const bytes = Buffer.from(gemmModuleBytes(true)).toString('base64');
    const r = spawnSync(
      process.execPath,
      [...trainerExecArgv(), '-e', `process.stdout.write(String(WebAssembly.validate(Buffer.from('${bytes}', 'base64'))))`],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('true');
  });
});
