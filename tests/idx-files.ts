// A folder of the four MNIST IDX files (train-images-idx3-ubyte, ...), written from digits already in memory: the
// suites that need a real mnist-full folder make one from the bundled digits (the real 70,000 are not on these
// machines).
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** An IDX file of unsigned bytes: magic (type 0x08, rank), big-endian dims, then the bytes. */
function idx(dims: number[], bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(0x0800 | dims.length, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(bytes)]);
}

interface Digits {
  x: Float32Array;
  y: ArrayLike<number> | null;
}

/** Write the first nTrain / nTest 28x28 digits (values in [0, 1]) of train / test as the four IDX files of dir. */
export function writeIdxFolder(dir: string, train: Digits, test: Digits, nTrain: number, nTest: number): void {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, d: Digits, n: number) => {
    const labels = d.y;
    if (!labels) throw new Error(`writeIdxFolder: the ${name} digits have no labels`);
    writeFileSync(
      path.join(dir, `${name}-images-idx3-ubyte`),
      idx(
        [n, 28, 28],
        Uint8Array.from(d.x.subarray(0, n * 784), (v) => Math.round(v * 255)),
      ),
    );
    writeFileSync(
      path.join(dir, `${name}-labels-idx1-ubyte`),
      idx(
        [n],
        Uint8Array.from({ length: n }, (_, i) => labels[i]!),
      ),
    );
  };
  write('train', train, nTrain);
  write('t10k', test, nTest);
}
