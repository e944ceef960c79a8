// A comparison as one self-contained HTML file: the runs, their hyperparameter diff, the final metrics (per group
// when grouped), every chart on the page as an image (canvases as PNG, SVG charts inline) and each run's newest
// sample images, all as data URIs. No script, no external reference: it opens offline in any browser.
import { api } from './api';
import { artifactUrl, newestByKind } from './artifacts';
import { saveText } from './download';
import { fmtNum, fmtValue } from './format';
import { summarize, type RunGroup } from './groups';
import { FIGURES_NOTE, metricLabel } from '@shared/metric-labels';
import type { CallOutput } from '@shared/contract';
import type { ArtifactMeta, RunSummary } from '@shared/model-types';

export interface ReportInput {
  title?: string;
  runs: RunSummary[];
  diff: CallOutput<'runs.paramDiff'>;
  finalKeys: string[];
  groups: RunGroup[] | null;
  /** Figures: a title and an image data URI each. */
  charts: { title: string; src: string }[];
  /** Per run: sample images (title, data URI). */
  samples: Map<number, { title: string; src: string }[]>;
  createdAt: Date;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const CSS = `body{font:13px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.differs th{background:#fff7e0}figure{display:inline-block;margin:8px;vertical-align:top}figure img{max-width:880px;border:1px solid #eee}
.samples img{height:120px;image-rendering:pixelated}h2{margin-top:28px}.muted{color:#777}`;

/** The report's HTML (pure: every image already a data URI). */
export function buildReport(r: ReportInput): string {
  const ids = r.runs.map((x) => x.id);
  const e = escapeHtml;
  const head = `<tr><th>key</th>${ids.map((id) => `<th>#${id}</th>`).join('')}</tr>`;
  const diffRows = r.diff
    .filter((d) => d.differs)
    .map((d) => `<tr class="differs"><th>${e(d.key)}</th>${d.values.map((v) => `<td>${e(fmtValue(v))}</td>`).join('')}</tr>`)
    .join('');
  const sameCount = r.diff.filter((d) => !d.differs).length;
  const runRows = r.runs
    .map(
      (x) =>
        `<tr><td>#${x.id}</td><td>${e(x.name)}</td><td>${e(x.status)}</td><td>${e(x.dataset)}</td><td>${x.seed}</td>${r.finalKeys.map((k) => `<td class="num">${e(fmtNum(x.final[k]))}</td>`).join('')}</tr>`,
    )
    .join('');
  const groupRows = (r.groups ?? [])
    .map((g) => {
      const members = r.runs.filter((x) => g.runIds.includes(x.id));
      const cells = r.finalKeys.map((k) => {
        const s = summarize(members.map((x) => x.final[k]));
        return `<td class="num">${s ? `${e(fmtNum(s.mean))} ± ${e(fmtNum(s.std, 2))}` : '—'}</td>`;
      });
      return `<tr><td>${e(g.label)}</td><td class="num">${g.runIds.length}</td>${cells.join('')}</tr>`;
    })
    .join('');
  // labelled with the n and k of the first run (the note below the table says so)
  const finalHead = r.finalKeys.map((k) => `<th>${e(metricLabel(k, r.runs[0]?.final))}</th>`).join('');
  const charts = r.charts
    .map((c) => `<figure><img alt="${e(c.title)}" src="${c.src}"><figcaption>${e(c.title)}</figcaption></figure>`)
    .join('');
  const samples = r.runs
    .map((x) => {
      const imgs = r.samples.get(x.id) ?? [];
      if (!imgs.length) return '';
      return `<h3>#${x.id} ${e(x.name)}</h3><div class="samples">${imgs.map((i) => `<figure><img alt="${e(i.title)}" src="${i.src}"><figcaption>${e(i.title)}</figcaption></figure>`).join('')}</div>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${e(r.title ?? `Comparison of ${ids.length} runs`)}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"><style>${CSS}</style></head><body>
<h1>${e(r.title ?? `Comparison of ${ids.length} runs`)}</h1><p class="muted">VAE Workbench report, ${e(r.createdAt.toISOString())} · runs ${ids.map((id) => `#${id}`).join(', ')} · losses in nats per example, lower is better</p>
<h2>Runs and final metrics</h2><table><tr><th>id</th><th>name</th><th>status</th><th>dataset</th><th>seed</th>${finalHead}</tr>${runRows}</table>
<p class="muted">${e(FIGURES_NOTE)}${r.runs[0] ? ` Headers give n and k of run #${r.runs[0].id}.` : ''}</p>
${r.groups ? `<h2>Groups (mean ± std)</h2><table><tr><th>group</th><th>n</th>${finalHead}</tr>${groupRows}</table>` : ''}
<h2>Hyperparameters that differ</h2><table>${head}${diffRows}</table><p class="muted">${sameCount} hyperparameters are identical across these runs.</p>
<h2>Charts</h2>${charts || '<p class="muted">no charts</p>'}
<h2>Samples</h2>${samples || '<p class="muted">no sample images</p>'}
</body></html>`;
}

/** The properties that draw an SVG chart; component (scoped) CSS does not travel with a serialised SVG. */
const SVG_STYLE_PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'opacity',
  'font-size',
  'font-weight',
  'visibility',
  'display',
];

/**
 * Copy the computed drawing properties of every element of `svg` onto the same element of its `clone`, so the
 * image looks as on the page: without this, shapes styled by CSS classes (the brush areas and the transparent hit
 * areas of parallel coordinates) fall back to SVG's default black fill (issue 24).
 */
export function inlineSvgStyles(svg: SVGSVGElement, clone: SVGSVGElement): void {
  const from = [svg, ...svg.querySelectorAll('*')];
  const to = [clone, ...clone.querySelectorAll('*')];
  from.forEach((el, i) => {
    const target = to[i];
    if (!target || !(el instanceof SVGElement)) return;
    const cs = getComputedStyle(el);
    const style = SVG_STYLE_PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(';');
    target.setAttribute('style', `${target.getAttribute('style') ?? ''};${style}`);
  });
}

/** Every chart in `root` as an image: chart.js canvases as PNG, SVG charts serialised (with their title). */
export function chartImages(root: HTMLElement): { title: string; src: string }[] {
  const out: { title: string; src: string }[] = [];
  for (const panel of root.querySelectorAll<HTMLElement>('section.panel')) {
    const title = panel.querySelector('h2')?.childNodes[0]?.textContent?.trim() ?? 'chart';
    for (const c of panel.querySelectorAll('canvas')) if (c.width > 0) out.push({ title, src: c.toDataURL('image/png') });
    for (const svg of panel.querySelectorAll<SVGSVGElement>('svg[viewBox]')) {
      const clone = svg.cloneNode(true) as SVGSVGElement;
      inlineSvgStyles(svg, clone);
      clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
      const vb = svg.viewBox.baseVal;
      clone.setAttribute('width', String(vb.width));
      clone.setAttribute('height', String(vb.height));
      clone.insertAdjacentHTML('afterbegin', '<style>text{font:10px sans-serif}</style>');
      const xml = new XMLSerializer().serializeToString(clone);
      out.push({ title, src: `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(xml)))}` });
    }
  }
  return out;
}

/** Each run's newest prior samples and reconstructions as data URIs. */
async function sampleImages(runs: RunSummary[]): Promise<Map<number, { title: string; src: string }[]>> {
  const out = new Map<number, { title: string; src: string }[]>();
  for (const r of runs) {
    const newest = newestByKind(await api['runs.artifacts']({ runId: r.id }));
    const list: { title: string; src: string }[] = [];
    for (const kind of ['prior-samples', 'reconstructions'] as const) {
      const a: ArtifactMeta | undefined = newest.get(kind);
      if (a) list.push({ title: `${kind}, epoch ${a.epoch}`, src: await artifactUrl(a.id) });
    }
    out.set(r.id, list);
  }
  return out;
}

export async function exportReport(opts: {
  runs: RunSummary[];
  diff: CallOutput<'runs.paramDiff'>;
  finalKeys: string[];
  groups: RunGroup[] | null;
  metric: string;
  root: HTMLElement;
}): Promise<string> {
  const html = buildReport({
    runs: opts.runs,
    diff: opts.diff,
    finalKeys: opts.finalKeys,
    groups: opts.groups,
    charts: chartImages(opts.root),
    samples: await sampleImages(opts.runs.slice(0, 50)),
    createdAt: new Date(),
  });
  saveText(
    html,
    `compare-${opts.runs
      .map((r) => r.id)
      .slice(0, 8)
      .join('-')}.html`,
    'text/html',
  );
  return html;
}
