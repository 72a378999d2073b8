// Process boundaries and layers are lint rules, not conventions: an `electron` import outside
// src-main/app breaks `--serve` on servers, Node in the renderer breaks the sandbox, and an
// import up the layers is how a reshaping starts to tangle.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import boundaries from 'eslint-plugin-boundaries';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'node:*'];
const noNode = { group: nodeBuiltins, message: 'Node built-ins are not available here.' };
const noElectron = {
  group: ['electron', 'electron/*'],
  message: 'Only src-main/app may import electron (it throws under plain Node).',
};
const noApp = {
  group: ['**/app/*', './app/*'],
  message: 'Only src-main/index.ts may load src-main/app, and only with a dynamic import().',
};

// The layers, lowest first, and what each may import besides itself (docs/architecture.md draws
// the same graph). Within src-main:
//
//   protocol ← store ← trust ← client, server ← service ← app, cli ← index.ts
//
// app (the Electron glue) reaches the rest only through service; service never imports server.
// src-shared is pure and imports no other folder; src-renderer imports only src-shared.
// tools/, bench/ and test/ may import anything, and nothing in src-* imports them.
const LAYERS = [
  { type: 'shared', path: 'src-shared', may: [] },
  { type: 'renderer', path: 'src-renderer', may: ['shared'] },
  { type: 'protocol', path: 'src-main/protocol', rank: 0, may: ['shared'] },
  { type: 'store', path: 'src-main/store', rank: 1, may: ['protocol', 'shared'] },
  { type: 'trust', path: 'src-main/trust', rank: 2, may: ['store', 'protocol', 'shared'] },
  // End-to-end encryption (MLS behind a Parley adapter): used by the client, and by the host
  // only to check the public parts (headers, KeyPackages) of what it relays.
  { type: 'e2ee', path: 'src-main/e2ee', rank: 2, may: ['store', 'protocol', 'shared'] },
  {
    type: 'client',
    path: 'src-main/client',
    rank: 3,
    may: ['e2ee', 'trust', 'store', 'protocol', 'shared'],
  },
  {
    type: 'server',
    path: 'src-main/server',
    rank: 3,
    may: ['e2ee', 'trust', 'store', 'protocol', 'shared'],
  },
  {
    type: 'service',
    path: 'src-main/service',
    rank: 4,
    may: ['client', 'e2ee', 'trust', 'store', 'protocol', 'shared'],
  },
  {
    type: 'cli',
    path: 'src-main/cli',
    rank: 5,
    may: ['service', 'server', 'client', 'e2ee', 'trust', 'store', 'protocol', 'shared'],
  },
  // The Electron glue reaches the chat only through the service, which is tested without Electron.
  { type: 'app', path: 'src-main/app', rank: 5, may: ['service', 'shared'] },
  // The one file outside a layer: it hands the command line over to a front end.
  { type: 'entry', path: 'src-main/index.ts', file: true, rank: 6, may: ['cli', 'app'] },
  { type: 'tools', path: 'tools' },
  { type: 'bench', path: 'bench' },
  { type: 'test', path: 'test' },
];
const TOOLING = new Set(['tools', 'bench', 'test']);
const label = (layer) => (TOOLING.has(layer.type) ? `${layer.path}/` : layer.path);

/** Why `from` may not import `to`: the lint message names both and the rule that was crossed. */
function crossing(from, to) {
  const why = (() => {
    if (from.type === 'shared') return 'pure code imports nothing from a process';
    if (TOOLING.has(to.type)) return 'development and test tooling is never part of the app';
    if (from.type === 'renderer') return 'the renderer reaches main only through window.parley';
    if (to.type === 'renderer') return 'main never imports the renderer';
    if (to.type === 'entry') return 'the entry point is imported by nobody';
    if (from.type === 'app') return 'the Electron glue reaches the chat only through the service';
    if (from.type === 'entry') return 'the entry point only hands over to a front end, cli or app';
    if (to.rank > from.rank) {
      return 'a layer imports only the layers below it: protocol ← store ← trust ← client, server ← service ← app, cli';
    }
    if (to.rank === from.rank) {
      return `${from.type} and ${to.type} stand side by side: what both need belongs in a layer below`;
    }
    if (from.type === 'service')
      return 'the desktop service talks to hosts as a client, it runs none';
    return 'not among the layers it may import';
  })();
  return `${label(from)} must not import ${label(to)} (${why}).`;
}

const selector = (layer) =>
  layer.file ? { file: { categories: layer.type } } : { element: { type: layer.type } };
const layerPolicies = LAYERS.filter((from) => from.may).flatMap((from) =>
  LAYERS.filter((to) => to !== from && !from.may.includes(to.type)).map((to) => ({
    from: selector(from),
    disallow: { to: selector(to) },
    message: crossing(from, to),
  })),
);

export default tseslint.config(
  {
    ignores: ['node_modules/', 'out/', 'dist/', 'test-results/', 'coverage/'],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'off',
    },
  },
  {
    // Layers: every import (static, dynamic, re-export, type-only) between two of them is checked.
    files: ['src-*/**/*.ts', 'src-*/**/*.svelte'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': LAYERS.filter((layer) => !layer.file).map(({ type, path }) => ({
        type,
        pattern: path,
        partialMatch: false,
      })),
      // A file, not a folder: the elements above are folders.
      'boundaries/files': LAYERS.filter((layer) => layer.file).map(({ type, path }) => ({
        category: type,
        pattern: path,
      })),
      'boundaries/dependency-nodes': ['import', 'dynamic-import', 'export'],
    },
    rules: {
      // Every pair LAYERS forbids has a policy of its own (so its message can name the pair);
      // whatever no policy forbids is allowed.
      'boundaries/dependencies': ['error', { default: 'allow', policies: layerPolicies }],
      // A new folder in src-main must be given a place in LAYERS before it can import anything.
      'boundaries/no-unknown-files': 'error',
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [noNode, noElectron],
        },
      ],
      'no-restricted-globals': [
        'error',
        'process',
        'Buffer',
        'window',
        'document',
        'require',
        '__dirname',
      ],
    },
  },
  {
    files: [
      'src-main/**/*.ts',
      'test/**/*.ts',
      'bench/**/*.ts',
      'scripts/**/*.ts',
      'tools/**/*.ts',
      '*.ts',
      '*.js',
    ],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // Code that runs in the page: the bridge's browser adapter and component tests.
    files: ['tools/web-bridge/browser/**/*.ts', 'test/component/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    files: ['src-main/**/*.ts'],
    ignores: ['src-main/app/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [noElectron, noApp] }],
    },
  },
  {
    files: ['src-renderer/**/*.ts', 'src-renderer/**/*.svelte', 'src-renderer/**/*.svelte.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [noNode, noElectron],
        },
      ],
    },
  },
);
