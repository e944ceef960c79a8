// Artifact bytes, fetched once and cached as data URLs (images) or parsed JSON (scatters, KL per dim).
import { api } from './api';
import { dataUrl, decodeJson } from './download';
import type { ArtifactKind, ArtifactMeta } from '@shared/model-types';
export { atEpoch, newestByKind } from './artifact-select';

const cache = new Map<number, Promise<{ mime: string; dataBase64: string }>>();

function fetchArtifact(id: number) {
  let p = cache.get(id);
  if (!p) {
    p = api['artifacts.get']({ artifactId: id });
    p.catch(() => cache.delete(id));
    cache.set(id, p);
  }
  return p;
}

export async function artifactUrl(id: number): Promise<string> {
  const a = await fetchArtifact(id);
  return dataUrl(a.mime, a.dataBase64);
}

export async function artifactJson<T>(id: number): Promise<T> {
  const a = await fetchArtifact(id);
  return decodeJson<T>(a.dataBase64);
}

export const IMAGE_KINDS: ArtifactKind[] = ['prior-samples', 'reconstructions', 'manifold', 'interpolation', 'traversal'];
export const KIND_TITLES: Record<ArtifactKind, string> = {
  'prior-samples': 'Prior samples',
  reconstructions: 'Reconstructions',
  manifold: 'Manifold (2-D latent)',
  interpolation: 'Interpolation',
  'latent-scatter': 'Latent scatter',
  'latent-pca': 'Latent scatter (PCA)',
  traversal: 'Latent traversal',
  'kl-per-dim': 'KL per latent dimension',
};

export function isImage(a: ArtifactMeta): boolean {
  return a.mime.startsWith('image/');
}

export function fileName(runId: number, kind: string, epoch: number, mime = 'image/png'): string {
  const ext = mime === 'image/png' ? 'png' : mime === 'application/json' ? 'json' : (mime.split('/')[1] ?? 'bin');
  return `run${runId}-${kind}-epoch${epoch}.${ext}`;
}
