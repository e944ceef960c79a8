// Typed errors: every module error is an ApiError with its code, toApiError maps by instanceof (a renamed class
// keeps its code), and the contract's table gives each code its HTTP status.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toApiError } from '../../src-main/api/errors';
import { BundleError } from '../../src-main/checkpoints/bundle';
import { CheckpointError } from '../../src-main/checkpoints/checkpoint-dir';
import { DatasetShapeError } from '../../src-main/checkpoints/dataset-shape';
import { GenerateError } from '../../src-main/api/generate';
import { LayersExportError } from '../../src-main/checkpoints/layers-model';
import { SafetensorsError } from '../../src-main/checkpoints/safetensors';
import { DatasetError } from '../../src-main/data/types';
import { RunNotFoundError } from '../../src-main/store/run-store';
import { API_ERROR_CODES, ApiError, ERROR_HTTP_STATUS, type ApiErrorCode } from '@shared/contract';
import { ConfigError } from '@shared/run-config';
import type { Reply } from '@shared/reply';

describe('typed errors', () => {
  it('gives every module error its code, whatever the class is named', () => {
    const cases: [Error, ApiErrorCode][] = [
      [new BundleError('b'), 'invalid_input'],
      [new CheckpointError('c'), 'invalid_input'],
      [new DatasetShapeError('d'), 'invalid_input'],
      [new GenerateError('g'), 'invalid_input'],
      [new LayersExportError('l'), 'invalid_input'],
      [new SafetensorsError('s'), 'invalid_input'],
      [new DatasetError('x'), 'invalid_input'],
      [new RunNotFoundError(7), 'not_found'],
      [new ConfigError('bad config', [{ path: 'model.latentDim', message: 'too small' }]), 'invalid_config'],
    ];
    for (const [err, code] of cases) {
      Object.defineProperty(err, 'name', { value: 'SomethingElse' }); // names play no part
      const mapped = toApiError(err);
      expect(mapped).toBe(err);
      expect(mapped.code).toBe(code);
      expect(mapped.message).toBe(err.message);
    }
    expect(toApiError(new ConfigError('bad', [{ path: 'a.b', message: 'm' }])).toJSON()).toEqual({
      code: 'invalid_config',
      message: 'bad',
      issues: [{ path: 'a.b', message: 'm' }],
    });
  });

  it('maps zod errors to invalid_input with field issues, anything else to internal', () => {
    const zod = z.object({ n: z.number() }).safeParse({ n: 'x' }).error!;
    const mapped = toApiError(zod);
    expect(mapped.code).toBe('invalid_input');
    expect(mapped.issues?.[0]?.path).toBe('n');
    expect(toApiError(new TypeError('boom')).code).toBe('internal');
    expect(toApiError('a string').toJSON()).toEqual({ code: 'internal', message: 'a string' });
  });

  it('has one HTTP status per code, in the contract', () => {
    expect(ERROR_HTTP_STATUS).toEqual({
      invalid_input: 400,
      invalid_config: 400,
      unauthorized: 401,
      not_found: 404,
      already_imported: 409,
      internal: 500,
      busy: 503,
    });
    expect([...API_ERROR_CODES].sort()).toEqual(Object.keys(ERROR_HTTP_STATUS).sort());
    const reply: Reply = { ok: false, error: new ApiError('unauthorized', 'missing or wrong token').toJSON() };
    expect(reply.ok || ERROR_HTTP_STATUS[reply.error.code]).toBe(401);
  });
});
