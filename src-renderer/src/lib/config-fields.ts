// The launch form's fields: one entry per run-config key, grouped as the form shows them.
import { FORBIDDEN_KEYS, type RunConfig } from '@shared/run-config';

export type FieldType = 'number' | 'int' | 'select' | 'bool' | 'text' | 'intlist' | 'taglist' | 'dataset';

export interface Field {
  path: string;
  label: string;
  type: FieldType;
  options?: readonly string[];
  help?: string;
  /** Show only when this returns true for the current config. */
  when?: (c: RunConfig) => boolean;
  step?: string;
  /** A select whose numeric options are numbers in the config (e.g. 'auto' | 1 | 2). */
  numericOptions?: boolean;
}

export interface FieldGroup {
  id: string;
  title: string;
  fields: Field[];
  advanced?: boolean;
}

const KINDS: RunConfig['model']['kind'][] = ['vae', 'ae', 'dae', 'iwae', 'gmm'];
const ARCHS: RunConfig['model']['arch'][] = ['mlp', 'conv'];
const ACTIVATIONS: RunConfig['model']['activation'][] = ['relu', 'tanh', 'elu', 'sigmoid', 'softplus', 'leakyRelu'];
const LIKELIHOODS: RunConfig['model']['likelihood'][] = ['bernoulli', 'gaussian', 'gaussian-learned'];
const CORRUPTIONS: RunConfig['model']['corruption'][] = ['gaussian', 'mask'];
const ESTIMATORS: RunConfig['objective']['estimator'][] = ['analytic', 'monte-carlo'];
const OPTIMIZERS: RunConfig['optimizer']['name'][] = ['adam', 'adagrad', 'rmsprop', 'sgd'];
const BINARIZE: RunConfig['data']['binarize'][] = ['none', 'static', 'dynamic'];
const FORMATS = ['', 'idx', 'csv', 'npy'] as const;

const needsPath = (c: RunConfig) => ['fashion-mnist', 'mnist-full', 'cifar10', 'import'].includes(c.data.dataset) || !!c.data.path;
const notGmm = (c: RunConfig) => c.model.kind !== 'gmm';

export const FIELD_GROUPS: FieldGroup[] = [
  {
    id: 'run',
    title: 'Run',
    fields: [
      { path: 'name', label: 'Name', type: 'text', help: 'Free text; shown in tables and legends.' },
      { path: 'seed', label: 'Seed', type: 'int', help: 'Fixes initialisation, data order and noise.' },
      { path: 'tags', label: 'Tags', type: 'taglist', help: 'Comma-separated.' },
    ],
  },
  {
    id: 'data',
    title: 'Data',
    fields: [
      { path: 'data.dataset', label: 'Dataset', type: 'dataset' },
      {
        path: 'data.path',
        label: 'Path',
        type: 'text',
        help: 'Directory or file holding the dataset (datasets that need one).',
        when: needsPath,
      },
      {
        path: 'data.format',
        label: 'Import format',
        type: 'select',
        options: FORMATS,
        help: 'Inferred from the extension when empty.',
        when: (c) => c.data.dataset === 'import',
      },
      {
        path: 'data.binarize',
        label: 'Binarize',
        type: 'select',
        options: BINARIZE,
        help: 'static: once with the seed; dynamic: resampled every epoch.',
      },
      {
        path: 'data.validationFraction',
        label: 'Validation fraction',
        type: 'number',
        step: '0.01',
        help: 'Held out of the training split for val/loss, early stopping and the "best" checkpoint; 0 = train on all of it.',
      },
      { path: 'data.trainLimit', label: 'Train limit', type: 'int', help: '0 = all training examples.' },
      { path: 'data.testLimit', label: 'Test limit', type: 'int', help: '0 = all test examples.' },
      {
        path: 'data.trainOnTest',
        label: 'Train on test too',
        type: 'bool',
        help: 'Train on train + test (the keras.io example); test figures then measure fit, not generalisation.',
      },
      { path: 'data.sources', label: 'Sources', type: 'int', when: (c) => c.data.dataset === 'ica-synthetic' },
      { path: 'data.observedDim', label: 'Observed dim', type: 'int', when: (c) => c.data.dataset === 'ica-synthetic' },
      {
        path: 'data.noise',
        label: 'Observation noise σ',
        type: 'number',
        step: 'any',
        when: (c) => c.data.dataset === 'ica-synthetic',
        help: 'Gaussian noise added to every observed coordinate (in [0,1] units); 0 = noise-free.',
      },
    ],
  },
  {
    id: 'model',
    title: 'Model',
    fields: [
      {
        path: 'model.kind',
        label: 'Kind',
        type: 'select',
        options: KINDS,
        help: 'vae, plain ae, denoising ae, importance-weighted ae, Gaussian mixture baseline.',
      },
      { path: 'model.arch', label: 'Architecture', type: 'select', options: ARCHS, when: notGmm },
      {
        path: 'model.hidden',
        label: 'Hidden layers',
        type: 'intlist',
        help: 'Units per hidden layer, e.g. 500 or 200, 200.',
        when: (c) => notGmm(c) && c.model.arch === 'mlp',
      },
      { path: 'model.convChannels', label: 'Conv channels', type: 'intlist', when: (c) => c.model.arch === 'conv' && notGmm(c) },
      { path: 'model.activation', label: 'Activation', type: 'select', options: ACTIVATIONS, when: notGmm },
      { path: 'model.latentDim', label: 'Latent dim', type: 'int', when: notGmm },
      { path: 'model.likelihood', label: 'Decoder likelihood', type: 'select', options: LIKELIHOODS, when: notGmm },
      {
        path: 'model.sigma',
        label: 'Decoder σ',
        type: 'number',
        step: 'any',
        help: 'Fixed standard deviation (gaussian).',
        when: (c) => c.model.likelihood === 'gaussian',
      },
      { path: 'model.sigmaFloor', label: 'σ floor', type: 'number', step: 'any', when: (c) => c.model.likelihood === 'gaussian-learned' },
      {
        path: 'model.initStd',
        label: 'Init std',
        type: 'number',
        step: 'any',
        help: '0 = Glorot uniform; Kingma & Welling use 0.01.',
        when: notGmm,
      },
      { path: 'model.corruption', label: 'Corruption', type: 'select', options: CORRUPTIONS, when: (c) => c.model.kind === 'dae' },
      { path: 'model.corruptionLevel', label: 'Corruption level', type: 'number', step: '0.05', when: (c) => c.model.kind === 'dae' },
      { path: 'model.components', label: 'Components', type: 'int', when: (c) => c.model.kind === 'gmm' },
      { path: 'model.emIterations', label: 'EM iterations', type: 'int', when: (c) => c.model.kind === 'gmm' },
    ],
  },
  {
    id: 'objective',
    title: 'Objective',
    fields: [
      {
        path: 'objective.estimator',
        label: 'Estimator',
        type: 'select',
        options: ESTIMATORS,
        help: 'analytic = SGVB-B (closed-form KL); monte-carlo = SGVB-A.',
      },
      { path: 'objective.mcSamples', label: 'MC samples L', type: 'int' },
      { path: 'objective.beta', label: 'β (KL weight)', type: 'number', step: 'any' },
      { path: 'objective.iwSamples', label: 'IW samples k', type: 'int', help: 'For kind iwae (≥ 2).' },
      { path: 'objective.klWarmupEpochs', label: 'KL warm-up epochs', type: 'int' },
    ],
  },
  {
    id: 'optimization',
    title: 'Optimization',
    fields: [
      { path: 'optimizer.name', label: 'Optimizer', type: 'select', options: OPTIMIZERS },
      { path: 'optimizer.learningRate', label: 'Learning rate', type: 'number', step: 'any' },
      { path: 'optimizer.momentum', label: 'Momentum', type: 'number', step: 'any', when: (c) => c.optimizer.name === 'sgd' },
      {
        path: 'optimizer.initialAccumulator',
        label: 'Initial accumulator',
        type: 'number',
        step: 'any',
        when: (c) => c.optimizer.name === 'adagrad',
        help: '0 = Adagrad as Duchi et al. and PyTorch define it; 0.1 = the tfjs / TensorFlow default.',
      },
      { path: 'optimizer.clipNorm', label: 'Clip norm', type: 'number', step: 'any', help: '0 = off.' },
      { path: 'training.batchSize', label: 'Batch size M', type: 'int' },
      { path: 'training.epochs', label: 'Epochs', type: 'int' },
      { path: 'training.earlyStoppingPatience', label: 'Early-stopping patience', type: 'int', help: '0 = off.' },
      { path: 'training.logEverySteps', label: 'Log every N steps', type: 'int' },
      { path: 'training.maxSteps', label: 'Max steps', type: 'int', help: '0 = no limit.' },
      {
        path: 'training.dataParallel',
        label: 'Data-parallel shards',
        type: 'select',
        options: ['auto', '1', '2', '4'],
        numericOptions: true,
        help: 'Each batch is cut into this many shards, summed in a fixed order; an idle core computes one. auto: 2 when a core is idle at the start. A number makes the result independent of free cores.',
        when: notGmm,
      },
    ],
  },
  {
    id: 'evaluation',
    title: 'Evaluation',
    fields: [
      { path: 'eval.iwSamples', label: 'IW samples for log p(x)', type: 'int' },
      {
        path: 'eval.nllExamples',
        label: 'Test examples for log p(x)',
        type: 'int',
        help: 'The first N test examples of the final estimate; 0 = all of them.',
      },
      { path: 'eval.everyEpochs', label: 'Evaluate every N epochs', type: 'int' },
      { path: 'eval.fid', label: 'Fréchet distance', type: 'bool', help: 'Fits a small classifier once per dataset.' },
    ],
  },
  {
    id: 'advanced',
    title: 'Snapshots & checkpoints',
    advanced: true,
    fields: [
      { path: 'snapshots.everyEpochs', label: 'Snapshot every N epochs', type: 'int' },
      { path: 'snapshots.gridSize', label: 'Sample grid side', type: 'int' },
      { path: 'snapshots.manifoldSize', label: 'Manifold side', type: 'int', help: '2-D latent only.' },
      { path: 'checkpoints.everyEpochs', label: 'Checkpoint every N epochs', type: 'int', help: '0 = only best and last.' },
      { path: 'checkpoints.keepLast', label: 'Keep last N checkpoints', type: 'int' },
    ],
  },
];

export function getPath(obj: unknown, path: string): unknown {
  let node: unknown = obj;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Immutable-free set on a plain nested object (creates intermediate objects). Deletes the key when value is undefined. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const bad = keys.find((k) => FORBIDDEN_KEYS.has(k));
  if (bad !== undefined) throw new Error(`cannot set ${path}: "${bad}" is not allowed as a key`);
  const own = (node: Record<string, unknown>, key: string, v: unknown) =>
    Object.defineProperty(node, key, { value: v, writable: true, enumerable: true, configurable: true });
  let node = obj;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === null || typeof next !== 'object' || Array.isArray(next)) own(node, key, {});
    node = node[key] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete node[last];
  else own(node, last, value);
}

/** Text typed into a field -> the value put into the config (left as text when it does not parse, so validation names the field). */
export function parseFieldText(type: FieldType, text: string): unknown {
  const t = text.trim();
  switch (type) {
    case 'number':
    case 'int':
      return t === '' ? text : Number.isFinite(Number(t)) ? Number(t) : text;
    case 'intlist': {
      if (t === '') return [];
      const parts = t
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number);
      return parts.every((n) => Number.isFinite(n)) ? parts : text;
    }
    case 'taglist':
      return t
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return text;
  }
}

export function fieldText(type: FieldType, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.join(type === 'taglist' ? ', ' : ', ');
  return String(value);
}

/** A sweep value as typed: numbers, booleans, null, JSON arrays of numbers (e.g. [400,200] for model.hidden), else the string. */
export function parseSweepValue(raw: string): string | number | boolean | null | number[] {
  const t = raw.trim();
  if (t.startsWith('[') && t.endsWith(']')) {
    try {
      const list = JSON.parse(t) as unknown;
      if (Array.isArray(list) && list.every((v) => typeof v === 'number')) return list as number[];
    } catch {
      // not a JSON list: keep the text, validation will name the problem
    }
  }
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

/** Split "1, 2, [3,4]" on top-level commas. */
export function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter((s) => s !== '');
}
