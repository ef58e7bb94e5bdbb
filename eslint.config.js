// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import { zones } from './module-map.ts';

const ELECTRON = {
  name: 'electron',
  message: 'Only main/index.ts and main/electron/ may import electron; keep this code runnable under plain Node.'
};
const NOT_RENDERER = { group: ['**/renderer/**'], message: 'main/ never imports the renderer.' };

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'util'];

/** What renderer code may not import: Electron, main/, Node, the preload itself, the e2e harness (it runs main). */
function rendererImports(extra = { paths: [], patterns: [] }) {
  return {
    paths: [{ name: 'electron', message: 'The renderer talks only to window.keydesk.' }, ...extra.paths],
    patterns: [
      { group: ['**/main/**'], message: 'The renderer never imports from main/; use preload/contract.ts types.' },
      { group: nodeBuiltins, message: 'The renderer has no Node.' },
      { group: ['**/preload/index*'], message: 'Import only preload/contract.ts.' },
      { group: ['**/e2e/**'], message: 'The e2e harness runs main; the renderer never imports it.' },
      ...extra.patterns
    ]
  };
}
/** The renderer's test support: renderer/src/testing/, and the tests' Keydesk ('#keydesk', an alias for them). */
const TEST_SUPPORT_MESSAGE = 'Test support is for the renderer’s tests only.';
const TEST_SUPPORT = {
  paths: [{ name: '#keydesk', message: TEST_SUPPORT_MESSAGE }],
  patterns: [{ group: ['**/testing/**', '**/testing'], message: TEST_SUPPORT_MESSAGE }]
};

export default tseslint.config(
  {
    ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'coverage/**', '.cache/**']
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' }
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { attributes: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only']", message: 'No focused tests (.only) in the tree.' },
        {
          selector: "CallExpression[callee.property.name='skip'][arguments.0.type='Literal']",
          message: 'No unconditionally skipped tests; use a conditional skip with a reason.'
        }
      ]
    }
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { ...globals.node } }
  },
  // No import cycles anywhere (type-only imports aside: they vanish at run time). A dynamic import counts too: a
  // lazily loaded module still must not import its loader back.
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs'] },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] }
  },
  // The module map (module-map.ts, shown in docs/ARCHITECTURE.md): what each module of main/ may import. Tests and test
  // support are integration code: they may reach across modules.
  {
    files: ['main/**/*.ts'],
    ignores: ['**/*.test.ts', 'main/testing/**', 'main/**/testing/**'],
    plugins: { 'import-x': importX },
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: zones(import.meta.dirname) }] }
  },
  // Where code runs: only main/index.ts and main/electron/ may import electron.
  {
    files: ['main/**/*.ts', 'e2e/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['main/index.ts', 'main/electron/**', 'e2e/electron/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [ELECTRON], patterns: [NOT_RENDERER] }]
    }
  },
  // Main's production code takes node:fs, node:util and node:crypto from main/builtins.ts (their ES module facades
  // cost every command several milliseconds; see that file). Type imports are free.
  {
    files: ['main/**/*.ts'],
    ignores: ['main/index.ts', 'main/electron/**', 'main/builtins.ts', '**/*.test.ts', 'main/testing/**', 'main/**/testing/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ELECTRON,
            ...['node:fs', 'node:util', 'node:crypto'].map((name) => ({
              name,
              allowTypeImports: true,
              message: `Take ${name} from main/builtins.ts (a value import of it costs every command its module facade).`
            }))
          ],
          patterns: [NOT_RENDERER]
        }
      ]
    }
  },
  // The renderer is DOM only: no Node, no Electron, no main/. Types come from preload/contract.ts.
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.tsx'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', rendererImports(TEST_SUPPORT)]
    }
  },
  // The renderer's unit tests and their DOM-side support: the same rule, and they may use the test support. Main's
  // services reach them only through the tests' Keydesk ('#keydesk').
  {
    files: ['renderer/**/*.test.ts', 'renderer/**/*.test.tsx', 'renderer/src/testing/**'],
    rules: { 'no-restricted-imports': ['error', rendererImports()] }
  },
  // The tests' Keydesk: the one renderer-side module that runs main's services (under Node, in vitest). Never Electron.
  {
    files: ['renderer/src/testing/keydesk.node.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The tests run under plain Node.' }],
          patterns: [{ group: ['**/preload/index*'], message: 'Build the bridge with preload/bridge.ts, as the e2e harness does.' }]
        }
      ]
    }
  },
  // The contract is shared by main, preload and renderer: it may import zod and nothing that runs somewhere in particular.
  {
    files: ['preload/contract.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The contract must load in the renderer too.' }],
          patterns: [
            { group: ['**/main/**', '**/renderer/**'], message: 'The contract depends on nothing but zod.' },
            { group: nodeBuiltins, message: 'The contract must load in the renderer too.' }
          ]
        }
      ]
    }
  }
);
