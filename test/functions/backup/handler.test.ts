import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { drCopyId } from '../../../shared/backup/ids.js';
import reconcileEvent from '../../../events/backup/reconcile-copies.json' with { type: 'json' };
import scheduledEvent from '../../../events/backup/scheduled.json' with { type: 'json' };
import snapshotEvent from '../../../events/backup/snapshot-request.json' with { type: 'json' };
import databasesFixture from '../../../events/inventory/databases.json' with { type: 'json' };
import rdsEvent from '../../../events/rds/snapshot-created.json' with { type: 'json' };
import { type BackupDeps, run, wire } from '../../../functions/backup/handler.js';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { AwsCallError, EventShapeError, PartialFailureError } from '../../../shared/errors.js';
import type { Database, Quota, Snapshot } from '../../../shared/model.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { metrics } from '../../../shared/observability.js';
import {
  fakeBackupPort,
  fakeCopyPort,
  fakeSnapshotArn,
  fakeSnapshotReader,
} from '../../fakes/backup-ports.js';
import { fakeSnapshotStore } from '../../fakes/snapshot-store.js';

const PRIMARY = 'eu-west-1';
const DR = 'us-west-2';
const KEY = 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr';
const NOW = new Date('2026-01-15T10:30:00Z');
const databases = databasesFixture as Database[];
const roomy: Quota[] = [
  { name: 'ManualSnapshots', used: 10, max: 100 },
  { name: 'ManualClusterSnapshots', used: 1, max: 100 },
];

const configInput = {
  stage: 'prod',
  region: PRIMARY,
  backup: {
    preChangeRetainDays: 30,
    policies: {
      daily: { retention: 'standard', copyToDr: true },
      cache: { kinds: ['elasticache'], retention: 'standard' },
    },
  },
  retention: { policies: { standard: {} } },
  dr: { region: DR, kmsKeyArn: KEY },
} satisfies StewardConfigInput;

const clone = <T>(v: T): T => structuredClone(v);

const fakeDeps = (
  over: {
    dbs?: Database[];
    quotas?: Quota[];
    primarySnaps?: Snapshot[];
    drSnaps?: Snapshot[];
    dryRun?: boolean;
  } = {},
) => {
  const primaryStore = fakeSnapshotStore(PRIMARY, over.primarySnaps ?? []);
  const drStore = fakeSnapshotStore(DR, over.drSnaps ?? []);
  const notifier = memoryNotifier();
  const primary = fakeBackupPort(PRIMARY, over.dbs ?? databases, over.quotas ?? roomy, primaryStore);
  const dr = fakeCopyPort(DR, drStore);
  const deps: BackupDeps = {
    config: parseConfig(configInput, 'test'),
    dryRun: over.dryRun ?? false,
    notifier,
    now: () => NOW,
    primary,
    dr,
    snapshots: { primary: primaryStore, dr: drStore },
  };
  return { deps, notifier, primary, dr, primaryStore, drStore };
};

/** An available, steward-managed daily snapshot in the primary region. */
const managedSnapshot = (id: string, day: number): Snapshot => ({
  kind: 'rds-instance',
  id,
  arn: fakeSnapshotArn('rds-instance', PRIMARY, id),
  region: PRIMARY,
  sourceId: 'orders-db',
  createdAt: `2026-01-${String(day).padStart(2, '0')}T03:05:00.000Z`,
  status: 'available',
  type: 'manual',
  encrypted: true,
  tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'orders-db' },
});

/** A copy another tool has in flight into the DR region. */
const inFlight = (i: number): Snapshot => ({
  ...managedSnapshot(`manual-copy-${i}`, 1),
  arn: fakeSnapshotArn('rds-instance', DR, `manual-copy-${i}`),
  region: DR,
  sourceRegion: PRIMARY,
  status: 'copying',
  tags: {},
});

let addMetric: MockInstance<typeof metrics.addMetric>;
beforeEach(() => {
  addMetric = vi.spyOn(metrics, 'addMetric');
});
afterEach(() => {
  vi.restoreAllMocks();
});
const metric = (name: string) => addMetric.mock.calls.filter((c) => c[0] === name).map((c) => c[2]);

describe('scheduled backup', () => {
  it('returns the full plan and creates nothing when the request asks for a dry run', async () => {
    // Prepare
    const { deps, primary, dr, notifier } = fakeDeps();

    // Act
    const result = await run({ ...scheduledEvent, dryRun: true }, deps);

    // Assert
    expect(result.dryRun).toBe(true);
    expect(result.backup!.actions).toHaveLength(databases.length);
    expect(
      result.outcomes
        .filter((o) => o.status === 'planned')
        .map((o) => [o.resource, 'detail' in o && o.detail]),
    ).toEqual([
      ['orders-db', 'steward-orders-db-202601150300-sched'],
      ['billing-db', 'steward-billing-db-202601150300-sched'],
      ['analytics', 'steward-analytics-202601150300-sched'],
    ]);
    expect(primary.created).toEqual([]);
    expect(dr.copies).toEqual([]);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.subject).toMatch(/^\[dry run\] daily backup: 3 planned/);
  });

  it('stays a dry run when the stage forces it, whatever the request says', async () => {
    // Prepare
    const { deps, primary } = fakeDeps({ dryRun: true });

    // Act
    const result = await run({ ...scheduledEvent, dryRun: false }, deps);

    // Assert
    expect(result.dryRun).toBe(true);
    expect(primary.created).toEqual([]);
  });

  it('counts what happened: an existing snapshot is not created, a failed create is not either', async () => {
    // Prepare
    const existing = managedSnapshot('steward-orders-db-202601150300-sched', 15);
    const { deps, primary, notifier } = fakeDeps({ primarySnaps: [existing] });
    primary.failCreate.set('billing-db', new Error('InternalFailure'));

    // Act
    const result = await run(clone(scheduledEvent), deps).catch((e: unknown) => e);

    // Assert
    expect(result).toBeInstanceOf(Error);
    expect(notifier.sent.map((n) => n.subject)).toEqual([
      'daily backup: 1 created, 1 already existed, 1 skipped, 1 failed; DR copies 1 started, 0 deferred',
    ]);
  });

  it('creates one tagged snapshot per opted-in, available database and reports the missed one', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps();

    // Act
    const result = await run(clone(scheduledEvent), deps);

    // Assert
    expect(primary.created.map((c) => [c.kind, c.dbId, c.snapshotId])).toEqual([
      ['rds-instance', 'orders-db', 'steward-orders-db-202601150300-sched'],
      ['rds-instance', 'billing-db', 'steward-billing-db-202601150300-sched'],
      ['aurora-cluster', 'analytics', 'steward-analytics-202601150300-sched'],
    ]);
    expect(primary.created[0]!.tags).toEqual({
      'steward:managed': 'true',
      'steward:policy': 'daily',
      'steward:source': 'orders-db',
      'steward:created-by': 'backup',
      'steward:kind': 'sched',
    });
    expect(result.outcomes).toContainEqual({
      resource: 'inventory-db',
      action: 'create-snapshot',
      status: 'skipped',
      reason: 'not-available: status modifying: only available databases can be snapshotted',
    });
    expect(result.severity).toBe('warning');
    expect(notifier.sent).toEqual([
      expect.objectContaining({
        severity: 'warning',
        capability: 'backup',
        subject: expect.stringContaining('3 created, 1 skipped, 0 failed'),
      }),
    ]);
    expect(notifier.sent[0]!.lines.join('\n')).toContain('inventory-db');
    expect(metric('SnapshotsCreated')).toEqual([3]);
    // No failures: nothing sent (a zero count is not a billed metric-hour).
    expect(metric('ActionFailures')).toEqual([]);
  });

  it('sends an info summary when every opted-in database was backed up', async () => {
    // Prepare
    const healthy = databases.filter((d) => d.id !== 'inventory-db');
    const { deps, notifier } = fakeDeps({ dbs: healthy });

    // Act
    const result = await run(clone(scheduledEvent), deps);

    // Assert
    expect(result.severity).toBe('info');
    expect(notifier.sent.map((n) => n.severity)).toEqual(['info']);
  });

  it('reconciles copies afterwards: the new snapshots are still creating, so they wait for a later run', async () => {
    // Prepare
    const { deps, dr } = fakeDeps();

    // Act
    const result = await run(clone(scheduledEvent), deps);

    // Assert
    expect(dr.copies).toEqual([]);
    expect(result.copies!.skipped.map((s) => [s.source.id, s.reason])).toEqual([
      ['steward-orders-db-202601150300-sched', 'not-available-yet'],
      ['steward-billing-db-202601150300-sched', 'not-available-yet'],
      ['steward-analytics-202601150300-sched', 'not-available-yet'],
    ]);
  });

  it('is a no-op when the same scheduled event arrives again', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();
    await run(clone(scheduledEvent), deps);

    // Act
    const again = await run(clone(scheduledEvent), deps);

    // Assert
    expect(primary.created).toHaveLength(3);
    expect(
      again.outcomes.filter((o) => o.action === 'create-snapshot' && o.status === 'already-done'),
    ).toHaveLength(3);
  });

  it('backs up the Redis group under its own policy', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();

    // Act
    await run({ ...scheduledEvent, policy: 'cache' }, deps);

    // Assert
    expect(primary.created.map((c) => [c.kind, c.dbId, c.tags['steward:policy']])).toEqual([
      ['elasticache', 'sessions', 'cache'],
    ]);
  });

  it('still backs up, and warns, when the quota cannot be read', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps({ dbs: databases.filter((d) => d.id !== 'inventory-db') });
    primary.quotas = async () => {
      throw new AwsCallError(
        'DescribeAccountAttributes',
        'region eu-west-1',
        Object.assign(new Error('no'), { name: 'AccessDenied' }),
      );
    };

    // Act
    const result = await run(clone(scheduledEvent), deps);

    // Assert
    expect(primary.created).toHaveLength(3);
    expect(result.severity).toBe('warning');
    expect(result.outcomes[0]).toMatchObject({ action: 'read-quota', status: 'skipped' });
    expect(JSON.stringify(notifier.sent[0])).toContain('quota guard off: DescribeAccountAttributes failed');
  });

  it('warns when the manual snapshot quota reaches 80 % but still creates', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps({
      dbs: databases.filter((d) => d.id !== 'inventory-db'),
      quotas: [{ name: 'ManualSnapshots', used: 78, max: 100 }],
    });

    // Act
    const result = await run(clone(scheduledEvent), deps);

    // Assert
    expect(primary.created).toHaveLength(3);
    expect(result.severity).toBe('warning');
    // After the counts and the full report's place, the findings lead.
    const lines = notifier.sent[0]!.lines;
    expect(lines[lines.indexOf('') + 1]).toBe(
      'WARNING: ManualSnapshots quota at 80% (80/100 after this run; warning at 80%)',
    );
  });

  it('creates nothing and sends a critical notification naming the quota when it is full', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps({
      quotas: [
        { name: 'ManualSnapshots', used: 100, max: 100 },
        { name: 'ManualClusterSnapshots', used: 100, max: 100 },
      ],
    });

    // Act
    const result = await run(clone(scheduledEvent), deps);

    // Assert
    expect(primary.created).toEqual([]);
    expect(result.severity).toBe('critical');
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({
      severity: 'critical',
      subject: 'daily backup: ManualSnapshots quota full (100/100 used); no rds-instance snapshots created',
    });
    expect(notifier.sent[0]!.lines.join('\n')).toContain('ManualClusterSnapshots quota full (100/100 used)');
  });

  it('refuses every instance snapshot when the planned ones would exceed the quota', async () => {
    // Prepare
    const { deps, primary } = fakeDeps({ quotas: [{ name: 'ManualSnapshots', used: 99, max: 100 }] });

    // Act
    const result = await run(clone(scheduledEvent), deps);

    // Assert
    expect(primary.created.map((c) => c.kind)).toEqual(['aurora-cluster']);
    expect(result.severity).toBe('critical');
  });

  it('does not count twice against the quota the snapshot a failed run took before its retry', async () => {
    // Prepare: ManualSnapshots 98/100 fits orders-db and billing-db; billing-db's create is throttled, the run
    // fails and is retried. By then orders-db's snapshot is in the quota's 99.
    const { deps, primary, primaryStore } = fakeDeps({
      quotas: [{ name: 'ManualSnapshots', used: 98, max: 100 }],
    });
    deps.readers = {
      primary: fakeSnapshotReader(primaryStore),
      dr: fakeSnapshotReader(fakeSnapshotStore(DR)),
    };
    primary.failCreate.set(
      'billing-db',
      new AwsCallError('CreateDBSnapshot', 'billing-db', new Error('Rate exceeded')),
    );
    await expect(run(clone(scheduledEvent), deps)).rejects.toThrow(PartialFailureError);
    primary.failCreate.clear();
    primary.quotaList = [{ name: 'ManualSnapshots', used: 99, max: 100 }];

    // Act
    const retry = await run(clone(scheduledEvent), deps);

    // Assert: the retry takes billing-db's snapshot, and finds orders-db's already there.
    expect(primary.created.filter((c) => c.kind === 'rds-instance').map((c) => c.dbId)).toEqual([
      'orders-db',
      'billing-db',
    ]);
    expect(retry.outcomes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resource: 'orders-db', action: 'create-snapshot', status: 'already-done' }),
        expect.objectContaining({ resource: 'billing-db', action: 'create-snapshot', status: 'done' }),
      ]),
    );
    expect(retry.backup!.findings).toEqual([
      expect.objectContaining({ severity: 'warning', quota: 'ManualSnapshots', used: 99, planned: 1 }),
    ]);
  });

  it('finishes the other databases, notifies, then throws PartialFailureError when one create fails', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps();
    primary.failCreate.set(
      'billing-db',
      new AwsCallError(
        'CreateDBSnapshot',
        'rds-instance billing-db (snapshot steward-billing-db-202601150300-sched) in eu-west-1',
        {
          name: 'DBInstanceNotFoundFault',
          message: 'DBInstance billing-db not found.',
        },
      ),
    );

    // Act
    const p = run(clone(scheduledEvent), deps);

    // Assert
    await expect(p).rejects.toThrow(PartialFailureError);
    await expect(p).rejects.toThrow(/billing-db .*DBInstanceNotFoundFault/);
    expect(primary.created.map((c) => c.dbId)).toEqual(['orders-db', 'analytics']);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.severity).toBe('critical');
    expect(notifier.sent[0]!.lines.join('\n')).toContain('FAILED create-snapshot billing-db');
    expect(metric('ActionFailures')).toEqual([1]);
  });

  it('sends a critical notification and rethrows when the databases cannot be listed', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps();
    primary.failList = new AwsCallError('DescribeDBInstances', 'region eu-west-1', {
      name: 'AccessDenied',
      message: 'no',
    });

    // Act / Assert
    await expect(run(clone(scheduledEvent), deps)).rejects.toThrow(AwsCallError);
    expect(notifier.sent).toEqual([
      expect.objectContaining({ severity: 'critical', subject: 'daily backup failed before acting' }),
    ]);
  });

  it('reports a notification that could not be sent as a failure instead of swallowing it', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();
    deps.notifier = { send: async () => Promise.reject(new Error('SNS down')) };

    // Act / Assert
    await expect(run(clone(scheduledEvent), deps)).rejects.toThrow(/notification \(SNS down\)/);
    expect(primary.created).toHaveLength(3);
  });
});

describe('ad-hoc snapshot', () => {
  it('snapshots the requested database with reason and retain-until', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps();

    // Act
    const result = await run(clone(snapshotEvent), deps);

    // Assert
    expect(primary.created).toEqual([
      {
        kind: 'rds-instance',
        dbId: 'orders-db',
        snapshotId: 'steward-orders-db-202601151030-adhoc',
        tags: {
          'steward:managed': 'true',
          'steward:policy': 'adhoc',
          'steward:source': 'orders-db',
          'steward:created-by': 'backup',
          'steward:kind': 'adhoc',
          'steward:reason': 'pre-migration',
          'steward:retain-until': '2026-04-15',
        },
      },
    ]);
    expect(result.summary).toBe(
      'snapshot of orders-db (pre-migration): created steward-orders-db-202601151030-adhoc',
    );
    expect(notifier.sent.map((n) => n.severity)).toEqual(['info']);
  });

  it('keeps it for backup.preChangeRetainDays when the request gives no retainDays', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();
    const event: Record<string, unknown> = clone(snapshotEvent);
    delete event.retainDays;

    // Act
    await run(event, deps);

    // Assert
    expect(primary.created[0]!.tags['steward:retain-until']).toBe('2026-02-14');
  });

  it('uses requestedAt for the id so a retried request is a no-op', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();
    const event = { ...snapshotEvent, requestedAt: '2026-01-15T09:00:00Z' };
    await run(event, deps);

    // Act
    const again = await run(event, deps);

    // Assert
    expect(primary.created.map((c) => c.snapshotId)).toEqual(['steward-orders-db-202601150900-adhoc']);
    expect(again.outcomes[0]!.status).toBe('already-done');
  });

  it('is a no-op when Lambda retries the request a minute later: the id comes from the request id', async () => {
    // Prepare: the first attempt created the snapshot, then failed (say, SNS was down).
    const { deps, primary } = fakeDeps();
    const lambda = { requestId: 'c0ffee00-1111-4222-8333-944455556666' };
    await run(clone(snapshotEvent), { ...deps, now: () => new Date('2026-01-15T10:30:40Z') }, lambda);

    // Act: Lambda's async retry: same event, same request id, one minute later.
    const retry = await run(
      clone(snapshotEvent),
      { ...deps, now: () => new Date('2026-01-15T10:31:40Z') },
      lambda,
    );

    // Assert
    expect(primary.created).toHaveLength(1);
    expect(primary.created[0]!.snapshotId).toMatch(/^steward-orders-db-[a-z0-9]{10}-adhoc$/);
    expect(retry.outcomes[0]).toMatchObject({
      status: 'already-done',
      detail: primary.created[0]!.snapshotId,
    });
  });

  it('names the snapshot after a client token, whichever invocation carries it', async () => {
    // Prepare: a pipeline retries with its own token through two separate invocations.
    const { deps, primary } = fakeDeps();
    const event = { ...clone(snapshotEvent), clientToken: 'deploy-4711' };
    await run(event, deps, { requestId: 'first-invocation' });

    // Act
    const again = await run(event, deps, { requestId: 'second-invocation' });

    // Assert
    expect(primary.created).toHaveLength(1);
    expect(again.outcomes[0]!.status).toBe('already-done');
  });

  it('refuses a client token that cannot be an identifier, naming the field', async () => {
    // Act
    const err = await run(
      { ...clone(snapshotEvent), clientToken: 'no spaces/please' },
      fakeDeps().deps,
    ).catch((e: unknown) => e);
    // Assert
    expect(err).toMatchObject({ name: 'EventShapeError', message: expect.stringMatching(/clientToken/) });
  });

  it('snapshots the Aurora cluster when asked for one of its instances, by ARN', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();

    // Act
    await run({ ...snapshotEvent, resource: 'arn:aws:rds:eu-west-1:111122223333:db:analytics-writer' }, deps);

    // Assert
    expect(primary.created.map((c) => [c.kind, c.dbId])).toEqual([['aurora-cluster', 'analytics']]);
  });

  it('fails loudly when the database cannot be snapshotted now', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps();

    // Act / Assert
    await expect(run({ ...snapshotEvent, resource: 'inventory-db' }, deps)).rejects.toThrow(
      /inventory-db \(not-available: status modifying/,
    );
    expect(primary.created).toEqual([]);
    expect(notifier.sent.map((n) => [n.severity, n.subject])).toEqual([
      ['critical', 'snapshot of inventory-db (pre-migration): not created'],
    ]);
  });

  it('refuses a database that is not opted in, as the function IAM policy does', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();

    // Act / Assert
    await expect(run({ ...snapshotEvent, resource: 'legacy-reporting' }, deps)).rejects.toThrow(
      /legacy-reporting \(not-opted-in: no steward:backup tag/,
    );
    expect(primary.created).toEqual([]);
  });

  it('rejects an unknown resource with EventShapeError naming it, creating and sending nothing', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeDeps();

    // Act
    const p = run({ ...snapshotEvent, resource: 'ordres-db' }, deps);

    // Assert
    await expect(p).rejects.toThrow(EventShapeError);
    await expect(p).rejects.toThrow('resource: no database with id or ARN "ordres-db" in eu-west-1');
    expect(primary.created).toEqual([]);
    expect(notifier.sent).toEqual([]);
  });
});

describe('copy reconciliation', () => {
  // Eight databases with one snapshot each (a database copies one snapshot at a time).
  const eight = Array.from({ length: 8 }, (_, i) => ({
    ...managedSnapshot(`steward-db-${i}-2026011${i}0300-sched`, 10 + i),
    sourceId: `db-${i}`,
  }));

  it('starts only as many copies as fit under the configured 5 in flight, oldest first, and defers the rest', async () => {
    // Prepare
    const { deps, dr, notifier } = fakeDeps({ primarySnaps: eight, drSnaps: [inFlight(1), inFlight(2)] });
    deps.config.backup.maxCopiesInFlight = 5;

    // Act
    const result = await run(clone(reconcileEvent), deps);

    // Assert
    expect(dr.copies.map((c) => c.targetId)).toEqual(eight.slice(0, 3).map((s) => drCopyId(s.id, PRIMARY)));
    expect(dr.copies[0]).toEqual({
      kind: 'rds-instance',
      sourceArn: eight[0]!.arn,
      targetId: drCopyId(eight[0]!.id, PRIMARY),
      kmsKeyId: KEY,
      encrypted: true,
      tags: { ...eight[0]!.tags, 'steward:copied-from': eight[0]!.arn },
    });
    expect(result.copies).toMatchObject({ inFlight: 2, limit: 5 });
    expect(result.copies!.deferred.map((c) => c.source.id)).toEqual(eight.slice(3).map((s) => s.id));
    expect(result.outcomes.filter((o) => o.status === 'skipped')).toHaveLength(5);
    expect(notifier.sent.map((n) => [n.severity, n.subject])).toEqual([
      ['info', 'DR copies 3 started, 5 deferred, 2 already in flight, 0 failed'],
    ]);
    expect(metric('SnapshotsCopied')).toEqual([3]);
    expect(metric('CopiesDeferred')).toEqual([5]);
  });

  it("pages, naming the quota and the DR region, when the DR region's manual snapshot quota refuses copies", async () => {
    // Prepare: the DR region holds 98 of its 100 manual DB snapshots.
    const { deps, dr, notifier } = fakeDeps({ primarySnaps: eight.slice(0, 3) });
    dr.quotas = async () => [{ name: 'ManualSnapshots', used: 98, max: 100 }];

    // Act
    const result = await run(clone(reconcileEvent), deps);

    // Assert
    expect(dr.copies).toHaveLength(2);
    expect(result.severity).toBe('critical');
    expect(notifier.sent[0]!.subject).toBe(
      'DR copies 2 started, 0 deferred, 1 waiting for the DR quota, 0 already in flight, 0 failed',
    );
    const lines = notifier.sent[0]!.lines.join('\n');
    expect(lines).toContain(
      'CRITICAL: ManualSnapshots quota 98/100 used in us-west-2: room for 2 of 3 copies; 1 DR rds-instance copies wait',
    );
    expect(lines).toContain('the copy of db-2');
  });

  it('picks up the deferred copies on the next run once the DR region has room', async () => {
    // Prepare
    const { deps, dr, drStore } = fakeDeps({ primarySnaps: eight });
    await run(clone(reconcileEvent), deps);
    for (const s of drStore.snapshots) s.status = 'available';

    // Act
    await run(clone(reconcileEvent), deps);

    // Assert
    expect(dr.copies.map((c) => c.targetId)).toEqual(eight.map((s) => drCopyId(s.id, PRIMARY)));
  });

  it('runs the same reconciliation for an RDS "manual snapshot created" event', async () => {
    // Prepare
    const { deps, dr } = fakeDeps({ primarySnaps: eight.slice(0, 1) });

    // Act
    const result = await run(clone(rdsEvent), deps);

    // Assert
    expect(result.action).toBe('reconcile-copies');
    expect(dr.copies.map((c) => c.targetId)).toEqual([drCopyId(eight[0]!.id, PRIMARY)]);
  });

  it('stays quiet when there is nothing to copy', async () => {
    // Prepare
    const { deps, notifier } = fakeDeps();

    // Act
    const result = await run(clone(reconcileEvent), deps);

    // Assert
    expect(result.severity).toBe('info');
    expect(notifier.sent).toEqual([]);
  });

  it('reports a KMS failure of one copy and still starts the others', async () => {
    // Prepare
    const { deps, dr, notifier } = fakeDeps({ primarySnaps: eight.slice(0, 2) });
    dr.failCopy.set(
      drCopyId(eight[0]!.id, PRIMARY),
      new AwsCallError('CopyDBSnapshot', `snapshot: KMS key ${KEY} must exist in ${DR}`, {
        name: 'KMSKeyNotAccessibleFault',
        message: 'disabled',
      }),
    );

    // Act / Assert
    await expect(run(clone(reconcileEvent), deps)).rejects.toThrow(PartialFailureError);
    expect(dr.copies.map((c) => c.targetId)).toEqual([drCopyId(eight[1]!.id, PRIMARY)]);
    expect(notifier.sent[0]!.severity).toBe('critical');
    expect(notifier.sent[0]!.lines.join('\n')).toContain(`KMS key ${KEY} must exist in ${DR}`);
  });
});

describe('malformed events', () => {
  const without = (event: object, path: string[]): unknown => {
    const copy: Record<string, unknown> = clone(event) as Record<string, unknown>;
    let at = copy;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    delete at[path.at(-1)!];
    return copy;
  };

  it.each([
    ['scheduled without policy', scheduledEvent, ['policy'], 'policy'],
    ['scheduled without scheduledTime', scheduledEvent, ['scheduledTime'], 'scheduledTime'],
    ['snapshot without resource', snapshotEvent, ['resource'], 'resource'],
    ['snapshot without reason', snapshotEvent, ['reason'], 'reason'],
    ['a direct payload without action', reconcileEvent, ['action'], 'action'],
    ['an RDS event without EventID', rdsEvent, ['detail', 'EventID'], 'detail.EventID'],
  ])(
    'rejects %s with EventShapeError naming the field, creating nothing',
    async (_what, good, path, field) => {
      // Prepare
      const { deps, primary, dr, notifier } = fakeDeps({
        primarySnaps: [managedSnapshot('steward-x-202601100300-sched', 10)],
      });

      // Act
      const p = run(without(good, path), deps);

      // Assert
      await expect(p).rejects.toThrow(EventShapeError);
      await expect(p).rejects.toThrow(new RegExp(`${field.replace('.', '\\.')}: `));
      expect(primary.created).toEqual([]);
      expect(dr.copies).toEqual([]);
      expect(notifier.sent).toEqual([]);
    },
  );

  it.each([
    [
      'a scheduled time that is not a date',
      { ...scheduledEvent, scheduledTime: 'tomorrow' },
      'scheduledTime: ',
    ],
    [
      'a reason that is not a valid tag value',
      { ...snapshotEvent, reason: 'migrate; drop table' },
      'reason: ',
    ],
    ['a misspelt field', { ...snapshotEvent, retaindays: 7 }, 'retaindays'],
    ['an unknown action', { action: 'restore' }, 'action: '],
    [
      'another RDS event',
      { ...rdsEvent, detail: { ...rdsEvent.detail, EventID: 'RDS-EVENT-0040' } },
      'detail.EventID: ',
    ],
  ])('rejects %s', async (_what, event, message) => {
    // Prepare
    const { deps, primary } = fakeDeps();

    // Act / Assert
    await expect(run(event, deps)).rejects.toThrow(message);
    expect(primary.created).toEqual([]);
  });

  it('names an unknown policy and the known ones', async () => {
    // Prepare
    const { deps, primary } = fakeDeps();

    // Act
    const p = run({ ...scheduledEvent, policy: 'weekly' }, deps);

    // Assert
    await expect(p).rejects.toThrow(EventShapeError);
    await expect(p).rejects.toThrow('policy: "weekly" is not in backup.policies (known: daily, cache)');
    expect(primary.created).toEqual([]);
  });
});

describe('wire', () => {
  it('builds the primary adapters in config.region and the copy side in config.dr.region', () => {
    // Prepare
    const base = {
      config: parseConfig(configInput, 'test'),
      dryRun: false,
      notifier: memoryNotifier(),
      now: () => NOW,
    };

    // Act
    const deps = wire(base);

    // Assert
    expect([deps.primary.region, deps.snapshots.primary.region]).toEqual([PRIMARY, PRIMARY]);
    expect([deps.dr.region, deps.snapshots.dr.region]).toEqual([DR, DR]);
    expect(deps.config).toBe(base.config);
  });
});
