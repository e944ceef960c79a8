// Which candidate hyperparameters the compared runs cannot tell apart: keys that vary together (each value of one
// always goes with the same value of the other, so their orderings across the runs are identical or reversed), or
// numeric keys correlated beyond |r| >= 0.95. An importance ranking credits such keys arbitrarily; the panel says so.
// Also which keys are evaluation settings (eval.*), not hyperparameters of the model or its training.
import { pearson, spearman } from './importance';

/** Evaluation settings (how a run was measured, not what was trained). */
export const isEvalSetting = (key: string): boolean => key.startsWith('eval.');

const text = (v: unknown) => (Array.isArray(v) ? JSON.stringify(v) : String(v));

/**
 * True when the values of `a` and `b` determine each other over the rows (a one-to-one pairing of values) and some
 * value repeats (when every run has its own value of both, any two keys pair up trivially).
 */
function pairedOneToOne(a: unknown[], b: unknown[]): boolean {
  const ab = new Map<string, string>();
  const ba = new Map<string, string>();
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [text(a[i]), text(b[i])];
    if ((ab.get(x) ?? y) !== y || (ba.get(y) ?? x) !== x) return false;
    ab.set(x, y);
    ba.set(y, x);
  }
  return ab.size > 1 && ab.size < a.length;
}

export interface Confounded {
  keys: string[];
  /** 'together': identical (or reversed) orderings, or each value of one goes with one value of the other; 'correlated': |Pearson r| >= 0.95. */
  how: 'together' | 'correlated';
  r: number | null;
}

/** Groups of keys (two or more) that vary together over the rows with every key set. */
export function confoundedKeys(rows: readonly Record<string, unknown>[], keys: readonly string[]): Confounded[] {
  const usable = rows.filter((r) => keys.every((k) => r[k] !== undefined && r[k] !== null));
  if (usable.length < 3) return [];
  const col = (k: string) => usable.map((r) => r[k]);
  const varying = keys.filter((k) => new Set(col(k).map(text)).size > 1);
  const out: Confounded[] = [];
  const placed = new Set<string>();
  for (const [i, a] of varying.entries()) {
    if (placed.has(a)) continue;
    const group: string[] = [a];
    let how: Confounded['how'] = 'together';
    let r: number | null = null;
    for (const b of varying.slice(i + 1)) {
      if (placed.has(b)) continue;
      const [xa, xb] = [col(a), col(b)];
      const numeric = xa.every((v) => typeof v === 'number') && xb.every((v) => typeof v === 'number');
      const corr = numeric ? pearson(xa as number[], xb as number[]) : null;
      const sameOrder = numeric && Math.abs(spearman(xa as number[], xb as number[]) ?? 0) > 1 - 1e-9;
      if (sameOrder || pairedOneToOne(xa, xb)) group.push(b);
      else if (corr !== null && Math.abs(corr) >= 0.95) {
        group.push(b);
        how = 'correlated';
        r = corr;
      }
    }
    if (group.length > 1) {
      group.forEach((k) => placed.add(k));
      out.push({ keys: group, how, r });
    }
  }
  return out;
}
