import { type AslDefinition, runDrillLocally } from '../../infra/local-drill.js';
import type { StewardConfig } from '../../shared/config/schema.js';
import { type CacheDrillDeps, withCacheDrills } from '../../shared/drill/cache-tasks.js';
import type { CacheSnapshot } from '../../shared/drill/ports.js';
import type { DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../../shared/drill/tasks.js';
import type { VerificationReport } from '../../shared/drill/verification.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import {
  fakeCopyDeletionLedger,
  fakeReportStore,
  fakeRestorePort,
  fakeTaskSignal,
  fakeTokenStore,
} from '../fakes/drill-ports.js';

// The synthesized drill definition run locally (infra/local-drill.ts) with the real drill tasks over in-memory
// ports: the tasks' clock, their deps, and the cache drills' snapshot and verdict.

/** The states every drill's path starts with: the snapshot picked, its restore started. */
export const DRILL_START = ['Start', 'SelectSnapshot', 'Restore'];

/** The states every drill's path ends with, whatever failed before: cleanup, the record, the verdict. */
export const drillEnd = (passed: boolean): string[] => [
  'Cleanup',
  'Record',
  'Passed?',
  passed ? 'DrillSucceeded' : 'DrillFailed',
];

/** The path of a drill whose restore failed: caught into Cleanup, recorded, failed. */
export const FAILED_AT_RESTORE = [...DRILL_START, ...drillEnd(false)];

/** One poll of an EBS drill's volumes: waited for, checked, asked whether all are restored. */
export const VOLUMES_POLL = ['WaitForVolumes', 'CheckVolumes', 'VolumesRestored?'];

/** The path of an EBS drill that passes once its volumes are restored, at the second poll. */
export const EBS_PASSED_AT_SECOND_POLL = [
  ...DRILL_START,
  'Volumes?',
  ...VOLUMES_POLL,
  ...VOLUMES_POLL,
  'VerifyVolumes',
  ...drillEnd(true),
];

/**
 * The path of an EBS drill that verifies its volumes through per-drill endpoints, up to its verdict: the
 * endpoints asked for after the selection, the volumes restored at the first poll, the endpoints waited for
 * (one Wait) before VerifyVolumes, and released after Cleanup.
 */
export const VERIFIED_EBS_PATH = [
  'Start',
  'SelectSnapshot',
  'OpenEndpoints',
  'Restore',
  'Volumes?',
  ...VOLUMES_POLL,
  'CheckVolumeEndpoints',
  'VolumeEndpointsReady?',
  'WaitForVolumeEndpoints',
  'CheckVolumeEndpoints',
  'VolumeEndpointsReady?',
  'VerifyVolumes',
  'Cleanup',
  'CloseEndpoints',
  'Record',
  'Passed?',
];

/**
 * `definition` run locally as execution `executionName` for EBS target `database`, polling without a pause: its
 * tasks the real drill tasks over `deps`; a database drill's state fails the run.
 */
export const runLocalEbsDrill = (
  definition: AslDefinition,
  executionName: string,
  database: string,
  deps: DrillDeps,
) =>
  runDrillLocally({
    definition,
    input: { database },
    tasks: async (e: DrillTaskEvent, ctx: { stateName: string }): Promise<unknown> => {
      if (ctx.stateName === 'Verify' || ctx.stateName === 'WaitForRestore')
        throw new Error(`an EBS drill reached ${ctx.stateName}`);
      return runDrillTask(e, deps);
    },
    executionName,
    pollMs: 0,
  });

/**
 * The drill tasks' clock in a local run: the execution's start time is the local runner's real clock, so the
 * tasks' clock starts there too, and moves at least a second a call.
 */
export const runnerClock = (): (() => Date) => {
  let clock = 0;
  return () => new Date((clock = Math.max(clock + 1000, Date.now())));
};

/**
 * The drill tasks' deps for `config` over in-memory ports (RDS restore in the config's region, tokens, task
 * signal, report store), live, with a memory notifier and no network; `over` adds or replaces any of them.
 */
export const localDrillDeps = <O extends Partial<DrillDeps>>(
  config: StewardConfig,
  now: () => Date,
  over: O,
) => ({
  config,
  dryRun: false,
  notifier: memoryNotifier(),
  now,
  restore: fakeRestorePort(config.region),
  tokens: fakeTokenStore(),
  deletions: fakeCopyDeletionLedger(),
  signal: fakeTaskSignal(),
  reports: fakeReportStore(),
  network: {},
  ...over,
});

/** The drill tasks' deps for a stage with cache drills: `caches`, and the RDS restore port that hands them cache targets. */
export const localCacheDrillDeps = (config: StewardConfig, now: () => Date, caches: CacheDrillDeps) =>
  localDrillDeps(config, now, {
    restore: withCacheDrills(fakeRestorePort(config.region), caches),
    caches,
    network: { dbSubnetGroupName: 'steward-prod-drill', securityGroupIds: ['sg-0abc1234'] },
  });

/** Steward's scheduled snapshot of Redis group `group` taken 2026-03-01 03:00 UTC: one 50 MB shard of a cache.r7g.large. */
export const cacheSnapshot = (
  group: string,
  region: string,
  over: Partial<CacheSnapshot> = {},
): CacheSnapshot => {
  const id = `steward-${group}-202603010300-sched`;
  return {
    kind: 'elasticache',
    id,
    arn: `arn:aws:elasticache:${region}:111122223333:snapshot:${id}`,
    region,
    sourceId: group,
    createdAt: '2026-03-01T03:00:00.000Z',
    status: 'available',
    type: 'manual',
    tags: {},
    sourceNodeType: 'cache.r7g.large',
    shards: 1,
    largestShardBytes: 50e6,
    ...over,
  };
};

/**
 * The cache verifier's verdict on the restored group at `host`: one key count on db0, 1 000 keys against a
 * floor of 900 when `passed`, else 3 (keys lost).
 */
export const cacheVerdict = (passed: boolean, host: string): VerificationReport => ({
  passed,
  outcome: passed ? 'passed' : 'failed',
  budgetMs: 300_000,
  host,
  port: 6379,
  database: 'db0',
  user: 'steward-prod-drill-verifier',
  referenceTime: '2026-03-01T03:00:00.000Z',
  checks: [
    {
      name: 'keys db0',
      kind: 'key-count',
      passed,
      status: passed ? 'passed' : 'failed',
      measured: passed ? 1000 : 3,
      expected: '>= 900',
      detail: passed ? 'DBSIZE 1000' : 'DBSIZE 3: keys lost',
      ms: 2,
    },
  ],
  dataRpoSeconds: 12,
  verifyMs: 5,
  tables: { db0: { rows: passed ? 1000 : 3 } },
});
