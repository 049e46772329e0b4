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
  // Alarm-driven responses (README: Scaling and remediation playbooks): the users' runbooks, guarded.
  scaling: {
    enabled: true,
    rules: {
      'orders-db-cpu': {
        alarm: {
          name: 'orders-db-cpu-high',
          create: { metric: 'CPUUtilization', threshold: 80, periodSeconds: 60, evaluationPeriods: 10 },
        },
        resource: 'orders-db',
        action: {
          type: 'rds.scaleUp',
          ladder: ['db.r6g.large', 'db.r6g.xlarge', 'db.r6g.2xlarge'],
          max: 'db.r6g.2xlarge',
          applyImmediately: true,
        },
      },
      'orders-db-connections': {
        alarm: {
          name: 'orders-db-connections-high',
          create: { metric: 'DatabaseConnections', threshold: 800, periodSeconds: 300, evaluationPeriods: 2 },
        },
        resource: 'orders-db',
        action: { type: 'rds.addReadReplica', maxReplicas: 2 },
      },
      'sessions-redis-memory': {
        alarm: {
          name: 'sessions-redis-memory-high',
          create: {
            metric: 'DatabaseMemoryUsagePercentage',
            threshold: 80,
            evaluationPeriods: 10,
            dimensions: { CacheClusterId: 'sessions-redis-0001-001' },
          },
        },
        resource: 'sessions-redis',
        action: { type: 'elasticache.addShard', max: 4 },
      },
      // Recovery playbook: a human approves the failover steward proposes.
      'orders-db-failover': {
        alarm: { name: 'orders-db-unhealthy' },
        resource: 'orders-db',
        action: { type: 'rds.failover' },
        mode: 'approve',
        severity: 'critical',
      },
    },
  },
  // Cost alerts (README: Cost alerts): the three billing alarms and the LLM/API rule, checked daily at 07:00 UTC.
  cost: {
    enabled: true,
    schedule: 'cron(0 7 * * ? *)',
    thresholds: [
      { amountUsd: 2000, severity: 'warning' },
      { amountUsd: 2500, severity: 'warning' },
      { amountUsd: 3000, severity: 'critical' },
    ],
    hourlyLimits: [
      {
        id: 'llm-api',
        services: ['Amazon Bedrock', '*(Amazon Bedrock Edition)'],
        maxUsdPerHour: 100,
        severity: 'critical',
      },
    ],
  },
} satisfies StewardConfigInput;
