// Facts with one source each (issue 26, duplicates): the renderer files' Content-Type table both hosts of the page
// use, the sweep-axes schema the contract takes from sweep-expand.ts, and the weight layout VaeModel and the
// checkpoint formats both read.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { calls } from '@shared/contract';
import { sweepAxesSchema } from '@shared/sweep-expand';
import { contentTypeOf } from '../../src-main/hosts/content-type';
import { expectedWeightShapes, hasLogvar } from '../../src-main/checkpoints/architecture';
import { parseRunConfig } from '@shared/run-config';
import { CONV_KERNEL_SIZE, weightLayout } from '../../src-main/vae/weight-layout';

describe('one Content-Type table', () => {
  it('answers by extension in any case, octet-stream for the unknown and for prototype keys', () => {
    expect(contentTypeOf('/r/index.html')).toBe('text/html; charset=utf-8');
    expect(contentTypeOf('/r/assets/INDEX-AB12.JS')).toBe('text/javascript; charset=utf-8');
    expect(contentTypeOf('/r/tfjs-backend-wasm-simd.wasm')).toBe('application/wasm');
    expect(contentTypeOf('/r/data.bin')).toBe('application/octet-stream');
    expect(contentTypeOf('/r/x.constructor')).toBe('application/octet-stream');
    expect(contentTypeOf('/r/noext')).toBe('application/octet-stream');
  });
});

describe('one sweep-axes schema', () => {
  it('is the schema runs.sweep takes', () => {
    const input = calls['runs.sweep'].input as unknown as z.ZodObject<{ axes: z.ZodType }>;
    expect(input.shape.axes).toBe(sweepAxesSchema);
    const axis = { key: 'optimizer.learningRate', values: [0.001] };
    expect(calls['runs.sweep'].input.safeParse({ config: {}, axes: [axis, axis, axis] }).success).toBe(true);
    expect(calls['runs.sweep'].input.safeParse({ config: {}, axes: [axis, axis, axis, axis] }).success).toBe(false);
  });
});

describe('one weight layout', () => {
  it('gives the checkpoint formats the names and shapes VaeModel creates', () => {
    const config = parseRunConfig({ model: { kind: 'ae', arch: 'conv', convChannels: [4, 8], latentDim: 3 } });
    const layout = weightLayout({ ...config.model, kind: 'ae', shape: [28, 28, 1] });
    expect(expectedWeightShapes(config, [28, 28, 1])).toEqual(layout.map(({ name, shape }) => ({ name, shape })));
    expect(hasLogvar(config)).toBe(false);
    expect(layout.find((w) => w.name === 'encoder/conv_0/kernel')!.shape).toEqual([CONV_KERNEL_SIZE, CONV_KERNEL_SIZE, 1, 4]);
    expect(layout.find((w) => w.name === 'encoder/mu/kernel')!.shape).toEqual([7 * 7 * 8, 3]);
  });
});
