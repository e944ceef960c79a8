// Choosing artifacts: newest per kind, the one shown at a given epoch. Pure.
import type { ArtifactKind, ArtifactMeta } from '@shared/model-types';

/** The newest artifact of each kind. */
export function newestByKind(list: ArtifactMeta[]): Map<ArtifactKind, ArtifactMeta> {
  const m = new Map<ArtifactKind, ArtifactMeta>();
  for (const a of list) {
    const cur = m.get(a.kind);
    if (!cur || a.epoch > cur.epoch || (a.epoch === cur.epoch && a.id > cur.id)) m.set(a.kind, a);
  }
  return m;
}

/** The artifact at the greatest epoch <= epoch, or null when every one is later. */
export function atEpoch(list: ArtifactMeta[], epoch: number): ArtifactMeta | null {
  let best: ArtifactMeta | null = null;
  for (const a of list) if (a.epoch <= epoch && (!best || a.epoch > best.epoch || (a.epoch === best.epoch && a.id > best.id))) best = a;
  return best;
}
