// Drag-to-zoom on a chart.js chart's x axis (no plugin): drag across the plot area to select an x range.
import type { Chart } from 'chart.js';

export function attachDragZoom(chart: Chart, onZoom: (min: number, max: number) => void): () => void {
  const canvas = chart.canvas;
  const parent = canvas.parentElement!;
  const band = document.createElement('div');
  band.className = 'zoom-band';
  band.style.display = 'none';
  parent.appendChild(band);
  let startX: number | null = null;

  const localX = (e: PointerEvent) => e.clientX - canvas.getBoundingClientRect().left;
  const clampX = (x: number) => Math.min(chart.chartArea.right, Math.max(chart.chartArea.left, x));

  function down(e: PointerEvent) {
    if (e.button !== 0) return;
    const x = localX(e);
    if (x < chart.chartArea.left || x > chart.chartArea.right) return;
    startX = x;
    canvas.setPointerCapture(e.pointerId);
  }
  function move(e: PointerEvent) {
    if (startX === null) return;
    const x = clampX(localX(e));
    const a = Math.min(startX, x);
    const b = Math.max(startX, x);
    Object.assign(band.style, {
      display: 'block',
      left: `${canvas.offsetLeft + a}px`,
      width: `${b - a}px`,
      top: `${canvas.offsetTop + chart.chartArea.top}px`,
      height: `${chart.chartArea.bottom - chart.chartArea.top}px`,
    });
  }
  function up(e: PointerEvent) {
    if (startX === null) return;
    const x = clampX(localX(e));
    const a = Math.min(startX, x);
    const b = Math.max(startX, x);
    startX = null;
    band.style.display = 'none';
    if (b - a < 6) return;
    const scale = chart.scales.x;
    if (!scale) return;
    onZoom(scale.getValueForPixel(a)!, scale.getValueForPixel(b)!);
  }
  canvas.addEventListener('pointerdown', down);
  canvas.addEventListener('pointermove', move);
  canvas.addEventListener('pointerup', up);
  canvas.addEventListener('pointercancel', up);
  return () => {
    canvas.removeEventListener('pointerdown', down);
    canvas.removeEventListener('pointermove', move);
    canvas.removeEventListener('pointerup', up);
    canvas.removeEventListener('pointercancel', up);
    band.remove();
  };
}
