// Process boundaries are lint rules, not conventions: an `electron` import outside
// src-main/app breaks `--serve` on servers, and Node in the renderer breaks the sandbox.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`), 'node:*'];
const noNode = { group: nodeBuiltins, message: 'Node built-ins are not available here.' };
const noElectron = {
  group: ['electron', 'electron/*'],
  message: 'Only src-main/app may import electron (it throws under plain Node).',
};
const noMain = {
  group: ['**/src-main/**', '../src-main/*'],
  message: 'The renderer reaches main only through window.parley.',
};
const noRenderer = { group: ['**/src-renderer/**'], message: 'Main never imports the renderer.' };
const noApp = {
  group: ['**/app/*', './app/*'],
  message: 'Only src-main/index.ts may load src-main/app, and only with a dynamic import().',
};

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
    files: ['src-shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [noNode, noElectron, noMain, noRenderer, { group: ['**/src-renderer/**'] }],
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
      'no-restricted-imports': ['error', { patterns: [noElectron, noRenderer, noApp] }],
    },
  },
  {
    files: ['src-main/app/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noRenderer] }] },
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
          patterns: [
            noNode,
            noElectron,
            noMain,
            {
              group: ['**/tools/**'],
              message: 'The web bridge is dev/test tooling, never part of the app.',
            },
          ],
        },
      ],
    },
  },
);
