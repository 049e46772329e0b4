import {
  DescribeReplicationGroupsCommand,
  ElastiCacheClient,
  TestFailoverCommand,
} from '@aws-sdk/client-elasticache';
import { ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { splitBuildModules } from '../../support/split-build.js';
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import scaleInEvent from '../../../events/scaling/scale-in-check.json' with { type: 'json' };
import { fleetWiring, handle } from '../../../functions/scaling/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { scalingConfigInput } from '../../shared/scaling/fixtures.js';
import { mockOrdersDb } from '../../support/scaling-wiring.js';

// An alarm is the trigger scaling exists for, and the one that must start quickly: it loads the code it
// runs, not the fan-out's, the scale-in check's, an approval's or the other triggers' parsers. Two proofs:
// the modules a run imports (each deferred module records its first import), and the bundle as esbuild
// splits it (a module the entry's chunk imports statically is parsed at every cold start).

/**
 * The modules only other triggers (or an alarm that gets through the guards) need. The RDS adapter and the
 * dispatch (rds-scaling.ts, scaling-resources.ts) and the store's claim writes (scaling-store-changes.ts) are
 * not among them: an alarm that acts on a database needs them all, and each one more `await import()` on that
 * path cost more CPU than the few KB cost to parse (docs/benchmarks.md). The ElastiCache adapter is: it brings
 * ElastiCache's SDK client, which an alarm on a database never sends through.
 */
const DEFERRED = {
  fanOut: 'shared/fleet/fan-out.ts',
  organization: 'shared/fleet/organization.ts',
  summary: 'shared/fleet/summary.ts',
  forwarded: 'shared/fleet/forwarded.ts',
  forwardedRun: 'shared/fleet/forwarded-run.ts',
  request: 'shared/scaling/request.ts',
  scaleIn: 'shared/scaling/scale-in.ts',
  approve: 'shared/scaling/approve.ts',
  events: 'shared/scaling/events.ts',
  engine: 'shared/scaling/engine.ts',
  act: 'shared/scaling/act.ts',
  summaryMessage: 'shared/scaling/summary-message.ts',
  runReport: 'shared/notify/run-report.ts',
  alarms: 'shared/aws/cloudwatch-alarms.ts',
  reports: 'shared/aws/run-reports.ts',
  mapRunResults: 'shared/aws/map-run-results.ts',
  organizations: 'shared/aws/organizations.ts',
  elastiCache: 'shared/aws/elasticache-scaling.ts',
} as const;

const { loaded } = vi.hoisted(() => ({ loaded: new Set<string>() }));
// vi.mock is hoisted and takes literal paths: each deferred module, as it is, noting its first import.
vi.mock('../../../shared/fleet/fan-out.js', async (real) => (loaded.add('fanOut'), real()));
vi.mock('../../../shared/fleet/organization.js', async (real) => (loaded.add('organization'), real()));
vi.mock('../../../shared/fleet/summary.js', async (real) => (loaded.add('summary'), real()));
vi.mock('../../../shared/fleet/forwarded.js', async (real) => (loaded.add('forwarded'), real()));
vi.mock('../../../shared/fleet/forwarded-run.js', async (real) => (loaded.add('forwardedRun'), real()));
vi.mock('../../../shared/scaling/request.js', async (real) => (loaded.add('request'), real()));
vi.mock('../../../shared/scaling/scale-in.js', async (real) => (loaded.add('scaleIn'), real()));
vi.mock('../../../shared/scaling/approve.js', async (real) => (loaded.add('approve'), real()));
vi.mock('../../../shared/scaling/events.js', async (real) => (loaded.add('events'), real()));
vi.mock('../../../shared/scaling/engine.js', async (real) => (loaded.add('engine'), real()));
vi.mock('../../../shared/scaling/act.js', async (real) => (loaded.add('act'), real()));
// acting.ts only re-exports engine.ts and act.ts (no bytes of its own in a chunk): recorded, not in DEFERRED.
vi.mock('../../../shared/scaling/acting.js', async (real) => (loaded.add('acting'), real()));
vi.mock('../../../shared/scaling/summary-message.js', async (real) => (loaded.add('summaryMessage'), real()));
vi.mock('../../../shared/notify/run-report.js', async (real) => (loaded.add('runReport'), real()));
vi.mock('../../../shared/aws/cloudwatch-alarms.js', async (real) => (loaded.add('alarms'), real()));
vi.mock('../../../shared/aws/run-reports.js', async (real) => (loaded.add('reports'), real()));
vi.mock('../../../shared/aws/map-run-results.js', async (real) => (loaded.add('mapRunResults'), real()));
vi.mock('../../../shared/aws/organizations.js', async (real) => (loaded.add('organizations'), real()));
vi.mock('../../../shared/aws/elasticache-scaling.js', async (real) => (loaded.add('elastiCache'), real()));

const config = parseConfig(scalingConfigInput, 'test');
const CONTEXT = { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:steward-test-scaling' };

const mocks: { restore(): void }[] = [];
afterEach(() => mocks.splice(0).forEach((m) => m.restore()));

/** The deployed wiring (handler fleetWiring) at `now`, its state table and RDS mocked as the wired tests mock them. */
const wiringAt = (now: string) => {
  const { rds, doc } = mockOrdersDb();
  mocks.push(rds, doc);
  rds.on(ModifyDBInstanceCommand).resolves({});
  doc.on(UpdateCommand).resolves({});
  const notifier = memoryNotifier();
  const base = { config, dryRun: false, notifier, now: () => new Date(now) };
  return {
    rds,
    notifier,
    wiring: fleetWiring(
      () => base,
      () => ({ STATE_TABLE: 'steward-test-state' }),
    ),
  };
};

const deferredLoaded = () => [...loaded].sort();

// In order: a module stays imported for the rest of the file.
describe('the modules a scaling run imports', () => {
  it('an alarm the guards stop (stale, as the bench sends it) imports none of the deferred modules', async () => {
    // Prepare: the sample alarm two hours after its transition.
    const { rds, notifier, wiring } = wiringAt('2026-01-15T12:20:00Z');

    // Act
    const r = await handle(structuredClone(alarmEvent), CONTEXT, wiring);

    // Assert
    expect(r).toMatchObject({
      action: 'alarms',
      decisions: [{ status: 'skipped', decision: { reason: 'stale' } }],
    });
    expect(notifier.sent).toHaveLength(1);
    expect(rds.calls()).toHaveLength(0);
    expect(deferredLoaded()).toEqual([]);
  });

  it('an alarm that acts on an RDS rule imports the planner and the change (one module), nothing of the other triggers', async () => {
    // Prepare: the sample alarm a minute after its transition.
    const { rds, wiring } = wiringAt('2026-01-15T10:21:00Z');

    // Act
    const r = await handle(structuredClone(alarmEvent), CONTEXT, wiring);

    // Assert
    expect(r).toMatchObject({ action: 'alarms', decisions: [{ status: 'done' }] });
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceClass: 'db.r6g.xlarge' });
    expect(deferredLoaded()).toEqual(['act', 'acting', 'engine']);
  });

  it('an alarm that acts on a replication group imports the ElastiCache adapter, and sends through it', async () => {
    // Prepare: the recovery rule's alarm on sessions-redis a minute after its transition; ElastiCache answers.
    const { wiring } = wiringAt('2026-01-15T10:21:00Z');
    const ec = mockClient(ElastiCacheClient);
    mocks.push(ec);
    ec.on(DescribeReplicationGroupsCommand).resolves({
      ReplicationGroups: [
        {
          ReplicationGroupId: 'sessions-redis',
          ARN: 'arn:aws:elasticache:eu-west-1:111122223333:replicationgroup:sessions-redis',
          Status: 'available',
          ClusterEnabled: true,
          AutomaticFailover: 'enabled',
          PendingModifiedValues: {},
          NodeGroups: [{ NodeGroupId: '0001', Status: 'available', NodeGroupMembers: [{}, {}] }],
        },
      ],
    });
    ec.on(TestFailoverCommand).resolves({});
    const event = structuredClone(alarmEvent);
    event.detail.alarmName = 'sessions-redis-unhealthy';

    // Act
    const r = await handle(event, CONTEXT, wiring);

    // Assert
    expect(r).toMatchObject({ action: 'alarms', decisions: [{ status: 'done' }] });
    expect(ec).toHaveReceivedCommandWith(TestFailoverCommand, { ReplicationGroupId: 'sessions-redis' });
    expect(deferredLoaded()).toEqual(['act', 'acting', 'elastiCache', 'engine']);
  });

  it('the scale-in check imports its own code: the record above can see an import (control)', async () => {
    // Prepare
    const { wiring } = wiringAt('2026-01-15T12:20:00Z');

    // Act
    await handle(structuredClone(scaleInEvent), CONTEXT, wiring);

    // Assert
    expect(deferredLoaded()).toEqual(['act', 'acting', 'elastiCache', 'engine', 'request', 'scaleIn']);
  });
});

describe('the scaling bundle, split at its dynamic imports', () => {
  it('keeps every deferred module out of the chunks its entry loads at a cold start, and still ships each', async () => {
    // Act: the shipped settings with code splitting, as the function's chunks are built.
    const { cold, shipped } = await splitBuildModules('functions/scaling/handler.ts');

    // Assert
    expect(cold.has('shared/scaling/transition.ts')).toBe(true);
    expect(Object.values(DEFERRED).filter((m) => cold.has(m))).toEqual([]);
    expect(Object.values(DEFERRED).filter((m) => !shipped.has(m))).toEqual([]);
  });
});
