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

/** The import restrictions of one folder of src-main/: every folder it may not import, by relative path. */
function layerRule(folder, depth, extra = []) {
  const forbidden = FOLDERS.filter((f) => f !== folder && !LAYERS[folder].includes(f));
  const up = depth === 1 ? '\\.\\./' : '(\\.\\./){1,2}';
  return {
    files: [depth === 1 ? `src-main/${folder}/**/*.ts` : `src-main/${folder}/*/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length
              ? [
                  {
                    regex: `^(\\.\\./)+(src-main/)?(${forbidden.join('|')})(/|$)`,
                    message: `src-main/${folder}/ may import only ${allowedText(folder)} (imports go down the layers; README, "Layers").`,
                  },
                ]
              : []),
            { regex: '(^|/)src-(renderer)(/|$)', message: 'src-main/ never imports the renderer.' },
            { regex: `^${up}(\\.\\./)*src-shared(/|$)`, message: 'import the shared module as @shared/... (tsconfig paths).' },
            ...extra,
          ],
        },
      ],
      // The same rule for `await import('...')`, which no-restricted-imports does not see.
      ...(forbidden.length
        ? {
            'no-restricted-syntax': [
              'error',
              {
                selector: `ImportExpression > Literal[value=/^(\\.\\.\\/)+(src-main\\/)?(${forbidden.join('|')})(\\/|$)/]`,
                message: `src-main/${folder}/ may import only ${allowedText(folder)} (imports go down the layers; README, "Layers").`,
              },
            ],
          }
        : {}),
    },
  };
}

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
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
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
  ...FOLDERS.filter((f) => f !== 'hosts' && f !== 'app').map((f) => layerRule(f, 1)),
  // hosts/: cli/ may start the web host (serve); the Electron host and the web host never import each other or the CLI.
  layerRule('hosts', 1),
  layerRule('hosts', 2),
  {
    files: ['src-main/hosts/electron/**/*.ts', 'src-main/hosts/web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(src-main/)?(${FOLDERS.filter((f) => !LAYERS.hosts.includes(f) && f !== 'hosts').join('|')})(/|$)`,
              message: `src-main/hosts/ may import only ${allowedText('hosts')} (imports go down the layers; README, "Layers").`,
            },
            {
              regex: '^\\.\\./(cli|web|electron)(/|$)',
              message: 'hosts/electron/ and hosts/web/ are independent of each other and of hosts/cli/ (only cli/ may start the web host).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-main/app/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(\\.\\./)+(src-main/)?(${FOLDERS.filter((f) => !LAYERS.app.includes(f) && f !== 'app').join('|')})(/|$)`,
              message: `src-main/app/ may import only hosts/electron/, hosts/*.ts, api/, @shared (README, "Layers").`,
            },
            {
              regex: '^\\.\\./hosts/(web|cli)(/|$)',
              message: 'src-main/app/ (the Electron shell) may import hosts/electron/ and hosts/*.ts, not the web host or the CLI.',
            },
          ],
        },
      ],
    },
  },
);
