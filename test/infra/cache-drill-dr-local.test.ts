import { beforeAll, describe, expect, it } from 'vitest';
import { drillDefinition } from '../../infra/drill-synth.js';
import { type AslDefinition, runDrillLocally, TaskTimedOut } from '../../infra/local-drill.js';
import { parseConfig } from '../../shared/config/schema.js';
import { type CacheDrillDeps, withCacheDrills } from '../../shared/drill/cache-tasks.js';
import { runCacheVerifyTask } from '../../shared/drill/cache-verify.js';
import { drillTargetId } from '../../shared/drill/ids.js';
import type { CacheSnapshot } from '../../shared/drill/ports.js';
import type { DrillTaskEvent } from '../../shared/drill/state.js';
import { type DrillDeps, runDrillTask } from '../../shared/drill/tasks.js';
import { memoryNotifier } from '../../shared/notify/notifier.js';
import { fakeCachePort, fakeCopyLister } from '../fakes/cache-ports.js';
import { fakeReportStore, fakeRestorePort, fakeTaskSignal, fakeTokenStore } from '../fakes/drill-ports.js';
import { exampleInput } from '../support/examples.js';

// The drill definition `cdk synth` renders for a stage with a Redis drill from the DR copy, executed by
// aws-local-stepfunctions with the real drill tasks over in-memory ElastiCache in two regions: the copy is
// restored in dr.region into the DR stack's network; the stage's cache verifier refuses a group there (no
// verifier runs in the DR region yet), and the drill still deletes it in dr.region and records why.
const REGION = 'eu-west-1';
const DR = 'us-west-2';
const EXECUTION = 'drill-rate-limits-local';
const TARGET = drillTargetId('rate-limits', EXECUTION);
const BUCKET = 'steward-prod-rdb-dr-111122223333-us-west-2';
const config = parseConfig(
  {
    ...exampleInput('prod'),
    region: REGION,
    drill: { ...exampleInput('prod').drill, caches: { 'rate-limits': { auth: 'iam', from: 'dr' } } },
  },
  'test',
);

let definition: AslDefinition;
beforeAll(() => {
  definition = drillDefinition(config);
});

const key = (shard: string) => `elasticache/rate-limits/steward-rate-limits-202603010300-sched-${shard}.rdb`;
const copy: CacheSnapshot = {
  kind: 'elasticache',
  id: 'steward-rate-limits-202603010300-sched',
  arn: `arn:aws:s3:::${BUCKET}/${key('0001')}`,
  region: DR,
  sourceId: 'rate-limits',
  createdAt: '2026-03-01T03:00:00.000Z',
  status: 'available',
  type: 'manual',
  tags: {},
  sourceNodeType: 'cache.r7g.large',
  shards: 1,
  largestShardBytes: 50e6,
  rdbArns: [`arn:aws:s3:::${BUCKET}/${key('0001')}`],
};

describe('the synthesized drill definition, run locally for a Redis drill from the DR copy', () => {
  it('restores the copy in dr.region into the DR network, and deletes it there when verification is refused', async () => {
    // Prepare
    const primary = fakeCachePort(REGION);
    const dr = fakeCachePort(DR);
    const caches: CacheDrillDeps = {
      primary,
      dr,
      copies: fakeCopyLister(DR, [copy]),
      network: { cacheSubnetGroupName: 'steward-prod-drill', securityGroupIds: ['sg-1'], userGroupId: 'g' },
      drNetwork: async () => ({
        cacheSubnetGroupName: 'steward-prod-drill',
        securityGroupIds: ['sg-0d0cac4e'],
        userGroupId: 'steward-prod-drill',
      }),
    };
    let clock = 0;
    const now = () => new Date((clock = Math.max(clock + 1000, Date.now())));
    const reports = fakeReportStore();
    const deps: DrillDeps = {
      config,
      dryRun: false,
      notifier: memoryNotifier(),
      now,
      restore: withCacheDrills(fakeRestorePort(REGION), caches),
      caches,
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports,
      network: { dbSubnetGroupName: 'x', securityGroupIds: ['sg-2'] },
    };
    const verified: unknown[] = [];
    const tasks = async (e: DrillTaskEvent, ctx: { stateName: string }): Promise<unknown> => {
      if (ctx.stateName === 'VerifyCache') {
        return runCacheVerifyTask(e, {
          config,
          dryRun: false,
          now,
          verify: async (...args) => {
            verified.push(args);
            throw new Error('the verifier must not connect to a group in another region');
          },
          sign: async () => 'token',
        });
      }
      if (e.task === 'await') {
        await runDrillTask(e, deps);
        dr.setStatus(TARGET, 'available');
        throw new TaskTimedOut();
      }
      return runDrillTask(e, deps);
    };

    // Act
    const r = await runDrillLocally({
      definition,
      input: { database: 'rate-limits' },
      tasks,
      executionName: EXECUTION,
      waitMs: 5_000,
    });

    // Assert
    expect(r.path).toEqual([
      'Start',
      'SelectSnapshot',
      'Restore',
      'WaitForRestore',
      'CheckRestore',
      'Restored?',
      'Engine?',
      'VerifyCache',
      'Cleanup',
      'Record',
      'Passed?',
      'DrillFailed',
    ]);
    expect(dr.requests).toMatchObject([
      {
        targetId: TARGET,
        source: { rdbArns: copy.rdbArns },
        network: { cacheSubnetGroupName: 'steward-prod-drill', securityGroupIds: ['sg-0d0cac4e'] },
      },
    ]);
    expect(primary.requests).toEqual([]);
    expect(dr.removed).toEqual([TARGET]);
    expect(verified).toEqual([]);
    expect(r.status).toBe('FAILED');
    expect([...reports.objects.values()][0]).toContain(
      'state.target.region: the drill group is in us-west-2',
    );
  });
});
