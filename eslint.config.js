// ESLint (flat config) for the TypeScript of the whole repository; `npm run lint` runs it with Prettier.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'dist-*/',
      'lib/',
      'docs/api/',
      'public/',
      'data/',
      'test/fixtures/',
      'examples/*/dist/',
      'examples/*/node_modules/',
      '.cache/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.mjs'],
    rules: {
      // a leading underscore marks a value kept on purpose (e.g. destructured away)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `any` never crosses a public boundary; where a test needs one it says so with a comment
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
);
