// The caption of a latent traversal grid: which latent dimension each row shows and the range of z_j across the
// columns, from the picture's meta (the same words in the run view, the Samples view and Compare).
/**
 * What a latent traversal grid shows, from its meta (`dims`, `range`): which dimension each row is and the range of
 * z_j across the columns; '' when the meta does not say (older artifacts).
 */
export function traversalCaption(meta: Record<string, unknown> | undefined): string {
  const dims = Array.isArray(meta?.dims) ? (meta.dims as unknown[]).filter((d): d is number => typeof d === 'number') : [];
  const range = Array.isArray(meta?.range) ? (meta.range as unknown[]).filter((d): d is number => typeof d === 'number') : [];
  if (!dims.length) return '';
  const rows = dims.length === 1 ? `z${dims[0]}` : `rows top to bottom: ${dims.map((d) => `z${d}`).join(', ')}`;
  const cols = range.length === 2 ? `; left to right z_j from ${range[0]} to ${range[1]}, other coordinates 0` : '';
  return `Latent traversal of ${dims.length === 1 ? 'dimension ' : ''}${rows}${cols}`;
}
