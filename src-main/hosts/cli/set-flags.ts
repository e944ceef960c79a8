// `--set key.path=value`, parsed in one place: train applies it to a config, resume sends it as overrides.
import { checkKeyPath, setByPath } from '@shared/run-config';
import { UsageError } from './args';

/** Each `--set` as its key path and raw value, in order; a UsageError as soon as one has no `key=`. */
function* eachSet(sets: string[] | undefined): Generator<{ path: string; raw: string }> {
  for (const s of sets ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set expects key.path=value, got "${s}"`);
    yield { path: s.slice(0, eq), raw: s.slice(eq + 1) };
  }
}

/** train: write each `--set` into the config (the value is coerced by setByPath). */
export function applySets(config: Record<string, unknown>, sets: string[] | undefined): void {
  for (const { path, raw } of eachSet(sets)) setByPath(config, path, raw);
}

/** resume: each `--set` as an override (key path checked; the value as JSON when it parses, else the string). */
export function setOverrides(sets: string[] | undefined): Record<string, string | number | boolean | null> {
  const overrides: Record<string, string | number | boolean | null> = {};
  for (const { path, raw } of eachSet(sets)) {
    checkKeyPath(path);
    let v: string | number | boolean | null = raw;
    try {
      v = JSON.parse(raw) as string | number | boolean | null;
    } catch {
      v = raw;
    }
    overrides[path] = v;
  }
  return overrides;
}
