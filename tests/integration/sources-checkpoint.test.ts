// A checkpoint saved from PyTorch, in the workbench: a pytorch/examples-style MLP VAE trained in PyTorch on the
// bundled MNIST digits is saved with run.save_checkpoint(model) into a watched folder; the workbench evaluates that
// checkpoint (runs.evaluate: its own evaluateSplit on the same test digits) and PyTorch recomputes the figures with
// vaewb.torch.evaluate on the same weights: -ELBO, recon, KL, -log p(x) and the inference gap agree within 0.1 nats
// (200 samples per digit for the recon term and k = 200 on 500 digits, so the Monte-Carlo error of the difference
// is ~0.05 nats), KL per dimension and both active-unit counts match. Then the workbench generates prior samples,
// a traversal and reconstructions from that checkpoint (runs.generate, what the Samples view's buttons call): the
// traversal sweeps each dimension as the workbench's own, and the images are written to test-results/screenshots
// (looked at: digits). Needs Debian's python3-torch; skipped with the reason where it is missing.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, WorkbenchService, loadDataset, parseRunConfig, readPng } from '../built';

const PYTHON = process.env.VAE_WORKBENCH_PYTHON ?? '/usr/bin/python3';
const CLIENT = path.join(ROOT, 'clients', 'python');
const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const torchReason = !existsSync(PYTHON)
  ? `${PYTHON} does not exist`
  : spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0
    ? `PyTorch is not installed for ${PYTHON} (apt-get install python3-torch libopenblas0-pthread)`
    : null;
if (torchReason) console.warn(`PyTorch checkpoint tests skipped: ${torchReason}`);

const home = mkdtempSync(path.join(os.tmpdir(), 'vaewb-ckpt-'));
const source = path.join(home, 'runs');
mkdirSync(source);
let service: WorkbenchService | null = null;
afterAll(async () => service?.close());

const EXAMPLES = 500;
const K = 200;
const SAMPLES = 200;

const SCRIPT = `
import sys, json
sys.path.insert(0, ${JSON.stringify(CLIENT)})
import torch, torch.nn as nn, torch.nn.functional as F
import vaewb
from vaewb.torch import evaluate
train_file, test_file, runs = sys.argv[1], sys.argv[2], sys.argv[3]
load = lambda f: torch.frombuffer(bytearray(open(f, 'rb').read()), dtype=torch.float32).reshape(-1, 784)
train, test = load(train_file), load(test_file)
class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 200), nn.Linear(200, 10), nn.Linear(200, 10)
        self.fc3, self.fc4 = nn.Linear(10, 200), nn.Linear(200, 784)
    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)
    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))
torch.manual_seed(1)
model = VAE()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loader = torch.utils.data.DataLoader(train, batch_size=100, shuffle=True)
with vaewb.init(project='ckpt', name='pytorch checkpoint', config={'dataset': 'mnist'}, dir=runs) as run:
    for epoch in range(1, 6):
        for x in loader:
            mu, logvar = model.encode(x)
            z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            loss = (F.binary_cross_entropy_with_logits(model.decode(z), x, reduction='sum')
                    - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())) / len(x)
            opt.zero_grad(); loss.backward(); opt.step()
    run.save_checkpoint(model, epoch=5)
test_loader = torch.utils.data.DataLoader(test[:${EXAMPLES}], batch_size=100)
print(json.dumps(evaluate(model, test_loader, likelihood='bernoulli', k=${K}, nll_examples=0, samples=${SAMPLES}, seed=2)))
`;

/** Spread of the pixel values across images: near 0 for a blank or one repeated blob. */
function pixelSpread(x: Float32Array, n: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * d + j]!;
    m /= n;
    for (let i = 0; i < n; i++) s += (x[i * d + j]! - m) ** 2;
  }
  return Math.sqrt(s / n / d);
}

/** The cells of a generated grid (28x28 digits, `gap` pixels apart), as rows * cols x 784 grey values. */
function cells(png: Buffer, rows: number, cols: number, gap: number): Float32Array {
  const img = readPng(png);
  const out = new Float32Array(rows * cols * 784);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++)
      for (let y = 0; y < 28; y++)
        for (let x = 0; x < 28; x++) {
          const px = ((r * (28 + gap) + y) * img.width + c * (28 + gap) + x) * 4; // RGBA
          out[(r * cols + c) * 784 + y * 28 + x] = img.data[px]! / 255;
        }
  return out;
}

describe.skipIf(!!torchReason)('a checkpoint saved from PyTorch, evaluated and sampled in the workbench', () => {
  it(
    'its evaluation agrees with PyTorch within 0.1 nats; prior samples, traversals and reconstructions are made from it',
    { timeout: 600_000 },
    async () => {
      service = new WorkbenchService({ host: 'cli', dataHome: path.join(home, 'data') });
      // the digits of the checkpoint's own config ({dataset: mnist}): the test split the workbench evaluates on
      const config = parseRunConfig({ data: { dataset: 'mnist' } });
      const data = await loadDataset(config.data, { dataHome: path.join(home, 'data'), seed: config.seed });
      const f32 = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
      writeFileSync(path.join(home, 'train.f32'), f32(data.train.x.subarray(0, 4000 * 784)));
      writeFileSync(path.join(home, 'test.f32'), f32(data.test.x));
      const py = spawnSync(PYTHON, ['-c', SCRIPT, path.join(home, 'train.f32'), path.join(home, 'test.f32'), source], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(py.status, py.stderr).toBe(0);
      const torch = JSON.parse(py.stdout.trim().split('\n').pop()!) as Record<string, number | number[]>;

      await service.call('sources.add', { path: source });
      const run = service.store.listRuns({}).runs.find((r) => r.name === 'pytorch checkpoint')!;
      const [checkpoint] = service.store.listCheckpoints(run.id);
      expect(checkpoint).toMatchObject({ tag: 'last', epoch: 5 });

      const t0 = Date.now();
      const wb = await service.call('runs.evaluate', { runId: run.id, k: K, examples: EXAMPLES, samples: SAMPLES, seed: 3 });
      console.log(`workbench evaluation of the PyTorch checkpoint (${Date.now() - t0} ms)`, JSON.stringify(wb.figures));
      console.log('PyTorch', JSON.stringify({ ...torch, 'test/klPerDim': undefined }));
      expect(wb).toMatchObject({ checkpointId: checkpoint!.id, n: EXAMPLES, nllExamples: EXAMPLES, k: K, samples: SAMPLES, epoch: 5 });
      for (const name of ['test/loss', 'test/recon', 'test/kl', 'test/nll', 'test/inferenceGap'])
        expect(
          Math.abs(wb.figures[name]! - (torch[name] as number)),
          `${name}: workbench ${wb.figures[name]} PyTorch ${String(torch[name])}`,
        ).toBeLessThan(0.1);
      expect(Math.abs(wb.figures['test/kl']! - (torch['test/kl'] as number))).toBeLessThan(1e-3); // closed form: the same
      wb.klPerDim.forEach((v, j) => expect(Math.abs(v - (torch['test/klPerDim'] as number[])[j]!)).toBeLessThan(1e-3));
      expect(wb.figures['test/activeUnits']).toBe(torch['test/activeUnits']);
      expect(wb.figures['test/activeUnitsCov']).toBe(torch['test/activeUnitsCov']);
      expect(wb.figures['test/nll']!).toBeLessThan(wb.figures['test/loss']!); // the bound is looser than the estimate
      // the figures are kept in the run's log, with the checkpoint, n and k
      expect(
        service.store
          .getLog(run.id, 50)
          .some((e) => /evaluated checkpoint "last" \(epoch 5, step \d+\) in the workbench on 500 test examples/.test(e.message)),
      ).toBe(true);

      // generation from the PyTorch checkpoint: what the Samples view's Generate button calls
      mkdirSync(SHOTS, { recursive: true });
      const prior = await service.call('runs.generate', { runId: run.id, kind: 'prior', n: 64, seed: 0 });
      const traversal = await service.call('runs.generate', { runId: run.id, kind: 'traversal', n: 9 });
      const recon = await service.call('runs.generate', { runId: run.id, kind: 'reconstruct', n: 10 });
      for (const [name, img] of Object.entries({ prior, traversal, recon }))
        writeFileSync(path.join(SHOTS, `python-checkpoint-${name}.png`), Buffer.from(img.dataBase64, 'base64'));
      expect(traversal.meta).toMatchObject({ dims: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], range: [-3, 3] });
      const gap = Number((traversal.meta as { gap?: number }).gap ?? 0);
      expect(traversal.width).toBe(9 * 28 + 8 * gap);
      expect(traversal.height).toBe(10 * 28 + 9 * gap);
      const priorCells = cells(Buffer.from(prior.dataBase64, 'base64'), 8, 8, gap);
      const travCells = cells(Buffer.from(traversal.dataBase64, 'base64'), 10, 9, gap);
      // images with strokes on a dark ground that differ from one another (a blank or one repeated blob fails this)
      expect(pixelSpread(priorCells, 64, 784)).toBeGreaterThan(0.08);
      expect(pixelSpread(travCells, 90, 784)).toBeGreaterThan(0.05);
      const mean = priorCells.reduce((a, v) => a + v, 0) / priorCells.length;
      expect(mean).toBeGreaterThan(0.05);
      expect(mean).toBeLessThan(0.35); // MNIST: mostly black, ~13% ink
    },
  );
});
