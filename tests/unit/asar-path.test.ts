import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outsideAsar } from '../../src-main/train/common/asar-path';

describe('outsideAsar', () => {
  it('maps a path inside app.asar to app.asar.unpacked and leaves other paths alone', () => {
    const inside = path.join('/opt', 'VAE Workbench', 'resources', 'app.asar', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    expect(outsideAsar(inside)).toBe(
      path.join('/opt', 'VAE Workbench', 'resources', 'app.asar.unpacked', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist'),
    );
    const plain = path.join('/work', 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    expect(outsideAsar(plain)).toBe(plain);
    const lookalike = path.join('/x', 'app.asar.unpacked', 'a');
    expect(outsideAsar(lookalike)).toBe(lookalike);
  });
});
