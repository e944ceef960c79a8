// Optional downloads of the larger datasets into `${dataHome}/datasets/<id>/`, where their loaders look when
// data.path is absent. Never needed for the bundled default (mnist) or by tests; offline it fails with a clear
// message saying where to put a local copy instead.
//
// Checksums (SHA-256):
//   - mnist-full: of the four .gz files as served by the mirrors below; the values agree across many public
//     projects but were not re-computed on this machine (no network here).
//   - fashion-mnist: of the DECOMPRESSED IDX bytes, computed here from Debian's dataset-fashion-mnist copy, so a
//     re-compressed mirror copy also passes.
//   - cifar10: of cifar-10-binary.tar.gz (170,052,171 bytes); published by several projects, not re-computed here.
// Files are written as <name>.part, checked, then renamed; files already present with a good checksum are kept.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { DatasetError } from './types';

export interface RemoteFile {
  name: string;
  /** Approximate size for progress when the server sends no length. */
  bytes: number;
  /** SHA-256 of the file as downloaded. */
  sha256?: string;
  /** SHA-256 of the gunzipped content (for .gz files). */
  contentSha256?: string;
  /** For a .tar.gz archive: the member base names to extract into the dataset directory. */
  extract?: string[];
}

export interface DownloadSpec {
  id: string;
  /** Base URLs tried in order; a file's URL is base + name. */
  mirrors: string[];
  files: RemoteFile[];
  checksumNote: string;
}

export const DOWNLOADS: Record<string, DownloadSpec> = {
  'mnist-full': {
    id: 'mnist-full',
    mirrors: ['https://storage.googleapis.com/cvdf-datasets/mnist/', 'https://ossci-datasets.s3.amazonaws.com/mnist/'],
    files: [
      { name: 'train-images-idx3-ubyte.gz', bytes: 9912422, sha256: '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609' },
      { name: 'train-labels-idx1-ubyte.gz', bytes: 28881, sha256: '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c' },
      { name: 't10k-images-idx3-ubyte.gz', bytes: 1648877, sha256: '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6' },
      { name: 't10k-labels-idx1-ubyte.gz', bytes: 4542, sha256: 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6' },
    ],
    checksumNote: 'SHA-256 of the .gz files as published by many projects; not re-computed on the development machine',
  },
  'fashion-mnist': {
    id: 'fashion-mnist',
    mirrors: [
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/',
    ],
    files: [
      {
        name: 'train-images-idx3-ubyte.gz',
        bytes: 26421880,
        contentSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
      },
      {
        name: 'train-labels-idx1-ubyte.gz',
        bytes: 29515,
        contentSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
      },
      {
        name: 't10k-images-idx3-ubyte.gz',
        bytes: 4422102,
        contentSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
      },
      { name: 't10k-labels-idx1-ubyte.gz', bytes: 5148, contentSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34' },
    ],
    checksumNote: "SHA-256 of the decompressed IDX files, computed from Debian's dataset-fashion-mnist package (verified)",
  },
  cifar10: {
    id: 'cifar10',
    mirrors: ['https://www.cs.toronto.edu/~kriz/'],
    files: [
      {
        name: 'cifar-10-binary.tar.gz',
        bytes: 170052171,
        sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
        extract: [
          'data_batch_1.bin',
          'data_batch_2.bin',
          'data_batch_3.bin',
          'data_batch_4.bin',
          'data_batch_5.bin',
          'test_batch.bin',
          'batches.meta.txt',
        ],
      },
    ],
    checksumNote: 'SHA-256 of cifar-10-binary.tar.gz as published by several projects; not re-computed on the development machine',
  },
};

/** Datasets that need no download (bundled or generated). */
const LOCAL_ONLY = new Set(['mnist', 'mnist-14x14-even', 'ica-synthetic']);

export interface DownloadOptions {
  dataHome: string;
  onProgress?: (fraction: number, message: string) => void;
  signal?: AbortSignal;
  /** Replace the built-in mirrors (a local copy served over HTTP, tests). */
  mirrors?: string[];
}

export interface DownloadResult {
  id: string;
  dir: string;
  /** Files fetched now, and files that were already present and verified. */
  downloaded: string[];
  reused: string[];
}

function sha256(buf: Buffer): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** Check a downloaded buffer against the spec; returns a problem or null. */
function checkFile(file: RemoteFile, buf: Buffer): string | null {
  if (file.sha256) {
    const got = sha256(buf);
    if (got !== file.sha256) return `SHA-256 mismatch: expected ${file.sha256}, got ${got}`;
  }
  if (file.contentSha256) {
    let content: Buffer;
    try {
      content = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b ? zlib.gunzipSync(buf) : buf;
    } catch (e) {
      return `corrupt gzip data (${(e as Error).message})`;
    }
    const got = sha256(content);
    if (got !== file.contentSha256) return `SHA-256 mismatch of the decompressed content: expected ${file.contentSha256}, got ${got}`;
  }
  return null;
}

async function fetchOnce(url: string, opts: DownloadOptions, report: (bytes: number) => void): Promise<Buffer> {
  const response = await fetch(url, { signal: opts.signal, redirect: 'follow' });
  if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  const chunks: Buffer[] = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    received += value.length;
    report(received);
  }
  return Buffer.concat(chunks);
}

/** Extract the named members (by base name) of a gzipped ustar archive into dir. */
export function extractTarGz(archive: Buffer, members: string[], dir: string, name: string): string[] {
  let tar: Buffer;
  try {
    tar = zlib.gunzipSync(archive);
  } catch (e) {
    throw new DatasetError(`${name}: corrupt gzip data (${(e as Error).message})`);
  }
  const wanted = new Set(members);
  const written: string[] = [];
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => header.toString('latin1', from, from + len).replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const entry = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    if (!Number.isFinite(size) || size < 0) throw new DatasetError(`${name}: corrupt tar header at byte ${at}`);
    const body = at + 512;
    if (body + size > tar.length) throw new DatasetError(`${name}: truncated archive (member ${entry})`);
    const base = path.posix.basename(entry);
    if ((type === '0' || type === '\0') && wanted.has(base)) {
      fs.writeFileSync(path.join(dir, base), tar.subarray(body, body + size));
      written.push(base);
    }
    at = body + Math.ceil(size / 512) * 512;
  }
  const missing = members.filter((m) => !written.includes(m) && !m.endsWith('.txt'));
  if (missing.length) throw new DatasetError(`${name}: the archive lacks ${missing.join(', ')}`);
  return written;
}

/** Download a dataset into `${dataHome}/datasets/<id>`, verifying checksums; throws DatasetError when it cannot. */
export async function downloadDataset(id: string, opts: DownloadOptions): Promise<DownloadResult> {
  const dir = path.join(path.resolve(opts.dataHome), 'datasets', id);
  if (LOCAL_ONLY.has(id)) {
    opts.onProgress?.(1, `${id} needs no download`);
    return { id, dir, downloaded: [], reused: [] };
  }
  const spec = DOWNLOADS[id];
  if (!spec)
    throw new DatasetError(
      `no download is known for dataset "${id}"; downloadable: ${Object.keys(DOWNLOADS).join(', ')}` +
        (id === 'import' ? ' (import reads a file you provide in data.path)' : ''),
    );
  fs.mkdirSync(dir, { recursive: true });
  const mirrors = opts.mirrors ?? spec.mirrors;
  const total = spec.files.reduce((s, f) => s + f.bytes, 0);
  let before = 0;
  const downloaded: string[] = [];
  const reused: string[] = [];
  for (const file of spec.files) {
    const target = path.join(dir, file.name);
    const extractedAll = file.extract?.every((m) => m.endsWith('.txt') || fs.existsSync(path.join(dir, m)));
    if (file.extract ? extractedAll : fs.existsSync(target) && checkFile(file, fs.readFileSync(target)) === null) {
      reused.push(file.name);
      before += file.bytes;
      opts.onProgress?.(before / total, `${file.name} already present`);
      continue;
    }
    const failures: string[] = [];
    let buf: Buffer | null = null;
    for (const base of mirrors) {
      const url = base + file.name;
      opts.onProgress?.(before / total, `downloading ${url}`);
      try {
        const got = await fetchOnce(url, opts, (bytes) =>
          opts.onProgress?.((before + Math.min(bytes, file.bytes)) / total, `downloading ${file.name}: ${(bytes / 1e6).toFixed(1)} MB`),
        );
        const problem = checkFile(file, got);
        if (problem) {
          failures.push(`${url}: ${problem}`);
          continue;
        }
        buf = got;
        break;
      } catch (e) {
        if (opts.signal?.aborted) throw new DatasetError(`download of ${id} cancelled`);
        const err = e as Error & { cause?: { code?: string; message?: string } };
        failures.push(`${url}: ${err.cause?.code ?? err.cause?.message ?? err.message}`);
      }
    }
    if (!buf)
      throw new DatasetError(
        `could not download ${file.name} for ${id} (no network, or every mirror failed: ${failures.join('; ')}). ` +
          `Put a local copy of the files in ${dir} or set data.path to a directory holding them.`,
      );
    if (file.extract) {
      opts.onProgress?.((before + file.bytes) / total, `extracting ${file.name}`);
      extractTarGz(buf, file.extract, dir, file.name);
    } else {
      const part = `${target}.part`;
      fs.writeFileSync(part, buf);
      fs.renameSync(part, target);
    }
    downloaded.push(file.name);
    before += file.bytes;
  }
  opts.onProgress?.(1, `${id} ready in ${dir}`);
  return { id, dir, downloaded, reused };
}
