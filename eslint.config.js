import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // tsup's and vite's temporary config bundles come and go while lint runs beside the build.
  { ignores: ['**/dist/**', '**/node_modules/**', '.tools/**', 'reports/**', 'docs/api/**', '**/*.bundled_*.mjs', '**/*.timestamp-*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Determinism: time and randomness come from the injected clock and PRNG.
    files: ['packages/core/src/**', 'packages/sim-driver/src/**', 'packages/chaos/src/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use the injected Clock.' },
        { object: 'Math', property: 'random', message: 'Use the seeded PRNG.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use clock.sleep().' },
        { name: 'setInterval', message: 'Use clock.sleep() in a loop.' },
      ],
    },
  },
);
