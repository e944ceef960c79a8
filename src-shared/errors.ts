// Errors that cross a host boundary, part of the contract (contract.ts re-exports this file). Every error a
// call can end with carries one of these codes; the table beside the code union is the one place that says
// which HTTP status the web host answers with. Module errors (BundleError, DatasetError, RunNotFoundError ...)
// extend ApiError with their code, so hosts map errors by `instanceof ApiError`, never by class names.
// Pure TypeScript: no Node imports, the renderer uses it too.

/** Error code -> HTTP status of the web host's answer. A new code is one line here (and a class that throws it). */
export const ERROR_HTTP_STATUS = {
  invalid_input: 400,
  invalid_config: 400,
  unauthorized: 401,
  not_found: 404,
  /**
   * bundles.import: the bundle's run is already in the store. The error's issues hold one entry
   * `{path: 'existingRunId', message: '<id>'}`; call again with `again: true` to import a second copy.
   */
  already_imported: 409,
  /** The host is at its limit of concurrent heavy calls (web host); try again shortly. */
  busy: 503,
  internal: 500,
} as const satisfies Record<string, number>;

export type ApiErrorCode = keyof typeof ERROR_HTTP_STATUS;
export const API_ERROR_CODES = Object.keys(ERROR_HTTP_STATUS) as ApiErrorCode[];

/** One problem with one field of the input (`model.latentDim`, `data.path`, ...). */
export interface FieldIssue {
  path: string;
  message: string;
}

/** An error that crosses a host boundary: a code and a message that names the problem. */
export interface ApiErrorShape {
  code: ApiErrorCode;
  message: string;
  issues?: FieldIssue[];
}

/** The one base class of the errors a call reports: a code from the table above, a message, field issues. */
export class ApiError extends Error implements ApiErrorShape {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
  toJSON(): ApiErrorShape {
    return { code: this.code, message: this.message, ...(this.issues ? { issues: this.issues } : {}) };
  }
}

/** The HTTP status for an error code (the table above). */
export function httpStatusOf(code: ApiErrorCode): number {
  return ERROR_HTTP_STATUS[code];
}

/** True when `code` is one of the contract's error codes (for values that crossed IPC or HTTP). */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_HTTP_STATUS, code);
}
