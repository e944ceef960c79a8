// The complete lines appended to one of a run folder's append-only files since a byte offset, read in a bounded
// chunk: a last line without its newline (a writer killed mid-line, or still writing) is left for the next scan,
// and a line longer than SOURCE_MAX_LINE_BYTES is refused. Each line comes with the offset just after it, so the
// caller can stop early (a per-scan budget) and resume exactly there.
import { readChunk, SourceFolderError } from './folder-reader';
import { SOURCE_LIMITS } from './source-limits';

export interface Line {
  /** The line's text, without its newline. */
  text: string;
  /** The file offset just after the line's newline. */
  end: number;
  /** 1-based line number counted from the offset (for messages). */
  index: number;
}

/** New complete lines of `dir/name` from `offset`; [] when the file is missing or has nothing new. */
export function readNewLines(dir: string, name: string, offset: number): Line[] {
  const chunk = readChunk(dir, name, offset, SOURCE_LIMITS.SOURCE_CHUNK_BYTES);
  if (!chunk || chunk.bytes.length === 0) return [];
  const bytes = chunk.bytes;
  const last = bytes.lastIndexOf(0x0a);
  if (last < 0) {
    if (bytes.length >= SOURCE_LIMITS.SOURCE_MAX_LINE_BYTES)
      throw new SourceFolderError(
        `${name}: a line of more than ${SOURCE_LIMITS.SOURCE_MAX_LINE_BYTES} bytes (SOURCE_MAX_LINE_BYTES)`,
        'SOURCE_MAX_LINE_BYTES',
      );
    return [];
  }
  const lines: Line[] = [];
  let start = 0;
  let index = 0;
  while (start <= last) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl - start > SOURCE_LIMITS.SOURCE_MAX_LINE_BYTES)
      throw new SourceFolderError(
        `${name}: a line of ${nl - start} bytes, more than the limit of ${SOURCE_LIMITS.SOURCE_MAX_LINE_BYTES} (SOURCE_MAX_LINE_BYTES)`,
        'SOURCE_MAX_LINE_BYTES',
      );
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

/** JSON.parse of one line, or null: a line that is not JSON, or holds a prototype key anywhere, is skipped whole. */
export function parseLine(text: string): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text, refusePrototypeKeys) as unknown;
  } catch {
    return null;
  }
}
