// ESLint flat config: strict type-aware rules for src, relaxed `any` rule only in tests.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.tmp/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use const objects and unions instead of enum.' },
        {
          // V8 in Node 20 takes a slow path (µs, not ns) for an object literal that starts by
          // spreading a non-empty object and then adds members: `{ ...a, b }`. `{ b, ...a }` is fast.
          selector: 'ObjectExpression[properties.length>1] > SpreadElement:first-child',
          message: 'Do not start an object literal with a spread followed by more members (a V8 slow path); put a plain property first or use Object.assign({}, a, { b }).',
        },
      ],
    },
  },
  // Plain JavaScript helpers (a node:test reporter: Node 20 loads reporters before --import hooks) are linted without types.
  { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.mjs'], rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' } },
  // The dashboard's browser script (ui-assets/, served as it is) is linted without types.
  { files: ['ui-assets/**/*.js'], ...tseslint.configs.disableTypeChecked },
  { files: ['ui-assets/**/*.js'], rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' } },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // The spread rule guards hot paths of the product only.
      'no-restricted-syntax': ['error', { selector: 'TSEnumDeclaration', message: 'Use const objects and unions instead of enum.' }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] }],
    },
  },
);
