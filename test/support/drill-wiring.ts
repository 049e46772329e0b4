import { wire } from '../../functions/drill/handler.js';
import { parseConfig, type StewardConfig, type StewardConfigInput } from '../../shared/config/schema.js';
import type { DrillDeps } from '../../shared/drill/tasks.js';
import { DrillEnv } from '../../shared/drill/env.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';

// The drill function's real wiring as its wired tests run it (test/functions/drill/*wired*.test.ts, SDK
// clients mocked): a `prod` stage's environment, the monthly execution, and a task's input.

/** The drill function's environment in a `prod` stage of `account` and `region`, with `extra` variables. */
export const drillEnv = (
  extra: Record<string, string> = {},
  account = '111122223333',
  region = 'eu-west-1',
): Record<string, string> => ({
  STAGE: 'prod',
  CRITICAL_TOPIC_ARN: `arn:aws:sns:${region}:${account}:steward-prod-critical`,
  WARNING_TOPIC_ARN: `arn:aws:sns:${region}:${account}:steward-prod-warning`,
  INFO_TOPIC_ARN: `arn:aws:sns:${region}:${account}:steward-prod-info`,
  DRILL_TABLE: 'steward-prod-state',
  REPORT_BUCKET: 'steward-prod-drill-reports',
  DRILL_SUBNET_GROUP: 'steward-prod-drill',
  DRILL_SECURITY_GROUP_IDS: 'sg-0abc1234',
  DRY_RUN: 'false',
  ...extra,
});

/** The Redis drill network's variables (a stage with cache drills). */
export const CACHE_DRILL_ENV = {
  DRILL_CACHE_SUBNET_GROUP: 'steward-prod-drill',
  DRILL_CACHE_SECURITY_GROUP_IDS: 'sg-0cac4e123',
  DRILL_CACHE_USER_GROUP: 'steward-prod-drill',
};

/** The execution the wired drills run in: the monthly schedule's February 2026 run. */
export const EXECUTION = { name: 'monthly-2026-02', startTime: '2026-02-01T05:00:03.512Z' };

/** A task's input as the state machine passes it: the task, the drill state, the execution, and `extra`. */
export const drillTask = (name: string, state: unknown, extra: Record<string, unknown> = {}) => ({
  task: name,
  state,
  execution: EXECUTION,
  ...extra,
});

/** The drill function's real deps (handler `wire()`) for `config` at `now`, live unless `dryRun`, with a memory notifier. */
export const wiredDrill = (
  config: StewardConfig,
  env: Record<string, string>,
  now: Date,
  raw?: Record<string, string | undefined>,
  dryRun = false,
): DrillDeps =>
  wire({ config, dryRun, notifier: memoryNotifier(), now: () => now }, DrillEnv.parse(env), raw);

// Drills from the backup vault (test/functions/drill/vault*-wired.test.ts).

/**
 * A `prod` stage of `account` in `region` whose fleet keeps a backup vault in `vault` (its copies kept by the
 * `vault` retention policy, 35 dailies), with `extra` (the drill targets, more fleet targets).
 */
export const vaultDrillStage = (
  account: string,
  region: string,
  vault: string,
  extra: Partial<StewardConfigInput>,
): StewardConfig =>
  parseConfig(
    {
      stage: 'prod',
      account,
      region,
      fleet: {
        organizationId: 'o-a1b2c3d4e5',
        externalId: 'steward-prod-fleet',
        vault: { account: vault, retention: 'vault' },
      },
      retention: { policies: { standard: {}, vault: { daily: 35 } } },
      ...extra,
    },
    'test',
  );

/** The tags the backup vault's copy of `account`'s RDS or Aurora `db` carries, its data dated `dataTime`. */
export const rdsVaultCopyTags = (db: string, account: string, region: string, dataTime: string) => [
  { Key: 'steward:managed', Value: 'true' },
  { Key: 'steward:vault', Value: 'true' },
  { Key: 'steward:created-by', Value: 'vault' },
  { Key: 'steward:source', Value: db },
  { Key: 'steward:source-account', Value: account },
  { Key: 'steward:source-region', Value: region },
  { Key: 'steward:data-time', Value: dataTime },
];
