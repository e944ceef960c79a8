// Compare's whole view as a URL query and back: runs, metric, x axis and log scales, smoothing, grouping and band,
// colour, parallel-coordinates axes and brushes, scatter settings, the epoch of the per-epoch table and the panels
// shown. The query is what the address bar holds (so reload and back/forward restore the view) and what a saved
// workspace keeps. Defaults are left out of the query; anything malformed in a query is ignored, never thrown.
import type { ChartSmoothing } from '@shared/smoothing';
import type { Brush } from './brush';
import type { Band } from './groups';

/** The panels of Compare that can be hidden (the curves always show). */
export const COMPARE_PANELS = [
  { id: 'parcoords', label: 'Parallel coordinates' },
  { id: 'final', label: 'Final metrics' },
  { id: 'scatter', label: 'Scatter' },
  { id: 'rate', label: 'Rate–distortion plane' },
  { id: 'importance', label: 'Hyperparameter importance' },
  { id: 'epoch', label: 'Metrics at one epoch' },
  { id: 'samples', label: 'Samples' },
  { id: 'traversals', label: 'Traversals' },
] as const;
export type ComparePanel = (typeof COMPARE_PANELS)[number]['id'];

export interface CompareState {
  ids: number[];
  /** The curves' metric; null = the default (train/loss when logged). */
  metric: string | null;
  x: string;
  logX: boolean;
  logY: boolean;
  smoothing: ChartSmoothing;
  group: 'none' | 'seed' | 'keys';
  groupKeys: string[];
  band: Band;
  /** Colour the curves by this key ('' = by run); null = not chosen (the most telling hyperparameter). */
  colorBy: string | null;
  /** The final metric that colours parallel coordinates; null = the default. */
  pcMetric: string | null;
  /** Parallel-coordinates axes in order; empty = the default set. */
  axes: string[];
  brushes: Brush[];
  scatter: { x: string | null; y: string | null; color: string; logX: boolean; logY: boolean };
  /** The epoch of the per-epoch table; null = the last one every run reached. */
  epoch: number | null;
  showSame: boolean;
  hidden: ComparePanel[];
}

export function defaultCompareState(ids: number[] = []): CompareState {
  return {
    ids,
    metric: null,
    x: 'step',
    logX: false,
    logY: false,
    smoothing: { kind: 'none', window: 100 },
    group: 'none',
    groupKeys: [],
    band: 'minmax',
    colorBy: null,
    pcMetric: null,
    axes: [],
    brushes: [],
    scatter: { x: null, y: null, color: '', logX: false, logY: false },
    epoch: null,
    showSame: false,
    hidden: [],
  };
}

const list = (v: string | null): string[] => (v ? v.split(',').filter(Boolean) : []);
const flag = (q: URLSearchParams, k: string): boolean => q.get(k) === '1';

function parseBrushes(text: string | null): Brush[] {
  if (!text) return [];
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (b): b is Brush =>
        !!b &&
        typeof b === 'object' &&
        typeof (b as { key?: unknown }).key === 'string' &&
        ((typeof (b as { min?: unknown }).min === 'number' && typeof (b as { max?: unknown }).max === 'number') ||
          (Array.isArray((b as { values?: unknown }).values) && (b as { values: unknown[] }).values.every((x) => typeof x === 'string'))),
    );
  } catch {
    return [];
  }
}

function parseSmoothing(text: string | null): ChartSmoothing {
  const m = /^(ema|mean):(\d+)$/.exec(text ?? '');
  return m ? { kind: m[1] as 'ema' | 'mean', window: Math.max(1, Number(m[2])) } : { kind: 'none', window: 100 };
}

/** The view a query describes (defaults for what it leaves out or gets wrong). */
export function decodeCompareState(q: URLSearchParams): CompareState {
  const d = defaultCompareState();
  const ids = [
    ...new Set(
      list(q.get('ids'))
        .map((s) => Number(s.trim()))
        .filter((n) => Number.isInteger(n) && n > 0),
    ),
  ];
  const group = q.get('group');
  const epoch = Number(q.get('epoch'));
  return {
    ids,
    metric: q.get('metric') || null,
    x: q.get('x') || d.x,
    logX: flag(q, 'logx'),
    logY: flag(q, 'logy'),
    smoothing: parseSmoothing(q.get('smooth')),
    group: group === 'seed' || group === 'keys' ? group : 'none',
    groupKeys: list(q.get('gkeys')),
    band: q.get('band') === 'std' ? 'std' : 'minmax',
    colorBy: q.has('color') ? q.get('color')! : null,
    pcMetric: q.get('pcm') || null,
    axes: list(q.get('axes')),
    brushes: parseBrushes(q.get('brush')),
    scatter: {
      x: q.get('sx') || null,
      y: q.get('sy') || null,
      color: q.get('sc') ?? '',
      logX: flag(q, 'slogx'),
      logY: flag(q, 'slogy'),
    },
    epoch: q.has('epoch') && Number.isFinite(epoch) ? epoch : null,
    showSame: flag(q, 'same'),
    hidden: list(q.get('hide')).filter((p): p is ComparePanel => COMPARE_PANELS.some((x) => x.id === p)),
  };
}

/** The query for a view: only what differs from the defaults, in a fixed order (equal views give equal queries). */
export function encodeCompareState(s: CompareState): string {
  const parts: string[] = [];
  // readable in the address bar: commas, slashes and colons stay as they are (URLSearchParams reads them back alike)
  const set = (k: string, v: string | null | false | undefined) => {
    if (v !== null && v !== false && v !== undefined)
      parts.push(`${k}=${encodeURIComponent(v).replace(/%2C/g, ',').replace(/%2F/g, '/').replace(/%3A/g, ':')}`);
  };
  set('ids', s.ids.join(','));
  set('metric', s.metric);
  set('x', s.x !== 'step' && s.x);
  set('logx', s.logX && '1');
  set('logy', s.logY && '1');
  set('smooth', s.smoothing.kind !== 'none' && `${s.smoothing.kind}:${Math.max(1, Math.round(s.smoothing.window) || 1)}`);
  set('group', s.group !== 'none' && s.group);
  set('gkeys', s.group === 'keys' && s.groupKeys.length > 0 && s.groupKeys.join(','));
  set('band', s.group !== 'none' && s.band !== 'minmax' && s.band);
  set('color', s.colorBy);
  set('pcm', s.pcMetric);
  set('axes', s.axes.length > 0 && s.axes.join(','));
  set('brush', s.brushes.length > 0 && JSON.stringify(s.brushes));
  set('sx', s.scatter.x);
  set('sy', s.scatter.y);
  set('sc', s.scatter.color !== '' && s.scatter.color);
  set('slogx', s.scatter.logX && '1');
  set('slogy', s.scatter.logY && '1');
  set('epoch', s.epoch !== null && String(s.epoch));
  set('same', s.showSame && '1');
  set('hide', s.hidden.length > 0 && s.hidden.join(','));
  return parts.join('&');
}
