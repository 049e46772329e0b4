import { beforeAll, describe, expect, it } from 'vitest';
import { drillDefinition } from '../../infra/drill-synth.js';
import { type AslDefinition, runDrillLocally, TaskTimedOut } from '../../infra/local-drill.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { CacheDrillDeps } from '../../shared/drill/cache-tasks.js';
import { runCacheVerifyTask } from '../../shared/drill/cache-verify.js';
import { drillTargetId } from '../../shared/drill/ids.js';
import type { RemoteCacheVerifier } from '../../shared/drill/ports.js';
import type { DrillTaskEvent } from '../../shared/drill/state.js';
import { runDrillTask } from '../../shared/drill/tasks.js';
import { fakeCachePort, fakeCopyLister } from '../fakes/cache-ports.js';
import { exampleInput } from '../support/examples.js';
import {
  cacheSnapshot,
  cacheVerdict,
  DRILL_START,
  drillEnd,
  localCacheDrillDeps,
  runnerClock,
} from '../support/local-drill.js';

// The drill definition `cdk synth` renders for a stage with a Redis drill from the DR copy, executed by
// aws-local-stepfunctions with the real drill tasks over in-memory ElastiCache in two regions: the copy is
// restored in dr.region into the DR stack's network; Engine? sends it to VerifyCacheInDr, where the drill
// function relays `verify` to the DR stack's cache verifier (the real cache verify task, told its region, with
// a stand-in engine), and the drill deletes the group in dr.region and records the verdict either way.
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
const copy = cacheSnapshot('rate-limits', DR, {
  arn: `arn:aws:s3:::${BUCKET}/${key('0001')}`,
  rdbArns: [`arn:aws:s3:::${BUCKET}/${key('0001')}`],
});

/** One local run of the definition; the DR verifier's engine answers `passed`. */
const drill = async (passed: boolean) => {
  const primary = fakeCachePort(REGION);
  // The live group, in the stage region: created before its copy was taken.
  primary.live.set('rate-limits', '2026-01-01T00:00:00.000Z');
  const dr = fakeCachePort(DR);
  const now = runnerClock();
  const signed: { region: string; groupId: string }[] = [];
  const connected: { host: string }[] = [];
  // The DR stack's verifier: the real cache verify task in dr.region, invoked (here, called) by the relay.
  const drVerifier: RemoteCacheVerifier = {
    region: DR,
    verify: (event) =>
      runCacheVerifyTask(event, {
        config,
        dryRun: false,
        now,
        region: DR,
        verify: async (conn) => (
          connected.push({ host: conn.host }),
          cacheVerdict(passed, `master.${TARGET}.abc123.usw2.cache.amazonaws.com`)
        ),
        sign: async (req) => (signed.push({ region: DR, groupId: req.groupId }), 'token'),
      }),
  };
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
    drVerifier,
  };
  const deps = localCacheDrillDeps(config, now, caches);
  const stageVerifier: unknown[] = [];
  const tasks = async (e: DrillTaskEvent, ctx: { stateName: string }): Promise<unknown> => {
    if (ctx.stateName === 'VerifyCache') {
      stageVerifier.push(e);
      throw new Error('the stage region’s cache verifier must not get a group in dr.region');
    }
    if (e.task === 'await') {
      await runDrillTask(e, deps);
      dr.setStatus(TARGET, 'available');
      throw new TaskTimedOut();
    }
    return runDrillTask(e, deps);
  };
  const r = await runDrillLocally({
    definition,
    input: { database: 'rate-limits' },
    tasks,
    executionName: EXECUTION,
    waitMs: 5_000,
  });
  return { r, primary, dr, reports: deps.reports, signed, connected, stageVerifier };
};

const PATH = [...DRILL_START, 'WaitForRestore', 'CheckRestore', 'Restored?', 'Engine?', 'VerifyCacheInDr'];

describe('the synthesized drill definition, run locally for a Redis drill from the DR copy', () => {
  it('restores the copy in dr.region, verifies it there through the relay to the DR verifier, and deletes it there', async () => {
    // Act
    const { r, primary, dr, reports, signed, connected, stageVerifier } = await drill(true);

    // Assert
    expect(r.path).toEqual([...PATH, ...drillEnd(true)]);
    expect(r.status).toBe('SUCCEEDED');
    expect(dr.requests).toMatchObject([
      {
        targetId: TARGET,
        source: { rdbArns: copy.rdbArns },
        network: { cacheSubnetGroupName: 'steward-prod-drill', securityGroupIds: ['sg-0d0cac4e'] },
      },
    ]);
    expect(primary.requests).toEqual([]);
    expect(stageVerifier).toEqual([]);
    // The DR verifier signed its IAM token for the group in dr.region and checked it.
    expect(signed).toEqual([{ region: DR, groupId: TARGET }]);
    expect(connected).toHaveLength(1);
    expect(dr.removed).toEqual([TARGET]);
    expect(JSON.parse([...reports.objects.values()][0]!)).toMatchObject({ outcome: 'passed' });
  });

  it('records FAILED, naming the check, when the DR copy lost keys, and still deletes the group in dr.region', async () => {
    // Act
    const { r, dr, reports } = await drill(false);

    // Assert
    expect(r.path).toEqual([...PATH, ...drillEnd(false)]);
    expect(r.status).toBe('FAILED');
    expect(dr.removed).toEqual([TARGET]);
    const doc = [...reports.objects.values()][0]!;
    expect(doc).toContain('keys lost');
    expect(doc).not.toContain('state.target.region');
  });
});
