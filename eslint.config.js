import tseslint from 'typescript-eslint';
import jest from 'eslint-plugin-jest';
import globals from 'globals';

const NO_SANDBOX = { group: ['**/sandbox/**', '../sandbox/*', './sandbox/*'], message: 'The BFF must not import the sandbox ASPSP.' };
const DATABASE_ONLY_IN_STORES =
  'Only *.store.ts, *.entity.ts and *.module.ts files in src/modules may use TypeORM: read and write tables through the owning store.';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', 'artifacts/**', '*.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // The BFF never loads the simulator: only the sandbox's own tree, the launcher and tests may.
    files: ['src/**/*.ts'],
    ignores: ['src/sandbox/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [NO_SANDBOX] }],
    },
  },
  {
    // One owner per table: only a module's stores (and its entities and module wiring) touch the
    // database. Services, controllers and everything else go through a store.
    files: ['src/modules/**/*.ts'],
    ignores: ['src/modules/**/*.store.ts', 'src/modules/**/*.entity.ts', 'src/modules/**/*.module.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'typeorm', message: DATABASE_ONLY_IN_STORES },
            { name: '@nestjs/typeorm', message: DATABASE_ONLY_IN_STORES },
          ],
          patterns: [NO_SANDBOX, { group: ['typeorm/*', '@nestjs/typeorm/*'], message: DATABASE_ONLY_IN_STORES }],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    ...jest.configs['flat/recommended'],
    rules: {
      ...jest.configs['flat/recommended'].rules,
      'jest/valid-expect': ['error', { alwaysAwait: true }],
      'jest/no-disabled-tests': 'error',
      'jest/no-focused-tests': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'request.**.expect', '**.expect'] }],
    },
  },
  {
    // The demo page's browser modules: plain JS with JSDoc types, type-checked by public/tsconfig.json.
    files: ['public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-undef': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
      // Data from the API becomes text nodes: markup from strings is refused outright.
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML'].map((property) => ({
          property,
          message: 'Build elements with h() from dom.js: API data must never be parsed as HTML.',
        })),
        ...['write', 'writeln'].map((property) => ({
          object: 'document',
          property,
          message: 'Build elements with h() from dom.js: API data must never be parsed as HTML.',
        })),
      ],
      'no-restricted-globals': [
        'error',
        { name: 'localStorage', message: 'The user token lives in sessionStorage only (session.js).' },
        { name: 'eval', message: 'No eval: the CSP forbids it.' },
      ],
      'no-implied-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    files: ['src/cli/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
