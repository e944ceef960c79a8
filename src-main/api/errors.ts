// One place that turns whatever a call threw into the contract's ApiError. Module errors extend ApiError with
// their code (src-shared/errors.ts), so they pass through as they are; a zod error is an input problem; anything
// else is an internal error. Never by class-name strings.
import { z } from 'zod';
import { ApiError } from '@shared/errors';
import { describeIssues } from '@shared/run-config';

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) {
    const issues = describeIssues(err);
    return new ApiError('invalid_input', issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
  const e = err as Error | undefined;
  return new ApiError('internal', e?.message ?? String(err));
}
