import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', '.bench/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'Do not commit .only' },
        { object: 'it', property: 'only', message: 'Do not commit .only' },
        { object: 'test', property: 'only', message: 'Do not commit .only' },
        { object: 'describe', property: 'skip', message: 'Do not commit .skip' },
        { object: 'it', property: 'skip', message: 'Do not commit .skip' },
        { object: 'test', property: 'skip', message: 'Do not commit .skip' },
      ],
    },
  },
  {
    // One zod entry point, so the message locale is always registered before a parse.
    files: ['shared/**/*.ts', 'functions/**/*.ts', 'cli/**/*.ts', 'infra/**/*.ts'],
    ignores: ['shared/zod.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'zod',
              message: 'Import zod from shared/zod.js (zod/mini with English messages)',
              allowTypeImports: true,
            },
            {
              name: 'zod/mini',
              message: 'Import zod from shared/zod.js (it registers the English messages)',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    // Pure policy engines: no SDK, no env, no clock.
    files: [
      'shared/retention/**/*.ts',
      'shared/backup/plan*.ts',
      'shared/scaling/**/*.ts',
      'shared/cost/engine*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['@aws-sdk/*'],
          paths: [
            {
              name: 'zod',
              message: 'Import zod from shared/zod.js (zod/mini with English messages)',
              allowTypeImports: true,
            },
            {
              name: 'zod/mini',
              message: 'Import zod from shared/zod.js (it registers the English messages)',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Policy code takes time as an argument' },
        { object: 'process', property: 'env', message: 'Policy code takes config as an argument' },
        { object: 'Math', property: 'random', message: 'Policy code is deterministic' },
      ],
    },
  },
);
