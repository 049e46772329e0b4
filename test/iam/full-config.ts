import type { StewardConfigInput } from '../../shared/config/schema.js';

/** The account the full config deploys to, and the other account that owns its DR key. */
export const FULL_ACCOUNT = '111122223333';
export const DR_KEY_ACCOUNT = '444455556666';
/** The backup vault's account: the backup role shares with it and assumes its copy role there. */
export const FULL_VAULT_ACCOUNT = '777788889999';
export const DR_KEY_ARN = `arn:aws:kms:us-west-2:${DR_KEY_ACCOUNT}:key/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9`;

/** Slack and Teams channels and the PagerDuty route, as a stage configures them. */
export const CHAT_AND_PAGER = {
  chat: {
    slack: { workspaceId: 'T07ABCDEF12', channelId: 'C07ABCDEF12' },
    teams: {
      teamId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
      tenantId: '1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d',
      channelId: '19:0a1b2c3d4e5f@thread.tacv2',
    },
  },
  pagerDuty: { routingKeySecret: 'steward/pagerduty-routing-key' },
};

const profile = {
  database: 'app',
  tables: [{ name: 'transactions', minRows: 1, freshnessColumn: 'created_at' }],
};

/**
 * Every branch of the infra on at once, so every statement a stage could synthesize is simulated:
 * backups of all four kinds (EBS too) with DR copies under a key in another account, retention in both regions,
 * instance, Aurora and point-in-time drills (both logins: IAM authentication, master and configured
 * secrets), every scaling action with scale-in, approvals, SNS-delivered alarms, cost alerts with an
 * anomaly topic, chat channels and the PagerDuty route, and a cross-account backup vault.
 */
export const fullConfig = {
  stage: 'staging',
  region: 'eu-west-1',
  account: FULL_ACCOUNT,
  notifications: CHAT_AND_PAGER,
  backup: {
    policies: {
      daily: { kinds: ['rds-instance', 'aurora-cluster', 'elasticache', 'ebs'], copyToDr: true },
      cache: { kinds: ['elasticache'], retention: 'cache' },
      // Application consistency of EC2 instances: steward's document, a freeze and a dump to S3.
      mongo: {
        kinds: ['ebs'],
        consistency: {
          pre: "mongosh --quiet --eval 'db.fsyncLock()'",
          post: "mongosh --quiet --eval 'db.fsyncUnlock()'",
          dump: { command: 'mongodump --archive --gzip', bucket: 'team-dumps', prefix: 'steward/' },
        },
      },
    },
  },
  retention: {
    includeDrRegion: true,
    policies: { standard: { daily: 30, keepAtLeast: 3 }, cache: { daily: 7 } },
  },
  dr: { region: 'us-west-2', kmsKeyArn: DR_KEY_ARN },
  fleet: {
    externalId: 'steward-staging-fleet',
    vault: { account: FULL_VAULT_ACCOUNT, retention: 'standard' },
  },
  drill: {
    enabled: true,
    targets: {
      // Both logins: IAM database authentication (the default, two roles) and secrets (master and configured).
      'orders-db': { kind: 'rds-instance', snapshot: 'latest', profile },
      'ledger-cluster': {
        kind: 'aurora-cluster',
        snapshot: { randomWithinDays: 7 },
        profile,
        auth: 'secret',
      },
      'payments-db': {
        kind: 'rds-instance',
        snapshot: { pointInTime: '2026-01-15T10:00:00Z' },
        profile,
        auth: 'secret',
        secretArn: `arn:aws:secretsmanager:eu-west-1:${FULL_ACCOUNT}:secret:payments-db-master-AbCdEf`,
      },
      'archive-db': {
        kind: 'rds-instance',
        snapshot: { id: 'archive-db-before-migration' },
        profile,
        iamUser: 'archive_reader',
      },
      'analytics-cluster': { kind: 'aurora-cluster', profile },
      // Drills from the backup vault: an instance (copied into the hub first) and a cluster (restored shared).
      'orders-vault': { kind: 'rds-instance', from: 'vault', profile },
      'ledger-vault': { kind: 'aurora-cluster', from: 'vault', profile },
    },
    // Redis drills: one from its snapshots with the IAM login, one from the DR copy without AUTH, one with
    // the source's AUTH token and one with its RBAC user (both read from a secret).
    caches: {
      'sessions-redis': { auth: 'iam', snapshot: { randomWithinDays: 7 } },
      'rate-limits': { auth: 'none', from: 'dr' },
      'carts-redis': {
        auth: 'token',
        secretArn: `arn:aws:secretsmanager:eu-west-1:${FULL_ACCOUNT}:secret:carts-redis-auth-AbCdEf`,
      },
      'queue-redis': {
        auth: 'user',
        secretArn: `arn:aws:secretsmanager:eu-west-1:${FULL_ACCOUNT}:secret:queue-redis-app-AbCdEf`,
        userGroupId: 'queue-redis-users',
      },
    },
    // EBS drills: an instance's whole set with fast snapshot restore and a verifier, one volume on its own from
    // its DR copies (restored in the DR region), and an instance from the vault's copies of its sets.
    volumes: {
      'i-0a1b2c3d4e5f60718': { fastSnapshotRestore: true, verify: { command: 'fsck -n /dev/sdf1' } },
      'vol-0a1b2c3d4e5f60718': { snapshot: { randomWithinDays: 7 }, from: 'dr' },
      'i-0b1c2d3e4f5a60719': { from: 'vault' },
    },
  },
  scaling: {
    enabled: true,
    alarmTopicArns: [`arn:aws:sns:eu-west-1:${FULL_ACCOUNT}:ops-alarms`],
    rules: {
      'orders-db-cpu': {
        alarm: { name: 'orders-db-cpu-high', create: { metric: 'CPUUtilization', threshold: 80 } },
        resource: 'orders-db',
        action: {
          type: 'rds.scaleUp',
          ladder: ['db.r6g.large', 'db.r6g.xlarge', 'db.r6g.2xlarge'],
          max: 'db.r6g.2xlarge',
          applyImmediately: true,
        },
        scaleIn: { enabled: true },
      },
      'reports-db-cpu': {
        alarm: { prefix: 'reports-db-cpu-' },
        resource: 'reports-db',
        action: { type: 'rds.scaleUp', max: 'db.m6g.4xlarge' },
      },
      'orders-db-connections': {
        alarm: { name: 'orders-db-connections-high' },
        resource: 'orders-db',
        action: { type: 'rds.addReadReplica', maxReplicas: 2 },
        scaleIn: { enabled: true },
      },
      'ledger-readers': {
        alarm: { name: 'ledger-cluster-cpu-high' },
        resource: 'ledger-cluster',
        kind: 'aurora-cluster',
        action: { type: 'rds.addReadReplica', maxReplicas: 3, instanceClass: 'db.r6g.large' },
        scaleIn: { enabled: true },
      },
      'orders-db-failover': {
        alarm: { name: 'orders-db-unhealthy' },
        resource: 'orders-db',
        action: { type: 'rds.failover' },
        mode: 'approve',
      },
      'ledger-failover': {
        alarm: { name: 'ledger-cluster-unhealthy' },
        resource: 'ledger-cluster',
        kind: 'aurora-cluster',
        action: { type: 'rds.failover' },
      },
      'sessions-shards': {
        alarm: { name: 'sessions-redis-memory-high' },
        resource: 'sessions-redis',
        action: { type: 'elasticache.addShard', max: 4 },
        scaleIn: { enabled: true },
      },
      'sessions-replicas': {
        alarm: { name: 'sessions-redis-cpu-high' },
        resource: 'sessions-redis',
        action: { type: 'elasticache.addReplica', max: 3 },
        scaleIn: { enabled: true },
      },
      'sessions-failover': {
        alarm: { name: 'sessions-redis-unhealthy' },
        resource: 'sessions-redis',
        action: { type: 'elasticache.failover' },
      },
      'billing-notify': {
        alarm: { name: 'billing-db-storage-low' },
        resource: 'billing-db',
        action: { type: 'notify' },
      },
    },
  },
  cost: {
    enabled: true,
    alertsBy: 'cost-explorer',
    hourly: true,
    anomalies: { snsTopicArn: `arn:aws:sns:eu-west-1:${FULL_ACCOUNT}:cost-anomalies` },
  },
} satisfies StewardConfigInput;
