// ESLint's flat config must be a default export; project code uses named exports only.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((name) => `node:${name}`)];

export default tseslint.config(
  { ignores: ['node_modules/', '.data/', 'test/artifacts/', 'bench-results/', 'coverage/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { ...globals.node },
      // Typed linting: the promise rules below need the type checker to know what returns a promise.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // An unawaited promise loses its rejection; await it, or mark deliberate fire-and-forget with `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports only.' },
        { selector: 'ExportSpecifier[exported.name="default"]', message: 'Use named exports only.' },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Command-line tools, tests and benchmarks talk to people on the terminal.
    files: ['infra/cli/**/*.ts', 'test/**/*.ts', 'services/*/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    // Workflow code is replayed: it must stay deterministic and free of I/O.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not use Node built-ins.' })),
          patterns: [
            { group: ['**/services/**', '**/infra/**'], message: 'Workflow code must not import services or infra.' },
            {
              // lib/contracts/ holds the pure modules (types, constants, pure functions); the rest of lib may do I/O.
              group: ['**/lib/**', '!**/lib/contracts', '!**/lib/contracts/*'],
              allowTypeImports: true,
              message: 'Workflow code imports only lib/contracts/ (pure types, constants and functions).',
            },
            { group: ['**/activities/**', '**/activities'], allowTypeImports: true, message: 'Import activities as types only.' },
            { group: ['mongodb', 'express', '@temporalio/client', '@temporalio/worker', '@temporalio/activity'], message: 'Workflow code must not do I/O.' },
          ],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'Workflow code reads no environment.' }],
    },
  },
);
