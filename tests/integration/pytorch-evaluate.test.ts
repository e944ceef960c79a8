// vaewb.torch.evaluate agrees with the workbench: a run trained by the workbench (real training on the bundled
// MNIST digits) is exported with the existing bundle export, its weights.safetensors loaded into a PyTorch MLP
// VAE by the Python client and evaluated there on the same 1,000 test digits. The deterministic figures (KL, KL
// per dimension, both active-unit counts) must equal the run's own final evaluation; the Monte-Carlo ones (recon,
// -ELBO, -log p(x), inference gap) come from independent noise on each side, and the run's final test/recon uses
// one sample per digit (its standard error here is ~0.3 nats), so they are compared with the workbench's own
// evaluation (evaluateSplit, the trainer's function) of the same bundle weights at 400 samples per digit and
// k = 200 on all 1,000 digits, where both estimates are tight enough for the 0.1-nat bound (standard error of
// the difference ~0.03 nats). Needs Debian's
// python3-torch (`.ci/run` installs it); skipped with the reason where it is missing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  VaeModel,
  WorkbenchService,
  evaluateSplit,
  exportRunBundle,
  initBackend,
  loadDataset,
  modelSpecFromConfig,
  parseBundle,
  parseRunConfig,
} from '../built';

const PYTHON = process.env.VAE_WORKBENCH_PYTHON ?? '/usr/bin/python3';
const CLIENT = path.join(ROOT, 'clients', 'python');
const torchReason = !existsSync(PYTHON)
  ? `${PYTHON} does not exist`
  : spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0
    ? `PyTorch is not installed for ${PYTHON} (apt-get install python3-torch libopenblas0-pthread)`
    : null;
if (torchReason) console.warn(`vaewb.torch.evaluate comparison skipped: ${torchReason}`);

const home = mkdtempSync(path.join(os.tmpdir(), 'vaewb-eval-'));
let service: WorkbenchService | null = null;
afterAll(async () => service?.close());

const CONFIG = {
  name: 'evaluate-compare',
  seed: 3,
  data: { dataset: 'mnist', trainLimit: 4000, testLimit: 1000 },
  model: { kind: 'vae', hidden: [200], latentDim: 10, likelihood: 'bernoulli' },
  training: { epochs: 2, batchSize: 100 },
  eval: { iwSamples: 100, nllExamples: 500, fid: false },
};

const SCRIPT = `
import sys, json, zipfile
sys.path.insert(0, ${JSON.stringify(CLIENT)})
import torch, torch.nn as nn, torch.nn.functional as F
from vaewb import safetensors
from vaewb.torch import evaluate
bundle, data, n, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with zipfile.ZipFile(bundle) as z:
    weights, _ = safetensors.loads(z.read('weights.safetensors'))
def linear(name):
    shape, values = weights[name + '/kernel']
    layer = nn.Linear(shape[0], shape[1])
    layer.weight.data = torch.tensor(values).reshape(shape).t().contiguous()  # [in, out] -> torch's [out, in]
    layer.bias.data = torch.tensor(weights[name + '/bias'][1])
    return layer
class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = linear('encoder/dense_0'), linear('encoder/mu'), linear('encoder/logvar')
        self.fc3, self.fc4 = linear('decoder/dense_0'), linear('decoder/out')
    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc21(h), self.fc22(h)
    def decode(self, z):
        return self.fc4(F.relu(self.fc3(z)))
x = torch.frombuffer(bytearray(open(data, 'rb').read()), dtype=torch.float32).reshape(n, d)
loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=200)
model = VAE()
print(json.dumps({'asRun': evaluate(model, loader, likelihood='bernoulli', k=100, nll_examples=500, seed=1),
                  'tight': evaluate(model, loader, likelihood='bernoulli', k=200, nll_examples=0, samples=400, seed=2)}))
`;

describe.skipIf(!!torchReason)('vaewb.torch.evaluate against the workbench', () => {
  it('agrees within 0.1 nats on the weights of a workbench run', { timeout: 600_000 }, async () => {
    service = new WorkbenchService({ host: 'cli', dataHome: path.join(home, 'data'), concurrency: 1 });
    const runId = service.startRun(CONFIG);
    const run = await service.waitForRun(runId);
    expect(run.status).toBe('completed');
    const bundle = exportRunBundle(service.store, runId, { appVersion: 'test' });
    const bundleFile = path.join(home, bundle.filename);
    writeFileSync(bundleFile, bundle.bytes);
    const config = parseRunConfig(CONFIG);
    const data = await loadDataset(config.data, { dataHome: path.join(home, 'data'), seed: config.seed });
    const d = data.test.x.length / data.test.n;
    const dataFile = path.join(home, 'test.f32');
    writeFileSync(dataFile, Buffer.from(data.test.x.buffer, data.test.x.byteOffset, data.test.x.byteLength));
    const r = spawnSync(PYTHON, ['-c', SCRIPT, bundleFile, dataFile, String(data.test.n), String(d)], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const py = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<'asRun' | 'tight', Record<string, number | number[]>>;
    const wb = service.store.getRun(runId)!.final;
    expect(data.test.n).toBe(1000);
    // the run's own final evaluation: the deterministic figures agree exactly
    expect(Math.abs((py.asRun['test/kl'] as number) - wb['test/kl']!)).toBeLessThan(1e-3);
    expect(py.asRun['test/activeUnits']).toBe(wb['test/activeUnits']);
    expect(py.asRun['test/activeUnitsCov']).toBe(wb['test/activeUnitsCov']);
    expect((py.asRun['test/klPerDim'] as number[]).length).toBe(10);
    // the workbench's own evaluation of the bundle's weights, with tight estimates
    await initBackend();
    const parsed = parseBundle(bundle.bytes);
    const model = new VaeModel(modelSpecFromConfig(config, [28, 28, 1], 'image'));
    model.loadNamedWeights(parsed.weights);
    const tight = await evaluateSplit(model, data.test.x, data.test.n, {
      batchSize: 10,
      estimator: 'analytic',
      samples: 400,
      iwSamples: 200,
      nllLimit: 0,
      seed: 11,
    });
    model.dispose();
    const ours: Record<string, number> = {
      'test/loss': tight.loss,
      'test/recon': tight.recon,
      'test/kl': tight.kl,
      'test/nll': tight.nll,
      'test/inferenceGap': tight.nllElbo - tight.nll,
    };
    console.log('run (L=1, k=100 on 500)', JSON.stringify(wb), '\npytorch as run', JSON.stringify(py.asRun));
    console.log('workbench tight', JSON.stringify(ours), '\npytorch tight  ', JSON.stringify(py.tight));
    for (const [name, value] of Object.entries(ours))
      expect(Math.abs((py.tight[name] as number) - value), `${name}: pytorch ${String(py.tight[name])} workbench ${value}`).toBeLessThan(
        0.1,
      );
  });
});
