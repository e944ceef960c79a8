// The files the command line reads because the user named them (--config run.json, a sweep file, a bundle to
// import), read under the one rule for untrusted files (os/untrusted.ts): a regular file only (a FIFO is refused
// without blocking, /dev/zero is never read), within its size limit (checked on the open file before a byte is
// read), and JSON checked for nesting depth and value count before it is parsed. Every refusal is an
// UntrustedError naming the file and the limit; main.ts prints it and exits with 2 (invalid_input).
import { LIMITS, type LimitName } from '@shared/limits';
import { parseUntrustedJson, readRegularFile, UntrustedError } from '../../os/untrusted';

/** A whole file the user named, at most `maxBytes` (the final symbolic link is followed: the user typed the path). */
export function readUserFile(file: string, what: string, maxBytes: number, limit: LimitName): Buffer {
  return readRegularFile(file, { what, maxBytes, limit, follow: true });
}

/** A JSON object from a file the user named (a run config, a sweep file), at most UNTRUSTED_MAX_SMALL_FILE_BYTES. */
export function readUserJsonObject(file: string, what: string, shape = 'a JSON object'): Record<string, unknown> {
  const bytes = readUserFile(file, what, LIMITS.UNTRUSTED_MAX_SMALL_FILE_BYTES, 'UNTRUSTED_MAX_SMALL_FILE_BYTES');
  const value = parseUntrustedJson(bytes.toString('utf8'), `${what} ${file}`);
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new UntrustedError(`${what} ${file}: the top level must be ${shape}`);
  return value as Record<string, unknown>;
}

/** A bundle file to import: a regular file, not empty, at most BUNDLE_MAX_FILE_BYTES. */
export function readBundleFile(file: string): Buffer {
  const bytes = readUserFile(file, 'bundle', LIMITS.BUNDLE_MAX_FILE_BYTES, 'BUNDLE_MAX_FILE_BYTES');
  if (bytes.length === 0) throw new UntrustedError(`bundle: ${file} is empty (0 bytes): not a bundle`);
  return bytes;
}
