import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// One zod entry point, so the message locale is always registered before a parse.
const ZOD_PATHS = [
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
];

// A capability imports no adapter and no SDK: it declares ports, adapters in shared/aws implement them.
const CAPABILITY_IMPORTS = {
  group: ['**/aws/*', '@aws-sdk/*'],
  message:
    'A capability declares ports (shared/<cap>/ports.ts); adapters in shared/aws implement them and the handler wires them.',
};

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'dist/', 'coverage/', '.bench/', '.sdk-build/'] },
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
    files: ['shared/**/*.ts', 'functions/**/*.ts', 'cli/**/*.ts', 'infra/**/*.ts'],
    ignores: ['shared/zod.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ZOD_PATHS,
        },
      ],
    },
  },
  {
    // Ports and adapters: a capability declares the ports it needs; only the wiring (functions/*/handler.ts,
    // the CLI) joins them to the adapters in shared/aws. Arrows point shared/aws -> shared/<cap>, never back.
    files: ['shared/{backup,retention,drill,cost,scaling,report}/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [CAPABILITY_IMPORTS],
          paths: ZOD_PATHS,
        },
      ],
    },
  },
  {
    // Every SDK client comes from its factory in shared/aws/clients/ (one module per client, the retries and
    // timeouts in their kit.ts), the state table's document client from state-table-client.ts: a chunk carries
    // only the clients its code uses.
    files: ['shared/**/*.ts', 'functions/**/*.ts', 'cli/**/*.ts'],
    ignores: ['shared/aws/clients/*.ts', 'shared/aws/state-table-client.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'NewExpression[callee.name=/Client$/]',
          message:
            'Build SDK clients in shared/aws/clients/ (one factory per client, retries and timeouts in kit.ts).',
        },
        {
          selector:
            'CallExpression[callee.object.name="DynamoDBDocumentClient"][callee.property.name="from"]',
          message: 'Use stateTableClient() from shared/aws/state-table-client.ts.',
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
      'shared/report/{health,schedule,model,format,evidence,render}*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [CAPABILITY_IMPORTS],
          paths: ZOD_PATHS,
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
