import type { StewardConfigInput } from '../schema.js';

/** Prod: the users' runbook targets (daily 03:00 UTC kept 30 days, GFS, DR copies to us-west-2). */
export const prod = {
  stage: 'prod',
  region: 'eu-west-1',
  notifications: { critical: { emails: [] }, warning: { emails: [] }, info: { emails: [] } },
  backup: {
    preChangeRetainDays: 90,
    policies: {
      daily: { schedule: 'cron(0 3 * * ? *)', retention: 'standard', copyToDr: true },
      cache: { schedule: 'cron(0 3 * * ? *)', kinds: ['elasticache'], retention: 'cache' },
    },
  },
  retention: {
    maxDeletionsPerRun: 50,
    policies: {
      standard: { daily: 30, weekly: 8, monthly: 12, yearly: 3, keepAtLeast: 7 },
      cache: { daily: 7, keepAtLeast: 3 },
    },
  },
  dr: {
    region: 'us-west-2',
    kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr',
  },
  drill: {
    enabled: true,
    rtoSeconds: 3600,
    rpoSeconds: 300,
    targets: {
      'orders-db': {
        kind: 'rds-instance',
        snapshot: 'latest',
        profile: {
          database: 'orders',
          schemas: ['public'],
          tables: [
            { name: 'users', minRows: 1, freshnessColumn: 'created_at' },
            { name: 'accounts', minRows: 1 },
            {
              name: 'transactions',
              minRows: 1,
              freshnessColumn: 'created_at',
              checksum: { sampleRows: 1000, orderBy: 'id' },
            },
          ],
          assertions: [
            {
              name: 'every transaction has an account',
              sql: 'select not exists (select 1 from transactions t left join accounts a on a.id = t.account_id where a.id is null)',
            },
          ],
        },
      },
    },
  },
} satisfies StewardConfigInput;
