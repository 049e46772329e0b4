import { beforeAll, describe, expect, it } from 'vitest';
import { drillDefinition } from '../../infra/drill-synth.js';
import { type AslDefinition, runDrillLocally, TaskTimedOut } from '../../infra/local-drill.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { CacheDrillDeps } from '../../shared/drill/cache-tasks.js';
import { runCacheVerifyTask } from '../../shared/drill/cache-verify.js';
import { drillTargetId } from '../../shared/drill/ids.js';
import type { RedisVerifyFn } from '../../shared/drill/redis/verification.js';
import type { DrillState, DrillTaskEvent } from '../../shared/drill/state.js';
import { runDrillTask } from '../../shared/drill/tasks.js';
import { AwsCallError } from '../../shared/errors.js';
import { fakeCachePort } from '../fakes/cache-ports.js';
import { exampleInput } from '../support/examples.js';
import {
  cacheSnapshot,
  cacheVerdict,
  DRILL_START,
  drillEnd,
  localCacheDrillDeps,
  runnerClock,
} from '../support/local-drill.js';

// The drill definition `cdk synth` renders for a stage with a Redis drill, executed by aws-local-stepfunctions
// with the real drill tasks over in-memory ElastiCache: success, a failed verification and a failed restore,
// each of which must still delete the restored group.

const REGION = 'eu-west-1';
const EXECUTION = 'drill-sessions-local';
const TARGET = drillTargetId('sessions', EXECUTION);
const config = parseConfig(
  {
    ...exampleInput('prod'),
    region: REGION,
    drill: { ...exampleInput('prod').drill, caches: { sessions: { auth: 'iam' } } },
  },
  'test',
);

let definition: AslDefinition;
beforeAll(() => {
  definition = drillDefinition(config);
});

const snapshot = cacheSnapshot('sessions', REGION);

const scenario = (o: { verify: RedisVerifyFn; failRestore?: unknown; event?: boolean }) => {
  const primary = fakeCachePort(REGION);
  primary.snapshots = [snapshot];
  if (o.failRestore) primary.failRestore = o.failRestore;
  const caches: CacheDrillDeps = {
    primary,
    network: {
      cacheSubnetGroupName: 'steward-prod-drill',
      securityGroupIds: ['sg-1'],
      userGroupId: 'steward-prod-drill',
    },
  };
  const now = runnerClock();
  const deps = localCacheDrillDeps(config, now, caches);
  const tasks = async (e: DrillTaskEvent, ctx: { stateName: string }): Promise<unknown> => {
    if (ctx.stateName === 'VerifyCache') {
      return runCacheVerifyTask(e, {
        config,
        dryRun: false,
        now,
        verify: o.verify,
        sign: async () => 'token',
      });
    }
    if (ctx.stateName === 'Verify') throw new Error('a Redis drill reached the database verifier');
    if (e.task === 'await') {
      await runDrillTask(e, deps);
      // The restore finishes; either its "Cache Created" event resumes the wait, or nothing does and
      // WaitForRestore times out into CheckRestore's polling.
      primary.setStatus(TARGET, 'available');
      if (!o.event) throw new TaskTimedOut();
      return runDrillTask({ ...e, task: 'status' }, deps);
    }
    return runDrillTask(e, deps);
  };
  return { primary, deps, tasks };
};

const run = (f: ReturnType<typeof scenario>) =>
  runDrillLocally({
    definition,
    input: { database: 'sessions' },
    tasks: f.tasks,
    executionName: EXECUTION,
    waitMs: 5_000,
  });

describe('the synthesized drill definition, run locally for a Redis drill', () => {
  it('restores, resumes on the event, verifies on the cache verifier, cleans up and records a pass', async () => {
    // Prepare
    const f = scenario({ verify: async () => cacheVerdict(true, 'h'), event: true });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('SUCCEEDED');
    expect(r.path).toEqual([...DRILL_START, 'WaitForRestore', 'Engine?', 'VerifyCache', ...drillEnd(true)]);
    expect((r.output as DrillState).result).toMatchObject({ passed: true, outcome: 'passed' });
    expect(f.primary.removed).toEqual([TARGET]);
  });

  it('polls when no event comes, and a failed verification still deletes the group and ends DrillFailed', async () => {
    // Prepare
    const f = scenario({ verify: async () => cacheVerdict(false, 'h') });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.error?.Error).toBe('DrillFailed');
    expect(r.path).toEqual([
      ...DRILL_START,
      'WaitForRestore',
      'CheckRestore',
      'Restored?',
      'Engine?',
      'VerifyCache',
      ...drillEnd(false),
    ]);
    expect(f.primary.removed).toEqual([TARGET]);
  });

  it('a restore that fails after creating the group is caught into Cleanup, which deletes it', async () => {
    // Prepare: the create reached ElastiCache, then the call failed.
    const f = scenario({
      verify: async () => cacheVerdict(true, 'h'),
      failRestore: new AwsCallError('CreateReplicationGroup', TARGET, new Error('socket hang up')),
    });
    f.primary.groups.set(TARGET, {
      id: TARGET,
      tags: { 'steward:drill': EXECUTION, 'steward:managed': 'true' },
      status: 'creating',
    });

    // Act
    const r = await run(f);

    // Assert
    expect(r.status).toBe('FAILED');
    expect(r.path).toEqual([...DRILL_START, ...drillEnd(false)]);
    expect(f.primary.removed).toEqual([TARGET]);
    expect([...f.deps.reports.objects.values()][0]).toContain('socket hang up');
  });
});
