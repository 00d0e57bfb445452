// Lint = correctness rules + the architecture (src/ never sees the Azure host, env is read at the edges).
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  // examples/ are projects of their own, type-checked by their own tsc against the packed package
  // (test/example); linted here, their imports of the package would not resolve.
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'examples/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      eqeqeq: 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      // A leading underscore marks a parameter a signature requires but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/functions'],
              message: 'src/ is host-neutral: Azure code lives in functions/.',
            },
            { group: ['**/functions/*'], message: 'src/ must not import functions/.' },
            {
              group: ['**/tools/*'],
              message: 'src/ must not import tools/: the operator tools import src/.',
            },
          ],
        },
      ],
    },
  },
  {
    // functions/ is what the Function App runs (bundled into dist/deploy): no operator tool code.
    files: ['functions/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/tools/*'],
              message:
                'functions/ must not import tools/: the deployed package ships without the operator tools.',
            },
          ],
        },
      ],
    },
  },
  {
    // The operator tools' commands (tools/cli) are edges too; the rest of tools/ is held to it.
    files: ['src/**/*.ts', 'tools/**/*.ts'],
    ignores: ['src/http/serve-local.ts', 'tools/cli/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message:
            'Read the environment only at the edges (serve-local, functions/, CLIs); pass Config down.',
        },
      ],
    },
  },
  {
    // Tests deliberately break recorded JSON at arbitrary paths (fixture() returns it untyped);
    // the unsafe-any rules would only force casts there. src/ keeps them all.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
)
