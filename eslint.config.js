// Lint: the layers of the code (README, "Layers"), checked on every import, plus a few rules that catch
// real mistakes. `npm run lint` runs it with `prettier --check`; `npm test` runs it first.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layers, top to bottom: each folder of src-main/ may import only the folders listed for it (and itself).
// The same table is drawn in README.md. `@shared/...` (src-shared/, Node-free) may be imported from anywhere.
const LAYERS = {
  app: ['hosts', 'api', 'os'], // the Electron shell; of hosts/ only electron/ and the files at its top
  hosts: ['bench', 'api', 'data', 'os'],
  bench: ['api', 'train', 'store', 'vae', 'data', 'kernels', 'os'],
  api: ['sources', 'cluster', 'checkpoints', 'train', 'store', 'data', 'vae', 'kernels', 'os'],
  cluster: ['checkpoints', 'train', 'store', 'data', 'os'], // sweeps on Slurm / Kubernetes: submit, follow, import
  sources: ['checkpoints', 'store', 'data', 'os'], // watched folders of runs logged by the vaewb Python client
  train: ['checkpoints', 'vae', 'data', 'kernels', 'os'],
  store: ['os'],
  checkpoints: ['vae', 'data', 'os'],
  vae: ['data', 'kernels'],
  data: ['os'],
  kernels: [],
  os: [], // tiny Node utilities every layer may use: process identity, atomic file writes
};
const FOLDERS = Object.keys(LAYERS);

// No cycles between folders: the table must be a DAG (a cycle here would let two folders import each other).
(function assertAcyclic() {
  const state = new Map();
  const visit = (f, trail) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') throw new Error(`eslint.config.js: layer cycle ${[...trail, f].join(' -> ')}`);
    state.set(f, 'open');
    for (const g of LAYERS[f]) visit(g, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of FOLDERS) visit(f, []);
})();

const NODE_BUILTINS =
  '^(node:|(assert|buffer|child_process|crypto|events|fs|http|https|net|os|path|process|stream|url|util|worker_threads|zlib)(/|$))';
const nodeFree = (where) => ({
  regex: NODE_BUILTINS,
  message: `${where} is Node-free (it runs in the renderer): no Node built-ins here.`,
});
const allowedText = (folder) => [...LAYERS[folder].map((f) => `${f}/`), '@shared'].join(', ');

// The restrictions every file of src-main/ carries, whatever its folder: ESLint flat config REPLACES a rule's
// options when a later block matches the same file, so each block below states all of them for its files
// (one block per file: the globs do not overlap), never a part that an earlier block would have to supply.
const RENDERER_BAN = { regex: '(^|/)src-(renderer)(/|$)', message: 'src-main/ never imports the renderer.' };
const SHARED_BY_ALIAS = {
  regex: '^(\\.\\./)+src-shared(/|$)',
  message: 'import the shared module as @shared/... (tsconfig paths).',
};
const ONLY_ELECTRON_HOST = {
  regex: '^(\\.\\./)+hosts/(web|cli)(/|$)',
  message: 'src-main/app/ (the Electron shell) may import hosts/electron/ and hosts/*.ts, not the web host or the CLI.',
};
const INDEPENDENT_HOSTS = {
  regex: '^\\.\\./(cli|web|electron)(/|$)',
  message: 'hosts/electron/ and hosts/web/ are independent of each other and of hosts/cli/ (only cli/ may start the web host).',
};

/** The same pattern for `await import('...')`, which no-restricted-imports does not see (esquery regex syntax). */
const dynamicImportBan = ({ regex, message }) => ({
  selector: `ImportExpression > Literal[value=/${regex.replaceAll('/', '\\/')}/]`,
  message,
});

/** The import restrictions of one group of files of src-main/: the folders its layer may not import (by relative
 *  path), the renderer, src-shared by relative path, plus the group's own `extra` patterns; static and dynamic. */
function layerRule(files, folder, extra = []) {
  const forbidden = folder ? FOLDERS.filter((f) => f !== folder && !LAYERS[folder].includes(f)) : [];
  const patterns = [
    ...(forbidden.length
      ? [
          {
            regex: `^(\\.\\./)+(src-main/)?(${forbidden.join('|')})(/|$)`,
            message: `src-main/${folder}/ may import only ${allowedText(folder)} (imports go down the layers; README, "Layers").`,
          },
        ]
      : []),
    RENDERER_BAN,
    SHARED_BY_ALIAS,
    ...extra,
  ];
  return {
    files,
    rules: {
      'no-restricted-imports': ['error', { patterns }],
      'no-restricted-syntax': ['error', ...patterns.map(dynamicImportBan)],
    },
  };
}

// train/ is split by where its code runs (README, "Layers"): each part may import only the parts listed for it.
// process/ may import worker/ as types only (the protocol of the thread it starts, never the thread's code), and
// the parts the main process loads (host/) or any runtime may load (common/, progress/) never load tfjs.
const TRAIN_PARTS = {
  common: [], // tfjs-free code every runtime loads: the trainer's messages, the backend probe, PNG grids
  progress: [], // the ETA, the phase clock, the step rate: pure bookkeeping
  host: ['common'], // the main process (service, CLI, web host): the scheduler and the trainer's launcher
  compute: ['common'], // tfjs code both the trainer process and its worker run: backend, shard steps, test points
  worker: ['compute', 'common'], // the worker thread on an idle core: its entry, its shard replica, its messages
  process: ['compute', 'common', 'progress'], // the trainer process: the loop, its callbacks, the run's steps
};
const TFJS_FREE_PARTS = ['common', 'progress', 'host'];
const TRAIN_PART_NAMES = Object.keys(TRAIN_PARTS);

/** The extra patterns of one part of train/: the sibling parts it may not import, and tfjs where it may not load. */
function trainPartPatterns(part) {
  const forbidden = TRAIN_PART_NAMES.filter((p) => p !== part && !TRAIN_PARTS[part].includes(p));
  const allowed = [...TRAIN_PARTS[part].map((p) => `${p}/`), ...(part === 'process' ? ['worker/ (types only)'] : [])];
  const typesOnly = forbidden.filter((p) => part === 'process' && p === 'worker');
  const never = forbidden.filter((p) => !typesOnly.includes(p));
  const message = `src-main/train/${part}/ may import only ${allowed.join(', ') || 'none'} of train/ (README, "Layers").`;
  return [
    ...(never.length ? [{ regex: `^\\.\\./(${never.join('|')})(/|$)`, message }] : []),
    ...typesOnly.map((p) => ({ regex: `^\\.\\./${p}(/|$)`, message, allowTypeImports: true })),
    ...(TFJS_FREE_PARTS.includes(part)
      ? [{ regex: '^@tensorflow/', message: `src-main/train/${part}/ never loads tfjs (it runs in the main process or anywhere).` }]
      : []),
  ];
}

/** One block per file of src-main/: each layer folder, hosts/ and train/ split by sub-folder, and the entry files at the top. */
const SRC_MAIN_RULES = [
  ...FOLDERS.filter((f) => f !== 'hosts' && f !== 'train').map((f) =>
    layerRule([`src-main/${f}/**/*.ts`], f, f === 'app' ? [ONLY_ELECTRON_HOST] : []),
  ),
  layerRule(['src-main/train/*.ts'], 'train'),
  ...TRAIN_PART_NAMES.map((part) => layerRule([`src-main/train/${part}/**/*.ts`], 'train', trainPartPatterns(part))),
  // hosts/: cli/ may start the web host (serve); the Electron host and the web host never import each other or the CLI.
  layerRule(['src-main/hosts/*.ts', 'src-main/hosts/cli/**/*.ts'], 'hosts'),
  layerRule(['src-main/hosts/electron/**/*.ts', 'src-main/hosts/web/**/*.ts'], 'hosts', [INDEPENDENT_HOSTS]),
  layerRule(['src-main/*.ts'], null), // testkit.ts: the build entry of the integration suites, above every layer
];

// Size per file, so a class or a component script cannot grow where max-lines-per-function does not look: at
// most FILE_LINES lines of code in a .ts file, SCRIPT_LINES in a Svelte component's <script> (blank and comment
// lines not counted). A file over it is listed here with its own ceiling (its size when listed plus some room for
// the work in flight) and the reason; the list only shrinks.
const FILE_LINES = 400;
const SCRIPT_LINES = 250;
export const SIZE_EXCEPTIONS = {
  'src-main/api/service.ts': [
    480,
    'the one service implementing the contract: runs, trainer lifecycle and the table of handlers (topics in *-handlers.ts)',
  ],
  'src-main/bench/kernel-bench.ts': [520, 'the kernel benchmarks: one independent measurement after another'],
  'src-renderer/src/views/Runs.svelte': [400, 'the runs table with its page cache, to move to a tested lib/ module (issue 26)'],
  'src-renderer/src/components/CompareChart.svelte': [360, 'the comparison chart: its plugins and tooltips, each small'],
  'src-renderer/src/views/Launch.svelte': [320, 'the launch form: one block per group of config fields'],
  'src-renderer/src/views/Compare.svelte': [300, 'the comparison view: colour scale and loader to move to lib/ (issue 26)'],
};

/** `local/max-script-lines`: lines of code inside a Svelte component's <script> elements (tokens, so comments
 *  and blank lines do not count), at most `max`. */
const maxScriptLines = {
  meta: {
    type: 'suggestion',
    schema: [{ type: 'object', properties: { max: { type: 'integer', minimum: 1 } }, additionalProperties: false }],
    messages: { tooLong: 'Component script has too many lines ({{count}}). Maximum allowed is {{max}}.' },
  },
  create(context) {
    const max = context.options[0]?.max ?? SCRIPT_LINES;
    return {
      SvelteScriptElement(node) {
        const [from, to] = [node.startTag.range[1], node.endTag ? node.endTag.range[0] : node.range[1]];
        const lines = new Set();
        for (const token of context.sourceCode.ast.tokens) {
          if (token.range[0] < from || token.range[1] > to) continue;
          for (let line = token.loc.start.line; line <= token.loc.end.line; line++) lines.add(line);
        }
        if (lines.size > max) context.report({ node: node.startTag, messageId: 'tooLong', data: { count: lines.size, max } });
      },
    };
  },
};
const sizeRules = (max) => ({
  'max-lines': ['error', { max: max ?? FILE_LINES, skipBlankLines: true, skipComments: true }],
  'local/max-script-lines': ['error', { max: max ?? SCRIPT_LINES }],
});

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'dist/**', 'release/**', '.scratch/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/base'],
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      // The few rules beyond the layers; the tree passes them today.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-non-null-asserted-optional-chain': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // One responsibility per function: none over 80 lines of code in the app (tests are exempt); the few
    // exceptions carry their reason in an eslint-disable comment.
    files: ['src-main/**/*.ts', 'src-shared/**/*.ts', 'src-renderer/**/*.{ts,svelte}'],
    plugins: { local: { rules: { 'max-script-lines': maxScriptLines } } },
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
      'max-lines': sizeRules()['max-lines'],
    },
  },
  {
    files: ['src-renderer/**/*.svelte'],
    rules: { 'max-lines': 'off', 'local/max-script-lines': sizeRules()['local/max-script-lines'] },
  },
  ...Object.entries(SIZE_EXCEPTIONS).map(([file, [max]]) => ({
    files: [file],
    rules: file.endsWith('.svelte')
      ? { 'local/max-script-lines': sizeRules(max)['local/max-script-lines'] }
      : { 'max-lines': sizeRules(max)['max-lines'] },
  })),
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    files: ['src-renderer/**/*.{ts,svelte}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)src-main(/|$)',
              message: 'src-renderer/ may import only @shared/... (the contract), never src-main/ (README, "Layers").',
            },
            { regex: '^(\\.\\./)+src-shared(/|$)', message: 'import the shared module as @shared/... (tsconfig paths).' },
            nodeFree('src-renderer/'),
          ],
        },
      ],
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./', message: 'src-shared/ is the bottom layer: it imports only itself and zod (README, "Layers").' },
            { regex: '^@shared/', message: 'inside src-shared/ import siblings as ./file.' },
            nodeFree('src-shared/'),
          ],
        },
      ],
    },
  },
  ...SRC_MAIN_RULES,
);
