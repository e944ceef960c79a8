// The run configuration: one JSON object describes a training run completely.
// Shared by every host and the renderer (pure zod, no Node imports).
import { z } from 'zod';
import { ApiError } from './errors';
import { LIMITS } from './limits';

export const DATASET_IDS = ['mnist', 'mnist-14x14-even', 'fashion-mnist', 'mnist-full', 'cifar10', 'ica-synthetic', 'import'] as const;

const positiveInt = z.number().int().positive();

export const dataSchema = z
  .object({
    dataset: z.string().min(1).default('mnist'),
    /** Directory holding the dataset's files (fashion-mnist, mnist-full, cifar10) or the imported file (import). */
    path: z.string().optional(),
    /** For `import`: file format; inferred from the extension when absent. */
    format: z.enum(['idx', 'csv', 'npy']).optional(),
    /** none: grey values in [0,1]; static: binarized once with the run's seed; dynamic: resampled every epoch. */
    binarize: z.enum(['none', 'static', 'dynamic']).default('none'),
    /**
     * Fraction of the training split held out for validation (val/loss, early stopping, the "best" checkpoint).
     * 0 by default: train on the whole training split, as the reference examples (Keras, pytorch/examples) do.
     */
    validationFraction: z.number().min(0).max(0.5).default(0),
    /** Use at most this many training examples (0 = all). Handy for quick runs. */
    trainLimit: z.number().int().min(0).default(0),
    /** Use at most this many test examples for evaluation (0 = all). */
    testLimit: z.number().int().min(0).default(0),
    /**
     * Train on the training and the test split together, as the keras.io VAE example trains on all 70,000 MNIST
     * digits (x_train and x_test concatenated). test/* is then still measured on the test split, which the model has
     * seen: a figure of fit, not of generalisation.
     */
    trainOnTest: z.boolean().default(false),
    /** ica-synthetic: number of independent sources, observed dimension and sequence length. */
    sources: positiveInt.max(64).default(3),
    observedDim: positiveInt.max(4096).default(20),
    /**
     * ica-synthetic: standard deviation of Gaussian observation noise added to every observed coordinate after its
     * rescaling to [0,1] (0 = noise-free: the data then lie on a 3-D manifold, and a learned decoder σ shrinks to its
     * floor and switches on every latent unit).
     */
    noise: z.number().min(0).max(1).default(0),
  })
  .strict();

export const modelSchema = z
  .object({
    kind: z.enum(['vae', 'ae', 'dae', 'iwae', 'gmm']).default('vae'),
    arch: z.enum(['mlp', 'conv']).default('mlp'),
    hidden: z.array(positiveInt.max(8192)).max(8).default([400]),
    activation: z.enum(['relu', 'tanh', 'elu', 'sigmoid', 'softplus', 'leakyRelu']).default('relu'),
    latentDim: positiveInt.max(1024).default(20),
    likelihood: z.enum(['bernoulli', 'gaussian', 'gaussian-learned']).default('bernoulli'),
    /** Fixed decoder standard deviation for likelihood "gaussian". */
    sigma: z.number().positive().default(1),
    /** Floor on the learned decoder standard deviation for likelihood "gaussian-learned". */
    sigmaFloor: z.number().positive().default(0.01),
    /** Standard deviation of the initial weights (Kingma & Welling use 0.01); 0 = Glorot uniform. */
    initStd: z.number().min(0).default(0),
    /** conv arch: channels of the conv layers (stride 2 each). */
    convChannels: z.array(positiveInt.max(1024)).max(5).default([32, 64]),
    /** dae: corruption of the inputs. */
    corruption: z.enum(['gaussian', 'mask']).default('gaussian'),
    corruptionLevel: z.number().min(0).max(1).default(0.3),
    /** gmm: number of mixture components and EM iterations. */
    components: positiveInt.max(1000).default(10),
    emIterations: positiveInt.max(10000).default(50),
  })
  .strict();

export const objectiveSchema = z
  .object({
    /** analytic: SGVB-B (closed-form KL); monte-carlo: SGVB-A (log p(x,z) - log q(z|x) sampled). */
    estimator: z.enum(['analytic', 'monte-carlo']).default('analytic'),
    /** L: samples of z per datapoint. */
    mcSamples: positiveInt.max(1000).default(1),
    /** Weight on the KL term (beta-VAE); 1 is the ELBO. */
    beta: z.number().min(0).default(1),
    /** k for the importance-weighted bound (model.kind = iwae). */
    iwSamples: positiveInt.max(5000).default(1),
    /** Optional linear KL warm-up over this many epochs (0 = off). */
    klWarmupEpochs: z.number().int().min(0).default(0),
  })
  .strict();

export const optimizerSchema = z
  .object({
    name: z.enum(['adam', 'adagrad', 'rmsprop', 'sgd']).default('adam'),
    learningRate: z.number().positive().default(0.001),
    /** SGD momentum (sgd only). */
    momentum: z.number().min(0).max(1).default(0.9),
    /**
     * Adagrad's initial accumulator (adagrad only): 0 as Duchi et al. define Adagrad and as Kingma & Welling and
     * PyTorch use it (the update divides by sqrt(accumulator + 1e-7), so the first step is finite); 0.1 is
     * tfjs's and TensorFlow's default, which damps the first steps of small gradients.
     */
    initialAccumulator: z.number().min(0).max(10).default(0),
    /** Clip gradients to this global norm (0 = off). */
    clipNorm: z.number().min(0).default(0),
  })
  .strict();

export const trainingSchema = z
  .object({
    batchSize: positiveInt.max(65536).default(128),
    epochs: positiveInt.max(100000).default(10),
    /** Stop after this many epochs without improvement of the validation loss (0 = off). */
    earlyStoppingPatience: z.number().int().min(0).default(0),
    /** Read the loss back from the backend every N steps (reading every step stalls the pipeline). */
    logEverySteps: positiveInt.max(100000).default(10),
    /** Stop after this many optimizer steps in total (0 = no limit); for quick runs and benchmarks. */
    maxSteps: z.number().int().min(0).default(0),
    /**
     * Data parallelism: each minibatch is cut into this many shards whose gradients are summed in a fixed order,
     * the shards of an idle core's worker computed there (the rest on the trainer's thread). The result depends on
     * the seed and this number only, not on which thread computed what. 'auto': 2 when the run has an idle core at
     * its start and batches of at least 64, else 1 (the resolved number is in the run log and perf/dataParallel).
     */
    dataParallel: z.union([z.literal('auto'), z.number().int().min(1).max(8)]).default('auto'),
  })
  .strict();

export const evalSchema = z
  .object({
    /**
     * k for the importance-sampled estimate of -log p(x) at the end of a run (on the first 1,000 test examples;
     * during training k = min(k, 50) on the first 100). 100 by default: on the reference MLP, k = 500 gives a bound
     * 0.44 nats tighter (118.89 against 119.33) at 5 times the cost; Burda et al. report k = 5000 (the iwae presets).
     */
    iwSamples: positiveInt.max(5000).default(100),
    /**
     * Test examples (the first ones) the final -log p(x) is estimated on; 0 = the whole test split. Fewer when k is
     * large: at most 500,000 decoder passes (k = 5000: 100 examples).
     */
    nllExamples: z.number().int().min(0).default(1000),
    /** Evaluate on the test split every N epochs (and always at the end). */
    everyEpochs: positiveInt.default(1),
    /** Compute the Frechet distance on classifier features (costs a classifier fit per dataset, cached). */
    fid: z.boolean().default(true),
  })
  .strict();

export const snapshotSchema = z
  .object({
    /** Write sample images every N epochs (and always at the end). */
    everyEpochs: positiveInt.default(1),
    /** Side of the square prior-sample grid. */
    gridSize: positiveInt.max(32).default(8),
    /** Side of the 2-D manifold grid (2-D latent only). */
    manifoldSize: positiveInt.max(40).default(15),
  })
  .strict();

export const checkpointSchema = z
  .object({
    /** Save a checkpoint every N epochs (0 = only best and last). */
    everyEpochs: z.number().int().min(0).default(1),
    /** Keep at most N interval checkpoints (best and last are always kept). */
    keepLast: positiveInt.default(3),
  })
  .strict();

export const runConfigSchema = z
  .object({
    name: z.string().max(LIMITS.RUN_NAME_MAX_CHARS).default(''),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1),
    data: dataSchema.default(() => dataSchema.parse({})),
    model: modelSchema.default(() => modelSchema.parse({})),
    objective: objectiveSchema.default(() => objectiveSchema.parse({})),
    optimizer: optimizerSchema.default(() => optimizerSchema.parse({})),
    training: trainingSchema.default(() => trainingSchema.parse({})),
    eval: evalSchema.default(() => evalSchema.parse({})),
    snapshots: snapshotSchema.default(() => snapshotSchema.parse({})),
    checkpoints: checkpointSchema.default(() => checkpointSchema.parse({})),
    tags: z.array(z.string().min(1).max(LIMITS.TAG_MAX_CHARS)).max(LIMITS.TAGS_MAX_COUNT).default([]),
  })
  .strict();

/** A config as a user writes it: every key optional. */
export type RunConfigInput = z.input<typeof runConfigSchema>;
/** A config with every default filled. */
export type RunConfig = z.output<typeof runConfigSchema>;

export class ConfigError extends ApiError {
  constructor(
    message: string,
    override readonly issues: { path: string; message: string }[],
  ) {
    super('invalid_config', message, issues);
    this.name = 'ConfigError';
  }
}

/** Turn zod issues into "field: message" lines that name the field by its dotted path. */
export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** Validate a config, filling defaults; throws ConfigError naming every bad field. */
export function parseRunConfig(input: unknown): RunConfig {
  const result = runConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw new ConfigError(`invalid run config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const config = result.data;
  const cross: { path: string; message: string }[] = [];
  if (config.model.kind === 'iwae' && config.objective.iwSamples < 2)
    cross.push({ path: 'objective.iwSamples', message: 'iwae needs at least 2 importance samples' });
  if (config.training.earlyStoppingPatience > 0 && config.data.validationFraction <= 0)
    cross.push({
      path: 'data.validationFraction',
      message: 'early stopping (training.earlyStoppingPatience) needs a validation split: set it above 0, e.g. 0.1',
    });
  if (config.model.arch === 'mlp' && config.model.kind !== 'gmm') {
    // A lower bound that needs no dataset: the weights between consecutive hidden layers, encoder and decoder.
    const h = config.model.hidden;
    const between = 2 * h.slice(1).reduce((n, size, i) => n + size * h[i]!, 0);
    if (between > LIMITS.MODEL_MAX_PARAMETERS)
      cross.push({
        path: 'model.hidden',
        message: `[${h.join(', ')}] has ${between.toLocaleString('en-US')} parameters between its hidden layers alone, more than the limit of ${LIMITS.MODEL_MAX_PARAMETERS.toLocaleString('en-US')} (MODEL_MAX_PARAMETERS)`,
      });
  }
  if (config.data.dataset === 'import' && !config.data.path)
    cross.push({ path: 'data.path', message: 'the import dataset needs a file path' });
  if (cross.length) throw new ConfigError(`invalid run config: ${cross.map((i) => `${i.path}: ${i.message}`).join('; ')}`, cross);
  return config;
}

/** Key segments that would reach an object's prototype instead of one of its own fields. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/** Throw a ConfigError naming the full key path when one of its segments is __proto__, prototype or constructor. */
export function checkKeyPath(keyPath: string, keys: readonly string[] = keyPath.split('.')): void {
  const bad = keys.find((k) => FORBIDDEN_KEYS.has(k));
  if (bad !== undefined)
    throw new ConfigError(`cannot set ${keyPath}: "${bad}" is not allowed as a key (it would reach the object prototype)`, [
      { path: keyPath, message: `"${bad}" is not allowed as a key` },
    ]);
}

/**
 * Set a dotted key path in a plain object (for `--set model.latentDim=2`, sweep axes and resume overrides); the
 * value is parsed as JSON when it can be. Only own properties are followed, and __proto__ / prototype /
 * constructor segments are refused, so no path can reach Object.prototype.
 */
export function setByPath(target: Record<string, unknown>, keyPath: string, raw: string): void {
  const keys = keyPath.split('.').filter(Boolean);
  if (!keys.length) throw new ConfigError(`--set needs key.path=value, got "${keyPath}"`, [{ path: keyPath, message: 'empty key' }]);
  checkKeyPath(keyPath, keys);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  let node: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined || next === null) defineOwn(node, key, {});
    else if (typeof next !== 'object' || Array.isArray(next))
      throw new ConfigError(`cannot set ${keyPath}: ${key} is not an object`, [{ path: keyPath, message: `${key} is not an object` }]);
    node = node[key] as Record<string, unknown>;
  }
  defineOwn(node, keys[keys.length - 1]!, value);
}

function defineOwn(node: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Flatten a config into dotted keys with scalar values (hyperparameters for filtering and diffing). */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, string | number | boolean | null> = {}) {
  if (value === null || value === undefined) {
    if (prefix) out[prefix] = null;
  } else if (Array.isArray(value)) {
    out[prefix] = JSON.stringify(value);
  } else if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') {
    out[prefix] = value;
  }
  return out;
}
