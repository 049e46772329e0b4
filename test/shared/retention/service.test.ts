import { afterEach, describe, expect, it, vi } from 'vitest';
import { AwsCallError, PartialFailureError } from '../../../shared/errors.js';
import type { Snapshot } from '../../../shared/model.js';
import type { Notifier } from '../../../shared/notify/notifier.js';
import { metrics, MetricUnit } from '../../../shared/observability.js';
import { memoryDeletionBudget } from '../../../shared/retention/memory-budget.js';
import type { RetentionRecord } from '../../../shared/retention/record.js';
import { type RetentionServiceDeps, runRetention } from '../../../shared/retention/service.js';
import { Tag } from '../../../shared/tags.js';
import { fakeRetentionDeps, retentionTestConfig, sampleInventory } from '../../fakes/retention-fixtures.js';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The sample inventory without its keeps on doubt (unknown policy, malformed retain-until). */
const cleanInventory = (): Snapshot[] =>
  sampleInventory().filter(
    (s) => s.tags[Tag.policy] !== 'hourly' && s.tags[Tag.retainUntil] !== '2026-13-01',
  );

describe('runRetention', () => {
  it('still acts on the primary region when the DR region cannot be listed, then reports and throws', async () => {
    // Prepare
    const { deps, primary, dr, notifier } = fakeRetentionDeps({ inventory: cleanInventory() });
    dr.failList = new AwsCallError('DescribeDBSnapshots', 'region us-west-2', {
      name: 'AccessDenied',
      message: 'no',
    });

    // Act
    const error = await runRetention(deps).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(PartialFailureError);
    expect((error as PartialFailureError).failures).toMatchObject([
      {
        resource: 'snapshots in us-west-2',
        error: expect.stringContaining('AccessDenied'),
        code: 'AccessDenied',
      },
    ]);
    // Without the DR listing no day is known to be in DR: of the 14 expired in the primary region, only the
    // ones that are never copied (ElastiCache, the ad-hoc snapshot) go; each copied day keeps a snapshot.
    expect(primary.removed).toHaveLength(6);
    expect(primary.removed.every((k) => k.startsWith('elasticache/') || k.endsWith('-adhoc'))).toBe(true);
    expect(dr.removed).toEqual([]);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({ severity: 'warning' });
    expect(notifier.sent[0]!.lines.join('\n')).toContain('Awaiting DR: 8 expired snapshots kept');
    expect(notifier.sent[0]!.lines[0]).toBe('Regions: eu-west-1 (46 snapshots), us-west-2 (listing failed).');
  });

  it('one throttled ElastiCache tag read does not skip the region: everything else is judged and deleted', async () => {
    // Prepare
    const { deps, primary, notifier } = fakeRetentionDeps({ inventory: cleanInventory() });
    const cache = primary.snapshots.filter((s) => s.kind === 'elasticache');
    const unreadable = cache[cache.length - 1]!;
    primary.failRead.set(
      unreadable.id,
      new AwsCallError('ListTagsForResource (ElastiCache)', `snapshot ${unreadable.id} in eu-west-1`, {
        name: 'ThrottlingException',
        message: 'Rate exceeded',
      }),
    );
    const { deps: reference, primary: untouched } = fakeRetentionDeps({ inventory: cleanInventory() });
    await runRetention(reference);

    // Act
    const error = await runRetention(deps).catch((e: unknown) => e);

    // Assert: every RDS and Aurora deletion of the fault-free run still happens; the unread snapshot is
    // never deleted; the run reports it and fails once, at the end.
    const rdsOnly = (ids: string[]) => ids.filter((k) => !k.startsWith('elasticache/'));
    expect(rdsOnly(primary.removed)).toEqual(rdsOnly(untouched.removed));
    expect(rdsOnly(primary.removed).length).toBeGreaterThan(0);
    expect(primary.removed).not.toContain(`elasticache/${unreadable.id}`);
    expect(error).toBeInstanceOf(PartialFailureError);
    expect((error as PartialFailureError).failures).toMatchObject([
      { resource: `elasticache snapshot ${unreadable.id} in eu-west-1`, code: 'ThrottlingException' },
    ]);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.lines[0]).toMatch(/^Regions: eu-west-1 \(\d+ snapshots, 1 unreadable\)/);
  });

  describe("the day's deletion budget", () => {
    const capped = () =>
      retentionTestConfig({
        retention: { ...retentionTestConfig().retention, deletions: { floor: 5, dueMultiple: 1 } },
      });
    const deleted = (...stores: { removed: string[] }[]) => stores.reduce((n, s) => n + s.removed.length, 0);

    it("a Lambda retry of the day's run deletes only what the budget has left, not another full cap", async () => {
      // Prepare: 14 expired in the primary region, a cap of 5; the first attempt used the day's budget.
      const budget = memoryDeletionBudget();
      const { deps, primary, dr } = fakeRetentionDeps({
        inventory: cleanInventory(),
        config: capped(),
        budget,
      });
      await runRetention(deps);

      // Act: Lambda's async retry (or EventBridge redelivering) runs the same day again.
      const retry = await runRetention(deps);

      // Assert
      expect(deleted(primary, dr)).toBe(5);
      expect(retry.outcomes.filter((o) => o.action === 'delete' && o.status === 'done')).toEqual([]);
      expect(retry.outcomes).toContainEqual(
        expect.objectContaining({
          action: 'delete',
          status: 'skipped',
          reason: expect.stringMatching(/budget/),
        }),
      );
      expect(budget.used.get('2026-11-23')).toBe(5);
    });

    it('the run and both of its Lambda retries together stay within the budget', async () => {
      // Prepare
      const { deps, primary, dr } = fakeRetentionDeps({ inventory: cleanInventory(), config: capped() });

      // Act
      for (let i = 0; i < 3; i++) await runRetention(deps);

      // Assert
      expect(deleted(primary, dr)).toBe(5);
    });

    it('deletes nothing when the budget cannot be read or reserved, and fails the run', async () => {
      // Prepare
      const { deps, primary, dr, notifier } = fakeRetentionDeps({ inventory: cleanInventory() });
      deps.budget = {
        reserve: async () => {
          throw new AwsCallError('GetItem', 'steward-staging-state retention-budget#2026-11-23', {
            name: 'ResourceNotFoundException',
            message: 'table not found',
          });
        },
        refund: async () => {},
      };

      // Act
      const error = await runRetention(deps).catch((e: unknown) => e);

      // Assert
      expect(deleted(primary, dr)).toBe(0);
      expect(error).toBeInstanceOf(PartialFailureError);
      expect((error as PartialFailureError).failures).toMatchObject([
        { resource: 'retention budget 2026-11-23', code: 'ResourceNotFoundException' },
      ]);
      expect(notifier.sent).toHaveLength(1);
    });

    it('gives back what was reserved but not deleted (failed or already gone)', async () => {
      // Prepare
      const budget = memoryDeletionBudget();
      const { deps, primary, dr } = fakeRetentionDeps({
        inventory: cleanInventory(),
        config: capped(),
        budget,
      });
      const victims = (await primary.list(['rds-instance', 'aurora-cluster', 'elasticache'])).snapshots;
      for (const v of victims) primary.failRemove.set(v.id, new Error('InvalidDBSnapshotState'));

      // Act
      await runRetention(deps).catch(() => undefined);

      // Assert: of the 5 reserved, only what was really deleted (in the DR region) stays used.
      expect(primary.removed).toEqual([]);
      expect(budget.used.get('2026-11-23')).toBe(dr.removed.length);
      expect(dr.removed.length).toBeLessThan(5);
    });

    it('reserves nothing in a dry run', async () => {
      // Prepare
      const budget = memoryDeletionBudget();
      const { deps } = fakeRetentionDeps({ inventory: cleanInventory(), dryRun: true, budget });
      // Act
      await runRetention(deps);
      // Assert
      expect(budget.used.size).toBe(0);
    });
  });

  it('reports a snapshot whose steward:source tag disagrees with AWS, and leaves it alone', async () => {
    // Prepare
    const inventory = cleanInventory();
    const forged = inventory.find((s) => s.region === 'eu-west-1' && s.kind === 'rds-instance')!;
    forged.tags[Tag.source] = 'someone-else-db';
    const { deps, primary, notifier } = fakeRetentionDeps({ inventory });

    // Act
    const result = await runRetention(deps);

    // Assert
    expect(result.plan.verdicts.find((v) => v.id === forged.id)).toMatchObject({
      action: 'skip',
      rule: 'source-mismatch',
    });
    expect(primary.removed).not.toContain(`rds-instance/${forged.id}`);
    expect(notifier.sent[0]).toMatchObject({ severity: 'warning' });
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      `${forged.id} (eu-west-1): skipped: its steward:source tag names another database than its source ${forged.sourceId}`,
    );
  });

  it('counts a snapshot that is already gone as done, not as a failure', async () => {
    // Prepare
    const { deps, primary, dr } = fakeRetentionDeps({ inventory: cleanInventory() });
    const list = primary.list;
    primary.list = async (kinds) => {
      const listed = await list(kinds);
      primary.snapshots = []; // deleted by someone else between listing and deleting
      return listed;
    };

    // Act
    const result = await runRetention(deps);

    // Assert
    const primaryDeletes = result.outcomes.filter(
      (o) => o.action === 'delete' && o.resource.endsWith('eu-west-1'),
    );
    expect(primaryDeletes).toHaveLength(10);
    expect(primaryDeletes.every((o) => o.status === 'already-done')).toBe(true);
    expect(dr.removed).toHaveLength(4);
    expect(result.notification.severity).toBe('info');
  });

  it('adds dry run from the request and deletes nothing', async () => {
    // Prepare
    const { deps, primary, dr } = fakeRetentionDeps();

    // Act
    const result = await runRetention(deps, { dryRun: true });

    // Assert
    expect(result.dryRun).toBe(true);
    expect([...primary.removed, ...dr.removed]).toEqual([]);
    expect(result.plan.delete).toHaveLength(14);
  });

  it('defers deletions over the cap, oldest first, and warns', async () => {
    // Prepare
    const config = retentionTestConfig({
      retention: { ...retentionTestConfig().retention, deletions: { floor: 5, dueMultiple: 1 } },
    });
    const { deps, primary, dr, notifier } = fakeRetentionDeps({ config, inventory: cleanInventory() });

    // Act
    const result = await runRetention(deps);

    // Assert
    expect([...primary.removed, ...dr.removed]).toEqual([
      'rds-instance/steward-orders-db-202608031005-adhoc',
      'rds-instance/steward-orders-db-202608310300-sched',
      'elasticache/steward-sessions-redis-202611110300-sched',
      'rds-instance/steward-orders-db-202611120300-sched',
      'rds-instance/steward-orders-db-202608310300-sched',
    ]);
    expect(primary.removed).toHaveLength(4);
    expect(result.plan.deferred).toHaveLength(9);
    expect(notifier.sent[0]).toMatchObject({
      severity: 'warning',
      subject: 'deleted 5 expired snapshots, 9 deferred to the next run',
    });
    expect(notifier.sent[0]!.lines).toContain(
      "Today's allowance: 5 deletions (1 became due in the last 48 h; safety cap 2000).",
    );
  });

  it('warns about snapshots kept on doubt and names them', async () => {
    // Prepare
    const { deps, notifier } = fakeRetentionDeps();

    // Act
    await runRetention(deps);

    // Assert
    expect(notifier.sent[0]!.severity).toBe('warning');
    expect(notifier.sent[0]!.lines).toEqual(
      expect.arrayContaining([
        '- steward-billing-aurora-202611050300-hourly (eu-west-1): unknown-policy: steward:policy="hourly" names no policy',
        '- steward-orders-db-202609151130-adhoc (eu-west-1): bad steward:retain-until value "2026-13-01"',
      ]),
    );
  });

  it('sends info when every expired snapshot was deleted and nothing needs a human', async () => {
    // Prepare
    const { deps, notifier } = fakeRetentionDeps({ inventory: cleanInventory() });

    // Act
    await runRetention(deps);

    // Assert
    expect(notifier.sent).toEqual([
      expect.objectContaining({
        severity: 'info',
        capability: 'retention',
        subject: 'deleted 14 expired snapshots',
      }),
    ]);
  });

  it('emits deleted, expired and failure counts as metrics, and no count that is zero', async () => {
    // Prepare
    const addMetric = vi.spyOn(metrics, 'addMetric');
    const { deps, primary } = fakeRetentionDeps({ inventory: cleanInventory() });
    primary.failRemove.set('steward-orders-db-202608310300-sched', new Error('boom'));

    // Act
    await runRetention(deps).catch(() => undefined);

    // Assert
    // (a zero count is not sent: CloudWatch bills a custom metric for each hour it receives data)
    expect(addMetric.mock.calls).toEqual([
      ['SnapshotsExpired', MetricUnit.Count, 14],
      ['SnapshotsDeleted', MetricUnit.Count, 13],
      // Gauges: in a fleet, the fleet-wide series only (a target's are in its run report).
      ['SnapshotsDue', MetricUnit.Count, 1, { perTarget: 0 }],
      ['DeletionAllowance', MetricUnit.Count, 50, { perTarget: 0 }],
      ['SnapshotsAwaitingDr', MetricUnit.Count, 4],
      ['ActionFailures', MetricUnit.Count, 1],
    ]);
  });

  it('reports a failed notification as a failure of the run, after deleting', async () => {
    // Prepare
    const { deps, primary } = fakeRetentionDeps({ inventory: cleanInventory() });
    const failing: Notifier = { send: async () => Promise.reject(new Error('SNS unavailable')) };

    // Act
    const error = await runRetention({ ...deps, notifier: failing }).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(PartialFailureError);
    expect((error as PartialFailureError).failures).toMatchObject([
      { resource: 'info notification', error: 'SNS unavailable' },
    ]);
    expect(primary.removed).toHaveLength(10);
  });
});

describe('runRetention records what it deleted', () => {
  it('keeps one record per run with every deletion, its source, creation time and reason', async () => {
    // Prepare
    const records: RetentionRecord[] = [];
    const fake = fakeRetentionDeps({ inventory: cleanInventory() });
    const deps: RetentionServiceDeps = {
      ...fake.deps,
      records: { record: async (r) => (records.push(r), 's3://reports/runs/retention/x.json') },
    };

    // Act
    const result = await runRetention(deps, { scheduledTime: '2026-11-23T04:30:00Z' });

    // Assert
    expect(records).toHaveLength(1);
    const [r] = records;
    expect(r).toMatchObject({
      type: 'steward-retention-record',
      scheduledTime: '2026-11-23T04:30:00Z',
      deferred: 0,
    });
    expect(r!.entries).toHaveLength(result.plan.delete.length);
    expect(r!.entries[0]).toMatchObject({
      status: 'deleted',
      reason: 'retain-until 2026-11-01 passed',
      sourceId: 'orders-db',
    });
    expect(result.outcomes).toContainEqual({
      resource: 'retention record',
      action: 'record',
      status: 'done',
      detail: 's3://reports/runs/retention/x.json',
    });
  });

  it('keeps no record of a dry run, and reports a failed record as a failure of the run', async () => {
    // Prepare
    const dry = fakeRetentionDeps({ inventory: cleanInventory() });
    const calls: RetentionRecord[] = [];
    const dryDeps: RetentionServiceDeps = {
      ...dry.deps,
      records: { record: async (r) => (calls.push(r), 'k') },
    };
    const failing = fakeRetentionDeps({ inventory: cleanInventory() });
    const failingDeps: RetentionServiceDeps = {
      ...failing.deps,
      records: { record: async () => Promise.reject(new Error('AccessDenied')) },
    };

    // Act
    await runRetention(dryDeps, { dryRun: true });
    const error = await runRetention(failingDeps).catch((e: unknown) => e);

    // Assert
    expect(calls).toEqual([]);
    expect(error).toBeInstanceOf(PartialFailureError);
    expect((error as PartialFailureError).failures).toEqual([
      expect.objectContaining({ resource: 'retention record', error: 'AccessDenied' }),
    ]);
    expect(failing.primary.removed.length).toBeGreaterThan(0);
  });
});

describe('runRetention under its deletion limits', () => {
  /** `databases` RDS instances with a nightly 03:00 snapshot on each of the `days` days up to NOW. */
  const nightly = (databases: number, days: number): Snapshot[] =>
    Array.from({ length: databases }, (_, db) =>
      Array.from({ length: days }, (_, d): Snapshot => {
        const at = new Date(Date.parse('2026-11-23T03:00:00Z') - d * 86_400_000);
        const id = `steward-db-${db}-${at.toISOString().slice(0, 10).replace(/-/g, '')}0300-sched`;
        return {
          kind: 'rds-instance',
          id,
          arn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${id}`,
          region: 'eu-west-1',
          sourceId: `db-${db}`,
          createdAt: at.toISOString(),
          status: 'available',
          type: 'manual',
          tags: { [Tag.managed]: 'true', [Tag.policy]: 'local', [Tag.source]: `db-${db}` },
        };
      }),
    ).flat();
  const config = (daily: number, safetyCap: number) =>
    retentionTestConfig({
      backup: { policies: { local: { retention: 'local' } } },
      retention: {
        includeDrRegion: false,
        deletions: { floor: 5, dueMultiple: 2, safetyCap },
        policies: { local: { daily, keepAtLeast: 1 } },
      },
    });

  it('deletes a normal day in full however large the estate: 300 databases, 300 due, 300 deleted', async () => {
    // Prepare: 31 nightly snapshots each under a 30-day policy: the oldest of each is due today.
    const { deps, primary, notifier } = fakeRetentionDeps({
      inventory: nightly(300, 31),
      config: config(30, 2000),
    });
    const addMetric = vi.spyOn(metrics, 'addMetric');

    // Act
    const result = await runRetention(deps);

    // Assert
    expect(result.plan.allowance).toEqual({ due: 300, expired: 300, allowed: 600 });
    expect(primary.removed).toHaveLength(300);
    expect(notifier.sent[0]).toMatchObject({ severity: 'info', subject: 'deleted 300 expired snapshots' });
    expect(addMetric.mock.calls.filter(([name]) => name === 'SafetyCapHit')).toEqual([]);
  });

  it('stops at the safety cap when a policy change expires a month at once, and pages with the counts', async () => {
    // Prepare: the policy was changed to keep one day; 40 databases × 30 older snapshots are now expired.
    const { deps, primary, notifier } = fakeRetentionDeps({
      inventory: nightly(40, 31),
      config: config(1, 100),
    });
    const addMetric = vi.spyOn(metrics, 'addMetric');

    // Act
    const result = await runRetention(deps);

    // Assert: 100 deleted (the oldest), 1 100 held back, and the critical topic says why with the counts.
    expect(result.plan.allowance).toEqual({ due: 80, expired: 1200, allowed: 100, capHit: 'safety' });
    expect(primary.removed).toHaveLength(100);
    expect(result.plan.delete.every((s) => s.createdAt! <= result.plan.deferred[0]!.createdAt!)).toBe(true);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({
      severity: 'critical',
      subject: 'safety cap: 1200 snapshots expired, 100 deleted at most, 1100 held back',
    });
    expect(notifier.sent[0]!.lines).toEqual(
      expect.arrayContaining([
        'SAFETY CAP REACHED: 1200 snapshots are expired, 80 of them became due in the last 48 h; at most 100 are deleted per UTC day, so 1100 were held back.',
        expect.stringMatching(/^Far more expired than a normal day: check recent retention policy changes/),
      ]),
    );
    expect(addMetric).toHaveBeenCalledWith('SafetyCapHit', MetricUnit.Count, 1);
    expect(addMetric).toHaveBeenCalledWith('SnapshotsDue', MetricUnit.Count, 80, { perTarget: 0 });
    expect(addMetric).toHaveBeenCalledWith('DeletionAllowance', MetricUnit.Count, 100, { perTarget: 0 });
  });

  it('says to raise the safety cap when a normal day alone exceeds it', async () => {
    // Prepare
    const { deps, notifier } = fakeRetentionDeps({ inventory: nightly(60, 31), config: config(30, 50) });

    // Act
    await runRetention(deps);

    // Assert
    expect(notifier.sent[0]!.lines).toContain(
      'What became due today alone exceeds the safety cap: raise retention.deletions.safetyCap above 60.',
    );
  });
});

describe('runRetention with DR copies it does not sweep', () => {
  it('reads the DR region (the kinds with a cross-region copy: RDS and EBS) to keep the days that have not reached it, and deletes nothing there', async () => {
    // Prepare: retention sweeps only the primary region; the DR region is read, not swept.
    const config = retentionTestConfig({
      retention: { ...retentionTestConfig().retention, includeDrRegion: false },
    });
    const { deps, primary, dr } = fakeRetentionDeps({ inventory: cleanInventory(), config });
    const kindsRead: string[][] = [];
    const list = dr.list;
    dr.list = async (kinds) => (kindsRead.push([...kinds]), list(kinds));

    // Act
    const result = await runRetention({ ...deps, stores: [primary], drStore: dr });

    // Assert
    expect(kindsRead).toEqual([['rds-instance', 'aurora-cluster', 'ebs']]);
    expect(dr.removed).toEqual([]);
    expect(result.plan.summary.byRule['awaiting-dr']).toBe(4);
    expect(primary.removed).toHaveLength(10);
    expect(result.outcomes).toContainEqual(
      expect.objectContaining({ resource: 'snapshots in us-west-2 (DR, read only)', status: 'done' }),
    );
  });

  it('keeps every copied day when the DR region cannot be read, and fails the run', async () => {
    // Prepare
    const config = retentionTestConfig({
      retention: { ...retentionTestConfig().retention, includeDrRegion: false },
    });
    const { deps, primary, dr } = fakeRetentionDeps({ inventory: cleanInventory(), config });
    dr.failList = new AwsCallError('DescribeDBSnapshots', 'region us-west-2', { name: 'AccessDenied' });

    // Act
    const error = await runRetention({ ...deps, stores: [primary], drStore: dr }).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(PartialFailureError);
    expect(primary.removed.every((k) => k.startsWith('elasticache/') || k.endsWith('-adhoc'))).toBe(true);
    expect(primary.removed).toHaveLength(6);
  });
});
