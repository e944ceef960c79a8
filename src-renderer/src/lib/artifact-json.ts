// Tolerant readers for the JSON artifacts (latent scatter, KL per dimension).
export interface ScatterData {
  points: [number, number][];
  labels: (number | string)[];
  labelNames: string[] | null;
  axes: [string, string];
}

function asPairs(raw: unknown): [number, number][] {
  if (!Array.isArray(raw)) return [];
  if (raw.length && typeof raw[0] === 'number') {
    const out: [number, number][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) out.push([Number(raw[i]), Number(raw[i + 1])]);
    return out;
  }
  return raw.map((p): [number, number] => {
    if (Array.isArray(p)) return [Number(p[0]), Number(p[1])];
    const o = p as Record<string, unknown>;
    return [Number(o.x ?? o[0]), Number(o.y ?? o[1])];
  });
}

export function readScatter(json: unknown, kind: string): ScatterData {
  const o = (json ?? {}) as Record<string, unknown>;
  const points = asPairs(Array.isArray(json) ? json : (o.points ?? o.z ?? o.coords));
  const labelsRaw = Array.isArray(o.labels) ? (o.labels as (number | string)[]) : [];
  const labelNames = Array.isArray(o.labelNames) ? (o.labelNames as string[]) : Array.isArray(o.classes) ? (o.classes as string[]) : null;
  const pca = kind === 'latent-pca';
  return { points, labels: labelsRaw, labelNames, axes: pca ? ['PC 1', 'PC 2'] : ['z₁', 'z₂'] };
}

export function readKl(json: unknown): number[] {
  if (Array.isArray(json)) return json.map(Number);
  const o = (json ?? {}) as Record<string, unknown>;
  for (const key of ['values', 'kl', 'klPerDim', 'perDim']) if (Array.isArray(o[key])) return (o[key] as unknown[]).map(Number);
  for (const v of Object.values(o)) if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  return [];
}
