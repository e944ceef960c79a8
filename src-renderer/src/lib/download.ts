// Turning api results into files the user can save.
export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) bin += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(bin);
}

/** In the desktop app the main process asks where to save (the system dialog) and writes the file. */
function desktopSave(filename: string, base64: () => Promise<string>): boolean {
  const host = typeof window !== 'undefined' ? window.vaeHost : undefined;
  if (!host) return false;
  void base64()
    .then((b64) => host.saveFile({ filename, base64: b64 }))
    .then((reply) => {
      if (!reply.ok) console.error(`saving ${filename} failed: ${reply.error.message}`);
    });
  return true;
}

export function saveBlob(blob: Blob, filename: string): void {
  if (desktopSave(filename, async () => bytesToBase64(new Uint8Array(await blob.arrayBuffer())))) return;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveText(text: string, filename: string, mime: string): void {
  saveBlob(new Blob([text], { type: mime }), filename);
}

export function saveBase64(b64: string, filename: string, mime: string): void {
  if (desktopSave(filename, async () => b64)) return;
  saveBlob(new Blob([base64ToBytes(b64)], { type: mime }), filename);
}

export function dataUrl(mime: string, b64: string): string {
  return `data:${mime};base64,${b64}`;
}

export async function readFileBase64(file: File): Promise<string> {
  return bytesToBase64(new Uint8Array(await file.arrayBuffer()));
}

export function decodeJson<T>(b64: string): T {
  return JSON.parse(new TextDecoder().decode(base64ToBytes(b64))) as T;
}

/** Save a chart's canvas as PNG on a white background (charts are drawn on a transparent canvas). */
export function saveCanvasPng(canvas: HTMLCanvasElement, filename: string): void {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  out.toBlob((blob) => blob && saveBlob(blob, filename), 'image/png');
}
