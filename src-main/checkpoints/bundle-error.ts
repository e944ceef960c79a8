// The one error type of bundle export and import: every refusal is invalid_input, its message saying what is wrong.
import { ApiError } from '@shared/errors';

export class BundleError extends ApiError {
  constructor(message: string) {
    super('invalid_input', message);
    this.name = 'BundleError';
  }
}
