// The complete lines appended to one of a run folder's append-only files since a byte offset, read in a bounded
// chunk: a last line without its newline (a writer killed mid-line, or still writing) is left for the next scan,
// and a line longer than SOURCE_MAX_LINE_BYTES is refused. Each line comes with the offset just after it, so the
// caller can stop early (a per-scan budget) and resume exactly there. parseLine parses a line under the bounds of
// the one rule for untrusted input (os/untrusted.ts).
import { checkJsonText, checkJsonValue, UntrustedError } from '../os/untrusted';
import { readChunk } from './folder-reader';
import { LIMITS } from '@shared/limits';

export interface Line {
  /** The line's text, without its newline. */
  text: string;
  /** The file offset just after the line's newline. */
  end: number;
  /** 1-based line number counted from the offset (for messages). */
  index: number;
}

function lineTooLong(dir: string, name: string, size: string): UntrustedError {
  const max = LIMITS.SOURCE_MAX_LINE_BYTES;
  return new UntrustedError(
    `${dir}: ${name} holds a line of ${size}, more than the limit of ${max / (1024 * 1024)} MiB (SOURCE_MAX_LINE_BYTES)`,
    'SOURCE_MAX_LINE_BYTES',
  );
}

/** New complete lines of `dir/name` from `offset`; [] when the file is missing or has nothing new. */
export function readNewLines(dir: string, name: string, offset: number): Line[] {
  const chunk = readChunk(dir, name, offset, LIMITS.SOURCE_CHUNK_BYTES);
  if (!chunk || chunk.bytes.length === 0) return [];
  const bytes = chunk.bytes;
  const last = bytes.lastIndexOf(0x0a);
  if (last < 0) {
    if (bytes.length >= LIMITS.SOURCE_MAX_LINE_BYTES) throw lineTooLong(dir, name, `at least ${bytes.length} bytes without a newline`);
    return [];
  }
  const lines: Line[] = [];
  let start = 0;
  let index = 0;
  while (start <= last) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl - start > LIMITS.SOURCE_MAX_LINE_BYTES) throw lineTooLong(dir, name, `${nl - start} bytes`);
    index++;
    lines.push({ text: bytes.toString('utf8', start, nl), end: offset + nl + 1, index });
    start = nl + 1;
  }
  return lines;
}

const PROTOTYPE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

function refusePrototypeKeys(key: string, value: unknown): unknown {
  if (PROTOTYPE_KEYS.has(key)) throw new SyntaxError(`prototype key "${key}"`);
  return value;
}

/**
 * One line (or small JSON file) parsed under the rule's bounds (os/untrusted.ts: nesting depth and value count
 * checked on the text first, key lengths after), or null: a line that is not JSON, or holds a prototype key
 * anywhere, is skipped whole. A line over the bounds is refused (UntrustedError naming `what` and the limit).
 */
export function parseLine(text: string, what: string): unknown {
  if (!text.trim()) return null;
  checkJsonText(text, what);
  let value: unknown;
  try {
    value = JSON.parse(text, refusePrototypeKeys) as unknown;
  } catch {
    return null;
  }
  checkJsonValue(value, what);
  return value;
}
