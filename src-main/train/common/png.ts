// Image grids as PNG (pngjs): many same-sized images laid out in rows and columns with 1px gaps.
import { PNG } from 'pngjs';

export interface GridLayout {
  rows: number;
  cols: number;
  cellWidth: number;
  cellHeight: number;
  gap: number;
}

export interface GridImage {
  png: Buffer;
  width: number;
  height: number;
  layout: GridLayout;
}

/**
 * Lay out `count` images (row-major count x (h*w*c), values in [0,1], channel-last) in a rows x cols grid.
 * Grey for c = 1, RGB for c = 3; cells left empty and the gaps take the background grey level.
 */
export function gridPng(
  images: ArrayLike<number>,
  count: number,
  shape: [number, number, number],
  rows: number,
  cols: number,
  opts: { gap?: number; background?: number } = {},
): GridImage {
  const [h, w, c] = shape;
  if (c !== 1 && c !== 3) throw new Error(`gridPng: images need 1 or 3 channels, got ${c}`);
  if (count > rows * cols) throw new Error(`gridPng: ${count} images do not fit ${rows}x${cols}`);
  const gap = opts.gap ?? 1;
  const bg = Math.round(255 * Math.min(1, Math.max(0, opts.background ?? 0.5)));
  const width = cols * w + (cols - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const png = new PNG({ width, height });
  png.data.fill(bg);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  const per = h * w * c;
  for (let k = 0; k < count; k++) {
    const r = Math.floor(k / cols);
    const col = k % cols;
    const x0 = col * (w + gap);
    const y0 = r * (h + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = ((y0 + y) * width + (x0 + x)) * 4;
        const s = k * per + (y * w + x) * c;
        for (let ch = 0; ch < 3; ch++) {
          const v = Number(images[s + (c === 1 ? 0 : ch)]);
          png.data[o + ch] = Number.isFinite(v) ? Math.round(255 * Math.min(1, Math.max(0, v))) : 0;
        }
      }
    }
  }
  const buf = PNG.sync.write(png, { colorType: c === 1 ? 0 : 2, inputColorType: 6, inputHasAlpha: true });
  return { png: buf, width, height, layout: { rows, cols, cellWidth: w, cellHeight: h, gap } };
}

/** Decode a PNG into RGBA bytes (tests, thumbnails). */
export function readPng(buf: Buffer): { width: number; height: number; data: Buffer } {
  const png = PNG.sync.read(buf);
  return { width: png.width, height: png.height, data: png.data };
}
