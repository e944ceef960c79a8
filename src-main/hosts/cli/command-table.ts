// The CLI's one declarative table: every command, its forms (subcommands), its flags with their types and help. The
// parser every command uses (parseCommandFlags), `vae-workbench --help`, `vae-workbench <command> --help` / `-h`, the
// "unknown option" message (which names the command's valid flags) and the README's command list (`help --readme`,
// checked against README.md by tests/integration/cli.test.ts) all come from here.

export interface FlagSpec {
  name: string;
  type: 'string' | 'boolean';
  /** The value's placeholder in help ("FILE", "N"); string flags only. */
  value?: string;
  short?: string;
  multiple?: boolean;
  help: string;
}

export interface CommandForm {
  /** What follows `vae-workbench` (e.g. "runs show <id> [--json]"). */
  usage: string;
  help: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  forms: CommandForm[];
  flags: FlagSpec[];
}

const json: FlagSpec = { name: 'json', type: 'boolean', help: 'machine-readable output (one JSON value on stdout)' };
const set: FlagSpec = {
  name: 'set',
  type: 'string',
  value: 'key.path=value',
  multiple: true,
  help: 'override one config key (repeatable; dotted path, JSON or plain value)',
};

export const COMMAND_TABLE: readonly CommandSpec[] = [
  {
    name: 'info',
    summary: 'version, data home, tfjs backend, host',
    forms: [{ usage: 'info [--json]', help: 'version, dataHome, backend, tfjs-node availability' }],
    flags: [json],
  },
  {
    name: 'serve',
    summary: 'serve the workbench UI to a browser on 127.0.0.1',
    forms: [{ usage: 'serve [--port N] [--json]', help: 'serve the UI and API on 127.0.0.1 (prints the URL with its token)' }],
    flags: [{ name: 'port', type: 'string', value: 'N', help: 'the port (default: one the system chooses)' }, json],
  },
  {
    name: 'train',
    summary: 'train one run with a progress bar',
    forms: [
      {
        usage: 'train --config run.json [--set key=value ...] [--json]',
        help: 'train one run; exit 0 completed, 1 failed/diverged, 130 cancelled',
      },
      { usage: 'train --preset quick-test', help: 'a built-in preset (list: vae-workbench presets)' },
    ],
    flags: [
      { name: 'config', type: 'string', value: 'FILE', short: 'c', help: 'the run config (a JSON object; every key optional)' },
      set,
      { name: 'preset', type: 'string', value: 'ID', help: 'start from a built-in preset (--config keys then override it)' },
      json,
    ],
  },
  {
    name: 'resume',
    summary: 'continue a run from its last checkpoint',
    forms: [{ usage: 'resume <id> [--epochs N] [--set key=value]', help: 'resume (or, with --set, fork) from a checkpoint' }],
    flags: [{ name: 'epochs', type: 'string', value: 'N', help: 'train up to this many epochs in all' }, set, json],
  },
  {
    name: 'runs',
    summary: 'list, show, edit, export and delete runs',
    forms: [
      { usage: 'runs [--json] [--status S] [--tag T] [--metric EXPR]', help: 'every run with its config and final metrics' },
      { usage: 'runs show <id> [--json]', help: 'one run with its metric series' },
      { usage: 'runs export --format csv|json [--series] [--out FILE]', help: 'the runs table (or every metric point) as a file' },
      { usage: 'runs edit <id> [--name N] [--tags A,B] [--notes TEXT]', help: 'rename a run, set its tags or notes (open views follow)' },
      { usage: 'runs delete <id> [<id> ...]', help: 'delete runs with their files' },
    ],
    flags: [
      json,
      { name: 'status', type: 'string', value: 'S', multiple: true, help: 'only runs with this status (repeatable)' },
      { name: 'tag', type: 'string', value: 'T', help: 'only runs with this tag' },
      {
        name: 'metric',
        type: 'string',
        value: 'EXPR',
        multiple: true,
        help: "only runs whose final metric passes, e.g. 'test/loss<130', 'test/activeUnits>=5' (< <= > >= = !=; repeatable)",
      },
      { name: 'format', type: 'string', value: 'csv|json', help: 'runs export: the file format' },
      { name: 'out', type: 'string', value: 'FILE', short: 'o', help: 'runs export: write here (atomically) instead of stdout' },
      { name: 'series', type: 'boolean', help: 'runs export: every metric point (per step) instead of the runs table' },
      { name: 'points', type: 'string', value: 'N', help: 'runs show: at most N points per series' },
      { name: 'name', type: 'string', value: 'N', help: 'runs edit: the new name' },
      { name: 'tags', type: 'string', value: 'A,B', help: 'runs edit: the tags, comma-separated (replaces them; "" for none)' },
      { name: 'notes', type: 'string', value: 'TEXT', help: 'runs edit: the notes (replaces them)' },
    ],
  },
  {
    name: 'export',
    summary: 'write a run as a portable bundle (.zip)',
    forms: [
      { usage: 'export <id> --out model.vaewb.zip [--checkpoint ID]', help: "a run's checkpoint, metrics, images and log as one bundle" },
    ],
    flags: [
      { name: 'out', type: 'string', value: 'FILE', short: 'o', help: 'the bundle file to write' },
      { name: 'checkpoint', type: 'string', value: 'ID', help: "which checkpoint (default: the run's best, else its last)" },
      json,
    ],
  },
  {
    name: 'import',
    summary: 'import a bundle (verified before anything is written)',
    forms: [
      { usage: 'import model.vaewb.zip [--again] [--json]', help: 'import a bundle; a run already in the store is refused naming it' },
    ],
    flags: [{ name: 'again', type: 'boolean', help: "import even when the bundle's run is already in the store" }, json],
  },
  {
    name: 'generate',
    summary: "images from a run's checkpoint, without training",
    forms: [
      {
        usage: 'generate <id> --kind prior|reconstruct|traversal|interpolate --out x.png',
        help: "images from a run's checkpoint ([--n N] [--seed S] [--indices 1,2])",
      },
    ],
    flags: [
      { name: 'kind', type: 'string', value: 'KIND', help: 'prior | reconstruct | traversal | interpolate' },
      { name: 'n', type: 'string', value: 'N', help: 'how many images' },
      { name: 'seed', type: 'string', value: 'S', help: 'the noise seed' },
      { name: 'indices', type: 'string', value: '1,2', help: 'test examples (reconstruct, interpolate) or latent dimensions (traversal)' },
      { name: 'out', type: 'string', value: 'FILE', short: 'o', help: 'the PNG to write' },
      { name: 'checkpoint', type: 'string', value: 'ID', help: "which checkpoint (default: the run's best)" },
      json,
    ],
  },
  {
    name: 'datasets',
    summary: 'the dataset registry; download datasets',
    forms: [
      { usage: 'datasets [--json]', help: 'the dataset registry' },
      { usage: 'datasets download mnist-full|fashion-mnist|cifar10', help: 'fetch into the data home (SHA-256 checked)' },
    ],
    flags: [json],
  },
  {
    name: 'presets',
    summary: 'the built-in configurations (use with train --preset)',
    forms: [{ usage: 'presets [--json]', help: 'the built-in configurations' }],
    flags: [json],
  },
  {
    name: 'bench',
    summary: 'time to result, training speed, data-parallel steps, the store',
    forms: [
      {
        usage: 'bench [--json] [--time-to-result [--preset ID] | --data-parallel]',
        help: 'time to result, training speed, store',
      },
    ],
    flags: [
      json,
      { name: 'steps', type: 'string', value: 'N', help: 'training steps per measurement' },
      { name: 'quick', type: 'boolean', help: 'fewer, shorter measurements' },
      { name: 'time-to-result', type: 'boolean', help: 'only the time to result (and ETA error) of the reference experiment' },
      { name: 'data-parallel', type: 'boolean', help: 'only the split ceiling: data and tensor split on probe threads' },
      { name: 'preset', type: 'string', value: 'ID', help: 'with --time-to-result: that preset instead' },
    ],
  },
  {
    name: 'sweep',
    summary: 'grid sweeps on a Slurm cluster (or as Kubernetes manifests)',
    forms: [
      { usage: 'sweep --config sweep.json --on slurm [--wait]', help: 'a grid on a Slurm cluster (see below)' },
      { usage: 'sweep --config sweep.json --on k8s --dry-run', help: 'the same grid as a Kubernetes Indexed Job (YAML)' },
      { usage: 'sweep list | status ID | sync ID | cancel ID', help: 'follow, import, cancel a cluster sweep' },
    ],
    flags: [
      { name: 'config', type: 'string', value: 'FILE', short: 'c', help: 'the sweep file: {config, axes}' },
      { name: 'on', type: 'string', value: 'slurm|k8s', help: 'where the grid runs' },
      { name: 'partition', type: 'string', value: 'P', help: 'Slurm partition' },
      { name: 'time', type: 'string', value: 'T', help: 'Slurm time limit per task' },
      { name: 'cpus', type: 'string', value: 'N', help: 'CPUs per task' },
      { name: 'mem', type: 'string', value: 'M', help: 'memory per task' },
      { name: 'gpus', type: 'string', value: 'G', help: 'GPUs per task' },
      { name: 'max-parallel', type: 'string', value: 'N', help: 'tasks at once' },
      { name: 'dir', type: 'string', value: 'SHARED_DIR', help: 'the shared folder every node sees' },
      { name: 'wait', type: 'boolean', help: 'follow the sweep until it ends, importing as tasks finish' },
      json,
      { name: 'dry-run', type: 'boolean', help: '--on k8s: print the manifests' },
      { name: 'image', type: 'string', value: 'I', help: '--on k8s: the container image' },
      { name: 'namespace', type: 'string', value: 'NS', help: '--on k8s: the namespace' },
      { name: 'storage', type: 'string', value: 'SIZE', help: '--on k8s: the PersistentVolumeClaim size' },
      { name: 'task', type: 'string', value: 'I', multiple: true, help: 'cancel: only these task indices (repeatable)' },
    ],
  },
  {
    name: 'sources',
    summary: 'folders of runs logged from Python (vaewb client), followed live by the app',
    forms: [
      { usage: 'sources [list] [--json]', help: 'the watched folders with their run counts' },
      { usage: 'sources add DIR', help: 'watch a folder of run folders written by the vaewb Python client' },
      { usage: 'sources remove ID', help: 'stop watching a folder (its runs stay)' },
      { usage: 'sources sync [ID]', help: 'import what is new now (the app and the web host follow sources live)' },
    ],
    flags: [json],
  },
  {
    name: 'help',
    summary: "this help, or one command's",
    forms: [{ usage: 'help [<command>]', help: 'the commands, or one command with its flags' }],
    flags: [{ name: 'readme', type: 'boolean', help: "the README's command list (generated from this table)" }],
  },
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMAND_TABLE.find((c) => c.name === name);
}

/** node:util parseArgs options of a command. */
export function parseOptions(spec: CommandSpec): Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> {
  return Object.fromEntries(
    spec.flags.map((f) => [f.name, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) }]),
  );
}

function flagLabel(f: FlagSpec): string {
  return `${f.short ? `-${f.short}, ` : ''}--${f.name}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`;
}

/** The valid flags of a command, for the "unknown option" message. */
export function validFlags(spec: CommandSpec): string {
  return [...spec.flags.map((f) => `--${f.name}`), '--help'].join(', ');
}

/** `vae-workbench <command> --help`. */
export function commandHelp(spec: CommandSpec, version: string): string {
  const width = Math.max(...spec.flags.map((f) => flagLabel(f).length), '-h, --help'.length) + 2;
  return [
    `vae-workbench ${spec.name} — ${spec.summary} (VAE Workbench ${version})`,
    '',
    'Usage:',
    ...spec.forms.map((f) => `  vae-workbench ${f.usage}\n      ${f.help}`),
    '',
    'Options:',
    ...spec.flags.map(
      (f) => `  ${flagLabel(f).padEnd(width)}${f.help}${f.multiple && !f.help.includes('repeatable') ? ' (repeatable)' : ''}`,
    ),
    `  ${'-h, --help'.padEnd(width)}this help`,
    '',
  ].join('\n');
}

/** `vae-workbench --help`: every command's forms. */
export function mainHelp(version: string): string {
  return [
    `VAE Workbench ${version} — train, compare and export variational autoencoders`,
    '',
    'Usage: vae-workbench <command> [options]     (vae-workbench <command> --help, or -h: its flags)',
    '',
    'Commands:',
    ...COMMAND_TABLE.flatMap((c) => c.forms.map((f) => `  ${f.usage}\n      ${f.help}`)),
    '',
    'Environment:',
    "  VAE_WORKBENCH_HOME     the data home (database, run files, dataset cache); default: the platform's app-data directory",
    '  VAE_WORKBENCH_BACKEND  force a tfjs backend (tensorflow, wasm or cpu)',
    '',
  ].join('\n');
}

/** The README's command list: one line per form, `npx vae-workbench <usage>   # <help>`. */
export function readmeCommandList(): string {
  const forms = [
    { usage: '--help', help: 'the commands; `<command> --help` (or `-h`) for one, with its flags' },
    ...COMMAND_TABLE.filter((c) => c.name !== 'help').flatMap((c) => c.forms),
  ];
  const width = Math.max(...forms.map((f) => f.usage.length)) + 'npx vae-workbench '.length + 2;
  return forms.map((f) => `${`npx vae-workbench ${f.usage}`.padEnd(width)}# ${f.help}`).join('\n');
}
