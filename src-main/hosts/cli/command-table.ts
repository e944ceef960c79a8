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

/** A flag with a value, shown as `value` in help. */
function str(name: string, value: string, help: string, more: Pick<FlagSpec, 'short' | 'multiple'> = {}): FlagSpec {
  return { name, type: 'string', value, help, ...more };
}
function bool(name: string, help: string): FlagSpec {
  return { name, type: 'boolean', help };
}

// Flags several commands take (their help may say what they mean for that command).
const json = bool('json', 'machine-readable output (one JSON value on stdout)');
const set = str('set', 'key.path=value', 'override one config key (repeatable; dotted path, JSON or plain value)', { multiple: true });
const outFile = (help: string) => str('out', 'FILE', help, { short: 'o' });
const configFile = (help: string) => str('config', 'FILE', help, { short: 'c' });
const checkpointId = (help: string) => str('checkpoint', 'ID', help);
const presetId = (help: string) => str('preset', 'ID', help);
const count = (name: string, help: string) => str(name, 'N', help);

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
    flags: [count('port', 'the port (default: one the system chooses)'), json],
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
      configFile('the run config (a JSON object; every key optional)'),
      set,
      presetId('start from a built-in preset (--config keys then override it)'),
      json,
    ],
  },
  {
    name: 'resume',
    summary: 'continue a run from its last checkpoint',
    forms: [{ usage: 'resume <id> [--epochs N] [--set key=value]', help: 'resume (or, with --set, fork) from a checkpoint' }],
    flags: [count('epochs', 'train up to this many epochs in all'), set, json],
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
      str('status', 'S', 'only runs with this status (repeatable)', { multiple: true }),
      str('tag', 'T', 'only runs with this tag'),
      {
        name: 'metric',
        type: 'string',
        value: 'EXPR',
        multiple: true,
        help: "only runs whose final metric passes, e.g. 'test/loss<130', 'test/activeUnits>=5' (< <= > >= = !=; repeatable)",
      },
      str('format', 'csv|json', 'runs export: the file format'),
      outFile('runs export: write here (atomically) instead of stdout'),
      bool('series', 'runs export: every metric point (per step) instead of the runs table'),
      count('points', 'runs show: at most N points per series'),
      str('name', 'N', 'runs edit: the new name'),
      str('tags', 'A,B', 'runs edit: the tags, comma-separated (replaces them; "" for none)'),
      str('notes', 'TEXT', 'runs edit: the notes (replaces them)'),
    ],
  },
  {
    name: 'export',
    summary: 'write a run as a portable bundle (.zip)',
    forms: [
      { usage: 'export <id> --out model.vaewb.zip [--checkpoint ID]', help: "a run's checkpoint, metrics, images and log as one bundle" },
    ],
    flags: [outFile('the bundle file to write'), checkpointId("which checkpoint (default: the run's best, else its last)"), json],
  },
  {
    name: 'import',
    summary: 'import a bundle (verified before anything is written)',
    forms: [
      { usage: 'import model.vaewb.zip [--again] [--json]', help: 'import a bundle; a run already in the store is refused naming it' },
    ],
    flags: [bool('again', "import even when the bundle's run is already in the store"), json],
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
      str('kind', 'KIND', 'prior | reconstruct | traversal | interpolate'),
      count('n', 'how many images'),
      str('seed', 'S', 'the noise seed'),
      str('indices', '1,2', 'test examples (reconstruct, interpolate) or latent dimensions (traversal)'),
      outFile('the PNG to write'),
      checkpointId("which checkpoint (default: the run's best)"),
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
      count('steps', 'training steps per measurement'),
      bool('quick', 'fewer, shorter measurements'),
      bool('time-to-result', 'only the time to result (and ETA error) of the reference experiment'),
      bool('data-parallel', 'only the split ceiling: data and tensor split on probe threads'),
      presetId('with --time-to-result: that preset instead'),
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
      configFile('the sweep file: {config, axes}'),
      str('on', 'slurm|k8s', 'where the grid runs'),
      str('partition', 'P', 'Slurm partition'),
      str('time', 'T', 'Slurm time limit per task'),
      count('cpus', 'CPUs per task'),
      str('mem', 'M', 'memory per task'),
      str('gpus', 'G', 'GPUs per task'),
      count('max-parallel', 'tasks at once'),
      str('dir', 'SHARED_DIR', 'the shared folder every node sees'),
      bool('wait', 'follow the sweep until it ends, importing as tasks finish'),
      json,
      bool('dry-run', '--on k8s: print the manifests'),
      str('image', 'I', '--on k8s: the container image'),
      str('namespace', 'NS', '--on k8s: the namespace'),
      str('storage', 'SIZE', '--on k8s: the PersistentVolumeClaim size'),
      str('task', 'I', 'cancel: only these task indices (repeatable)', { multiple: true }),
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
    flags: [bool('readme', "the README's command list (generated from this table)")],
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
