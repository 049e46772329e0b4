import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import {
  drillExecutionSeconds,
  janitorMaxAgeHours,
  planJanitor,
  runJanitor,
} from '../../../shared/drill/janitor.js';
import type { CopyDeletion, DrillCopy, DrillResource, VaultShare } from '../../../shared/drill/ports.js';
import { PartialFailureError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import type { DrillDeps } from '../../../shared/drill/tasks.js';
import { runDrillControl } from '../../../shared/drill/tasks.js';
import {
  fakeCopyDeletionLedger,
  fakeReportStore,
  fakeRestorePort,
  type FakeResource,
  fakeTaskSignal,
  fakeTokenStore,
} from '../../fakes/drill-ports.js';
import { drillExecutionEnded } from '../../support/drill-tasks.js';
import { fakeEndpoints, serviceNameOf } from '../../fakes/drill-endpoints.js';
import { expectBoundedSummary } from '../../support/bounded.js';

const NOW = new Date('2026-02-01T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();

const res = (
  id: string,
  createdAt: string | undefined,
  over: Partial<DrillResource> = {},
): DrillResource => ({
  kind: 'rds-instance',
  id,
  drillId: `drill-${id}`,
  ...(createdAt ? { createdAt } : {}),
  status: 'available',
  ...over,
});

const configInput = { stage: 'prod', region: 'eu-west-1' } satisfies StewardConfigInput;

describe('planJanitor', () => {
  it.each([
    ['an old copy is deleted', res('a', hoursAgo(7)), 'delete', '7 h old, older than 6 h'],
    ['a young copy is kept', res('b', hoursAgo(2)), 'keep', '2 h old, within 6 h'],
    ['exactly at the limit is kept', res('c', hoursAgo(6)), 'keep', '6 h old, within 6 h'],
    [
      'one still being created is kept',
      res('d', undefined, { status: 'creating' }),
      'keep',
      'no creation time yet (still creating)',
    ],
    [
      'one already being deleted is skipped',
      res('e', hoursAgo(30), { status: 'deleting' }),
      'skip',
      'already deleting',
    ],
  ])('%s', (_t, resource, action, reason) => {
    expect(planJanitor([resource], NOW, 6)).toEqual([expect.objectContaining({ resource, action, reason })]);
  });

  it('never deletes a resource younger than the max age', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 168 }),
        (ages, max) => {
          const verdicts = planJanitor(
            ages.map((a, i) => res(`r${i}`, hoursAgo(a / 2))),
            NOW,
            max,
          );
          for (const v of verdicts) if (v.action === 'delete') expect(v.ageHours).toBeGreaterThan(max);
        },
      ),
    );
  });

  it('waits at least as long as a drill may run before calling its copy an orphan', () => {
    const drill = parseConfig(
      { ...configInput, drill: { janitorMaxAgeHours: 2, timeoutSeconds: 5 * 3600 } },
      't',
    ).drill;
    expect(janitorMaxAgeHours(drill)).toBe(6);
  });

  it('counts the longest warm-up of any target too: a warming copy is no orphan', () => {
    const drill = parseConfig(
      {
        ...configInput,
        drill: {
          janitorMaxAgeHours: 2,
          timeoutSeconds: 3 * 3600,
          targets: {
            small: { profile: { database: 'a' }, warmup: { maxSeconds: 1800 } },
            big: { profile: { database: 'b' }, warmup: { maxSeconds: 8 * 3600 } },
            off: { profile: { database: 'c' }, warmup: { enabled: false, maxSeconds: 72 * 3600 } },
          },
        },
      },
      't',
    ).drill;
    expect(drillExecutionSeconds(drill)).toBe((3 + 8 + 1) * 3600);
    expect(janitorMaxAgeHours(drill)).toBe(12);
  });
});

describe('runJanitor', () => {
  const setup = (resources: FakeResource[], dryRun = false) => {
    const restore = fakeRestorePort();
    for (const r of resources) restore.resources.set(r.id, r);
    const notifier = memoryNotifier();
    const deps = { config: parseConfig(configInput, 'test'), dryRun, notifier, now: () => NOW, restore };
    return { deps, restore, notifier };
  };
  const drillCopy = (id: string, ageHours: number): FakeResource => ({
    kind: 'rds-instance',
    id,
    tags: { 'steward:drill': `drill-${id}`, 'steward:managed': 'true' },
    status: 'available',
    createdAt: hoursAgo(ageHours),
  });

  it('deletes a copy a drill handed over whatever its age, keeps one RDS still creates, in a dry-run stage too; a preview forgets nothing', async () => {
    // Prepare: two young copies Cleanup handed over (RDS was creating them); one is now available.
    const handed = (id: string): CopyDeletion => ({
      kind: 'rds-instance',
      id,
      drillId: `drill-${id}`,
      region: 'eu-west-1',
      since: hoursAgo(1),
    });
    const run = async (dryRun: boolean, preview = false) => {
      const { deps, restore, notifier } = setup(
        [drillCopy('ready', 1), { ...drillCopy('creating', 1), status: 'creating' }],
        dryRun,
      );
      const deletions = fakeCopyDeletionLedger();
      for (const id of ['ready', 'creating', 'gone']) await deletions.record(handed(id));
      const result = await runJanitor({ ...deps, deletions, ...(preview ? { preview } : {}) });
      return { result, restore, notifier, deletions };
    };

    // Act
    const live = await run(false);
    const dryStage = await run(true);
    const dry = await run(true, true);

    // Assert: the available one deleted and forgotten, the creating one kept quietly, a gone one's record forgotten.
    expect(live.result.verdicts.map((v) => [v.resource.id, v.action])).toEqual([
      ['ready', 'delete'],
      ['creating', 'keep'],
    ]);
    expect(live.restore.removed).toEqual(['ready']);
    expect([...live.deletions.records.values()].map((d) => d.id)).toEqual(['creating']);
    expect(live.notifier.sent[0]!.lines[0]).toMatch(
      /^Had to clean up after a drill: deleted rds-instance ready .*handed over by drill drill-ready's cleanup/,
    );
    // A dry-run stage's drills delete their copies for real: so does its janitor, a copy a drill handed over.
    expect(dryStage.restore.removed).toEqual(['ready']);
    expect([...dryStage.deletions.records.values()].map((d) => d.id)).toEqual(['creating']);
    expect(dryStage.result.outcomes).toEqual([expect.objectContaining({ status: 'done' })]);
    // An operator's preview deletes and forgets nothing.
    expect(dry.restore.removed).toEqual([]);
    expect(dry.deletions.records.size).toBe(3);
    expect(dry.result.outcomes).toEqual([expect.objectContaining({ status: 'planned' })]);
  });

  it('deletes leftovers and warns, naming each', async () => {
    // Prepare
    const { deps, restore, notifier } = setup([
      drillCopy('steward-drill-orders-db-00000001', 9),
      drillCopy('steward-drill-orders-db-00000002', 1),
    ]);

    // Act
    const result = await runJanitor(deps);

    // Assert
    expect(restore.removed).toEqual(['steward-drill-orders-db-00000001']);
    expect(result.outcomes).toEqual([
      expect.objectContaining({ resource: 'rds-instance steward-drill-orders-db-00000001', status: 'done' }),
    ]);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]).toMatchObject({ severity: 'warning', capability: 'drill' });
    expect(notifier.sent[0]!.lines[0]).toBe(
      'Had to clean up after a drill: deleted rds-instance steward-drill-orders-db-00000001 (drill drill-steward-drill-orders-db-00000001, created 2026-02-01T03:00:00.000Z, 9 h old, older than 6 h)',
    );
  });

  it('sweeps EBS drill volumes with the rest: an old one deleted, a young one and one being deleted left alone', async () => {
    // Prepare
    const { deps, notifier } = setup([]);
    const removed: string[] = [];
    const volume = (id: string, ageHours: number, state = 'available') => ({
      volumeId: id,
      state,
      createdAt: hoursAgo(ageHours),
      tags: { 'steward:drill': 'monthly-mongo', 'steward:managed': 'true' },
    });
    const volumes = {
      listDrillVolumes: async () => [
        volume('vol-old', 9),
        volume('vol-young', 1),
        volume('vol-going', 9, 'deleting'),
      ],
      remove: async (id: string) => {
        removed.push(id);
        return 'deleted' as const;
      },
      disableFastRestore: async () => undefined,
    };

    // Act
    const result = await runJanitor({ ...deps, volumes });

    // Assert
    expect(removed).toEqual(['vol-old']);
    expect(result.verdicts.map((v) => [v.resource.id, v.action])).toEqual([
      ['vol-old', 'delete'],
      ['vol-young', 'keep'],
      ['vol-going', 'skip'],
    ]);
    expect(notifier.sent[0]!.lines[0]).toMatch(
      /^Had to clean up after a drill: deleted ebs-volume vol-old \(drill monthly-mongo/,
    );
  });

  it('turns off the fast snapshot restore an old drill volume records, unless a running drill’s volume records it too', async () => {
    // Prepare: a dead drill's volumes (its Cleanup never ran) and a running drill's, on snapshots and zones
    // that overlap; one volume's record is absent (fast snapshot restore someone else turned on).
    const { deps, notifier } = setup([]);
    const off: string[] = [];
    const volume = (id: string, drill: string, ageHours: number, snap: string, zone: string, fsr = true) => ({
      volumeId: id,
      state: 'available',
      snapshotId: snap,
      availabilityZone: zone,
      createdAt: hoursAgo(ageHours),
      tags: {
        'steward:drill': drill,
        'steward:managed': 'true',
        ...(fsr ? { 'steward:fast-restore': 'drill' } : {}),
      },
    });
    const volumes = {
      listDrillVolumes: async () => [
        volume('vol-dead1', 'dead', 9, 'snap-1', 'eu-west-1a'),
        volume('vol-dead2', 'dead', 9, 'snap-2', 'eu-west-1a'),
        volume('vol-dead3', 'dead', 9, 'snap-3', 'eu-west-1b'),
        volume('vol-dead4', 'dead', 9, 'snap-4', 'eu-west-1a', false),
        volume('vol-live2', 'live', 1, 'snap-2', 'eu-west-1a'),
      ],
      remove: async () => 'deleted' as const,
      disableFastRestore: async (ids: readonly string[], zone: string) =>
        void off.push(`${ids.join(',')}@${zone}`),
    };

    // Act
    await runJanitor({ ...deps, volumes });
    const dry = setup([], true);
    await runJanitor({ ...dry.deps, volumes });

    // Assert: by zone, only what the dead drill recorded and no running drill still uses.
    expect(off).toEqual(['snap-1@eu-west-1a', 'snap-3@eu-west-1b']);
    expect(notifier.sent[0]!.lines).toEqual(
      expect.arrayContaining([
        'Turned off fast snapshot restore of snap-1 in eu-west-1a',
        'Turned off fast snapshot restore of snap-3 in eu-west-1b',
      ]),
    );
    // A dry run turns nothing off, and says what it would.
    expect(off).toHaveLength(2);
    expect(dry.notifier.sent[0]!.lines).toContain(
      'Would turn off fast snapshot restore of snap-1 in eu-west-1a',
    );
  });

  it('reports a fast snapshot restore it could not turn off, and fails the run after the sweep', async () => {
    const { deps, notifier } = setup([]);
    const volumes = {
      listDrillVolumes: async () => [
        {
          volumeId: 'vol-dead',
          state: 'available',
          snapshotId: 'snap-1',
          availabilityZone: 'eu-west-1a',
          createdAt: hoursAgo(9),
          tags: { 'steward:drill': 'dead', 'steward:managed': 'true', 'steward:fast-restore': 'drill' },
        },
      ],
      remove: async () => 'deleted' as const,
      disableFastRestore: async () => {
        throw Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
      },
    };

    await expect(runJanitor({ ...deps, volumes })).rejects.toThrow(PartialFailureError);
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      'FAILED to disable fast snapshot restore of snap-1 in eu-west-1a: Request limit exceeded.',
    );
  });

  it('terminates old EBS verifier instances before deleting drill volumes (one still attached cannot go first)', async () => {
    // Prepare
    const { deps, notifier } = setup([]);
    const order: string[] = [];
    const tags = {
      'steward:drill': 'monthly-mongo',
      'steward:managed': 'true',
      'steward:kind': 'ebs-verifier',
    };
    const volumes = {
      listDrillVolumes: async () => [
        {
          volumeId: 'vol-old',
          state: 'in-use',
          createdAt: hoursAgo(9),
          tags: { 'steward:drill': 'monthly-mongo', 'steward:managed': 'true' },
        },
      ],
      remove: async (id: string) => {
        order.push(id);
        return 'deleted' as const;
      },
      disableFastRestore: async () => undefined,
    };
    const verifiers = {
      listVerifiers: async () => [
        { instanceId: 'i-old', state: 'running', launchedAt: hoursAgo(9), tags },
        { instanceId: 'i-young', state: 'running', launchedAt: hoursAgo(1), tags },
        { instanceId: 'i-ending', state: 'shutting-down', launchedAt: hoursAgo(9), tags },
        { instanceId: 'i-gone', state: 'running', launchedAt: hoursAgo(10), tags },
      ],
      terminate: async (id: string) => {
        order.push(id);
        return id === 'i-gone' ? ('gone' as const) : ('terminated' as const);
      },
    };

    // Act
    const result = await runJanitor({ ...deps, volumes, verifiers });

    // Assert
    expect(order).toEqual(['i-old', 'i-gone', 'vol-old']);
    expect(result.verdicts.map((v) => [v.resource.id, v.action])).toEqual([
      ['vol-old', 'delete'],
      ['i-old', 'delete'],
      ['i-young', 'keep'],
      ['i-ending', 'skip'],
      ['i-gone', 'delete'],
    ]);
    expect(result.outcomes.map((o) => `${o.resource} ${o.status}`)).toEqual([
      'ebs-verifier i-old done',
      'ebs-verifier i-gone already-done',
      'ebs-volume vol-old done',
    ]);
    expect(notifier.sent[0]!.lines[0]).toMatch(
      /^Had to clean up after a drill: deleted ebs-verifier i-old \(drill monthly-mongo/,
    );
  });

  it('stays silent when there is nothing to clean up', async () => {
    const { deps, notifier } = setup([drillCopy('steward-drill-orders-db-00000002', 1)]);
    const result = await runJanitor(deps);
    expect(result.notified).toBe(false);
    expect(notifier.sent).toEqual([]);
  });

  it('only reports what it would delete in an operator’s preview', async () => {
    const { deps, restore, notifier } = setup([drillCopy('steward-drill-orders-db-00000001', 9)], true);
    await runJanitor({ ...deps, preview: true });
    expect(restore.removed).toEqual([]);
    expect(notifier.sent[0]!.lines[0]).toMatch(/^Would delete rds-instance steward-drill-orders-db-00000001/);
  });

  it('reports a failed deletion, deletes the others, then throws', async () => {
    // Prepare
    const { deps, restore, notifier } = setup([
      drillCopy('steward-drill-a-00000001', 9),
      drillCopy('steward-drill-b-00000002', 9),
    ]);
    restore.failRemove.set('steward-drill-a-00000001', new Error('InvalidDBInstanceState'));

    // Act + Assert
    await expect(runJanitor(deps)).rejects.toThrow(PartialFailureError);
    expect(restore.removed).toEqual(['steward-drill-b-00000002']);
    expect(notifier.sent[0]!.lines[0]).toMatch(
      /^FAILED to delete rds-instance steward-drill-a-00000001.*InvalidDBInstanceState/,
    );
  });

  it('a listing throttled past its retries fails the run after the rest was swept, not before', async () => {
    // Prepare: EC2 throttles DescribeVolumes in a busy account; the restored databases list fine.
    const { deps, restore, notifier } = setup([drillCopy('steward-drill-orders-db-00000001', 9)]);
    const volumes = {
      listDrillVolumes: async () => {
        throw Object.assign(new Error('Request limit exceeded.'), { name: 'RequestLimitExceeded' });
      },
      remove: async () => 'deleted' as const,
      disableFastRestore: async () => undefined,
    };

    // Act
    const run = runJanitor({ ...deps, volumes });

    // Assert: the database is deleted all the same; the run fails naming what it could not list.
    await expect(run).rejects.toThrow(PartialFailureError);
    await expect(run).rejects.toMatchObject({
      failures: [
        expect.objectContaining({ resource: 'EBS drill volumes', error: 'Request limit exceeded.' }),
      ],
    });
    expect(restore.removed).toEqual(['steward-drill-orders-db-00000001']);
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      'FAILED to list EBS drill volumes: Request limit exceeded.',
    );
  });

  it('5000 leftovers, half failing: failures first, the first named, the rest counted, under the budget', async () => {
    // Prepare
    const ids = Array.from(
      { length: 5000 },
      (_, i) => `steward-drill-payments-ledger-${String(i).padStart(8, '0')}`,
    );
    const { deps, restore, notifier } = setup(ids.map((id) => drillCopy(id, 9)));
    ids
      .filter((_, i) => i % 2)
      .forEach((id) =>
        restore.failRemove.set(
          id,
          new Error(`InvalidDBInstanceState: ${'instance is being modified. '.repeat(10)}`),
        ),
      );
    // Act
    await expect(runJanitor(deps)).rejects.toThrow(PartialFailureError);
    // Assert
    const body = expectBoundedSummary(notifier.sent[0]!);
    expect(notifier.sent[0]!.lines[0]).toMatch(
      /^FAILED to delete rds-instance steward-drill-payments-ledger-00000001/,
    );
    expect(body).toContain('... and 2475 more failed (in the full report)');
    expect(body).toContain('... and 2490 more deleted (in the full report)');
  });
});

describe('runJanitor, drills from the vault', () => {
  const HUB = '111111111111';
  const VAULT = '999999999999';
  const share = (copyId: string, ageHours: number, drillId = `drill-${copyId}`): VaultShare => ({
    kind: copyId.includes('ledger') ? 'aurora-cluster' : 'rds-instance',
    copyId,
    drillId,
    vaultAccount: VAULT,
    region: 'eu-west-1',
    sharedAt: hoursAgo(ageHours),
  });
  const setup = (
    copies: DrillCopy[],
    shares: VaultShare[],
    { dryRun = false, failUnshare = new Set<string>(), gone = new Set<string>() } = {},
  ) => {
    const order: string[] = [];
    const recorded = new Map(shares.map((s) => [`${s.drillId} ${s.copyId}`, s]));
    const vault = {
      account: HUB,
      vault: {
        account: VAULT,
        region: 'eu-west-1',
        copies: async () => [],
        share: async () => 'done' as const,
        unshare: async (c: { kind: string; id: string }, to: string) => {
          if (failUnshare.has(c.id)) throw new Error('AccessDenied');
          order.push(`unshare ${c.kind} ${c.id} from ${to}`);
          return gone.has(c.id) ? ('gone' as const) : ('done' as const);
        },
        sharedWith: async () => false,
      },
      staging: {
        copy: async () => 'started' as const,
        status: async () => undefined,
        remove: async (id: string) => (order.push(`delete ${id}`), 'deleted' as const),
        listDrillCopies: async () => copies,
      },
      shares: {
        record: async () => undefined,
        forget: async (s: Pick<VaultShare, 'drillId' | 'copyId'>) => {
          order.push(`forget ${s.copyId}`);
          recorded.delete(`${s.drillId} ${s.copyId}`);
        },
        list: async (account: string, region: string) =>
          account === VAULT && region === 'eu-west-1' ? [...recorded.values()] : [],
      },
    };
    const restore = fakeRestorePort();
    restore.resources.set('steward-drill-orders-db-00000001', {
      kind: 'rds-instance',
      id: 'steward-drill-orders-db-00000001',
      tags: { 'steward:drill': 'monthly-1', 'steward:managed': 'true' },
      status: 'available',
      createdAt: hoursAgo(9),
    });
    const remove = restore.remove.bind(restore);
    restore.remove = async (t) => (order.push(`delete restored ${t.id}`), remove(t));
    const notifier = memoryNotifier();
    const deps = {
      config: parseConfig(configInput, 'test'),
      dryRun,
      notifier,
      now: () => NOW,
      restore,
      vault,
    };
    return { deps, order, recorded, notifier };
  };
  const copy = (id: string, ageHours: number, status = 'available'): DrillCopy => ({
    id,
    drillId: 'monthly-1',
    createdAt: hoursAgo(ageHours),
    status,
  });

  it('deletes the old drill copy after the restored database, then unshares the old vault copy and forgets it', async () => {
    // Prepare
    const { deps, order, recorded, notifier } = setup(
      [copy('steward-drill-orders-db-00000001', 9), copy('steward-drill-orders-db-00000002', 1)],
      [share('steward-orders-db-202601310300-sched-1a2b3c4d', 9), share('steward-ledger-202601310300-c', 1)],
    );

    // Act
    const result = await runJanitor(deps);

    // Assert: the restored database first, the copy restored from it next, the share last
    expect(order).toEqual([
      'delete restored steward-drill-orders-db-00000001',
      'delete steward-drill-orders-db-00000001',
      `unshare rds-instance steward-orders-db-202601310300-sched-1a2b3c4d from ${HUB}`,
      'forget steward-orders-db-202601310300-sched-1a2b3c4d',
    ]);
    expect([...recorded.values()].map((s) => s.copyId)).toEqual(['steward-ledger-202601310300-c']);
    expect(result.outcomes.map((o) => `${o.action} ${o.resource} ${o.status}`)).toEqual([
      'delete rds-instance steward-drill-orders-db-00000001 done',
      'delete drill-copy steward-drill-orders-db-00000001 done',
      `unshare vault copy steward-orders-db-202601310300-sched-1a2b3c4d (vault ${VAULT}) done`,
    ]);
    const body = notifier.sent[0]!.lines.join('\n');
    expect(body).toContain(
      `Had to clean up after a drill: unshared vault copy steward-orders-db-202601310300-sched-1a2b3c4d (vault ${VAULT}) (drill drill-steward-orders-db-202601310300-sched-1a2b3c4d, created ${hoursAgo(9)}, 9 h old, older than 6 h)`,
    );
    expect(body).toContain('Vault copies a drill shared with this account more than 6 h ago are unshared.');
  });

  it('forgets a dead drill’s old share without unsharing a vault copy that a running drill shared again', async () => {
    // Prepare: a drill died 9 h ago with copy X shared; today's drill picked X too and shared it an hour ago.
    const copyId = 'steward-orders-db-202601310300-sched-1a2b3c4d';
    const { deps, order, recorded, notifier } = setup(
      [],
      [share(copyId, 9, 'dead-drill'), share(copyId, 1, 'running-drill')],
    );

    // Act
    const result = await runJanitor(deps);

    // Assert: the old record goes, the share the running drill restores from stays.
    expect(order).toEqual(['delete restored steward-drill-orders-db-00000001', `forget ${copyId}`]);
    expect([...recorded.values()].map((x) => x.drillId)).toEqual(['running-drill']);
    expect(result.outcomes.at(-1)).toEqual({
      resource: `vault copy ${copyId} (vault ${VAULT})`,
      action: 'unshare',
      status: 'skipped',
      reason: 'still shared for drill running-drill: its own cleanup (or the janitor) takes the share back',
    });
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      `Forgot the record of vault copy ${copyId} (vault ${VAULT}) (drill dead-drill, created ${hoursAgo(9)}, 9 h old, older than 6 h): still shared for drill running-drill`,
    );
  });

  it('unshares a vault copy once every drill that shared it is old, forgetting each record', async () => {
    const copyId = 'steward-orders-db-202601310300-sched-1a2b3c4d';
    const { deps, order, recorded } = setup([], [share(copyId, 9, 'dead-1'), share(copyId, 8, 'dead-2')]);
    await runJanitor(deps);
    // Each old record takes the share back (the second finds it gone or removes nothing): idempotent.
    expect(order.filter((o) => o.startsWith('unshare'))).toEqual([
      `unshare rds-instance ${copyId} from ${HUB}`,
      `unshare rds-instance ${copyId} from ${HUB}`,
    ]);
    expect(recorded.size).toBe(0);
  });

  it('in a dry-run stage deletes an old drill’s restored database and its own copy (steward’s), and only says it would unshare', async () => {
    // Prepare: a drill stopped by hand 9 h ago in a dry-run stage left its restored database and its copy
    const { deps, order, recorded, notifier } = setup(
      [copy('steward-drill-orders-db-00000001', 9)],
      [share('steward-orders-db-202601310300-sched-1a2b3c4d', 9)],
      { dryRun: true },
    );

    // Act
    const result = await runJanitor(deps);

    // Assert: what the drill created goes, as its own Cleanup would have; the vault's share stays (dry run)
    expect(order).toEqual([
      'delete restored steward-drill-orders-db-00000001',
      'delete steward-drill-orders-db-00000001',
    ]);
    expect(recorded.size).toBe(1);
    expect(result.outcomes.map((o) => o.status)).toEqual(['done', 'done', 'planned']);
    expect(notifier.sent[0]!.subject).toBe(
      'Janitor deleted 2 leftover drill resources, 1 more planned (dry-run stage) in eu-west-1',
    );
    expect(notifier.sent[0]!.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^Had to clean up after a drill: deleted drill-copy steward-drill-orders-db-00000001 /,
        ),
        expect.stringMatching(/^Would unshare vault copy steward-orders-db-202601310300-sched-1a2b3c4d /),
      ]),
    );
  });

  it('only says what it would delete and unshare in an operator’s preview, and keeps the records', async () => {
    // Prepare
    const { deps, order, recorded, notifier } = setup(
      [copy('steward-drill-orders-db-00000001', 9)],
      [share('steward-orders-db-202601310300-sched-1a2b3c4d', 9)],
      { dryRun: true },
    );

    // Act
    const result = await runJanitor({ ...deps, preview: true });

    // Assert
    expect(order).toEqual([]);
    expect(recorded.size).toBe(1);
    expect(result.outcomes.map((o) => o.status)).toEqual(['planned', 'planned', 'planned']);
    expect(notifier.sent[0]!.lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Would delete drill-copy steward-drill-orders-db-00000001 /),
        expect.stringMatching(/^Would unshare vault copy steward-orders-db-202601310300-sched-1a2b3c4d /),
      ]),
    );
  });

  it('leaves a copy being deleted and one without a creation time alone', async () => {
    const { deps, order } = setup(
      [
        copy('steward-drill-orders-db-00000003', 9, 'deleting'),
        { id: 'steward-drill-orders-db-00000004', drillId: 'monthly-1', status: 'creating' },
      ],
      [],
    );
    const result = await runJanitor(deps);
    expect(order).toEqual(['delete restored steward-drill-orders-db-00000001']);
    expect(result.verdicts.filter((v) => v.resource.kind === 'drill-copy').map((v) => v.action)).toEqual([
      'skip',
      'keep',
    ]);
  });

  it('forgets a share whose vault copy is gone (expired by vault retention): already done', async () => {
    const copyId = 'steward-orders-db-202601010300-sched-1a2b3c4d';
    const { deps, recorded, order } = setup([], [share(copyId, 30)], { gone: new Set([copyId]) });
    const result = await runJanitor(deps);
    expect(order).toContain(`forget ${copyId}`);
    expect(recorded.size).toBe(0);
    expect(result.outcomes.at(-1)).toMatchObject({ action: 'unshare', status: 'already-done' });
  });

  it('reports an unshare the vault refuses, keeps its record for the next run, does the rest, then throws', async () => {
    // Prepare
    const refused = 'steward-orders-db-202601310300-sched-1a2b3c4d';
    const other = 'steward-billing-db-202601310300-sched-5e6f7a8b';
    const { deps, recorded, notifier } = setup([], [share(refused, 9), share(other, 9)], {
      failUnshare: new Set([refused]),
    });

    // Act + Assert
    await expect(runJanitor(deps)).rejects.toThrow(PartialFailureError);
    expect([...recorded.values()].map((s) => s.copyId)).toEqual([refused]);
    expect(notifier.sent[0]!.lines[0]).toMatch(
      new RegExp(`^FAILED to unshare vault copy ${refused} \\(vault ${VAULT}\\).*AccessDenied`),
    );
  });

  it('with the restored databases unlisted, keeps the drill copy and the share for the next run', async () => {
    // Prepare: a copy and a share are removed only once nothing of this account reads them.
    const { deps, order } = setup(
      [copy('steward-drill-orders-db-00000001', 9)],
      [share('steward-orders-db-202601310300-sched-1a2b3c4d', 9)],
    );
    deps.restore.listDrillResources = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    };

    // Act + Assert
    await expect(runJanitor(deps)).rejects.toThrow(PartialFailureError);
    expect(order).toEqual([]);
  });

  it('looks for neither without a vault (a stage that drills nothing from it)', async () => {
    const { deps, order } = setup([copy('steward-drill-orders-db-00000001', 9)], [share('x', 9)]);
    const { vault: _vault, ...without } = deps;
    const result = await runJanitor(without);
    expect(order).toEqual(['delete restored steward-drill-orders-db-00000001']);
    expect(result.verdicts.map((v) => v.resource.kind)).toEqual(['rds-instance']);
  });

  it('an execution stopped outside the drill whose vault leftovers cannot be listed is still alerted, its database deleted', async () => {
    // Prepare: the state table cannot be read (throttled past the SDK's retries, say)
    const { deps, order, notifier } = setup([copy('steward-drill-orders-db-00000001', 0.1)], []);
    deps.vault.shares.list = async () => {
      throw new Error('ProvisionedThroughputExceededException: reading drill-vault-shares');
    };
    const drillDeps = {
      ...deps,
      vault: { ...deps.vault, key: 'alias/aws/rds' },
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports: fakeReportStore(),
      network: {},
    } as DrillDeps;

    // Act
    const run = runDrillControl(
      {
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        detail: {
          executionArn: 'arn:aws:states:eu-west-1:111111111111:execution:steward-prod-drill:monthly-1',
          stateMachineArn: 'arn:aws:states:eu-west-1:111111111111:stateMachine:steward-prod-drill',
          name: 'monthly-1',
          status: 'ABORTED',
        },
      },
      drillDeps,
    );

    // Assert: the critical alert goes out and names the failure; the run fails after it (the janitor retries).
    await expect(run).rejects.toThrow(PartialFailureError);
    expect(order).toEqual(['delete restored steward-drill-orders-db-00000001']);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.severity).toBe('critical');
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      'Removed what it took from the backup vault: list drill copies and vault shares FAILED (ProvisionedThroughputExceededException: reading drill-vault-shares)',
    );
  });

  it('an execution stopped outside the drill whose restored databases cannot be listed is still alerted, its vault copy and share still taken back', async () => {
    // Prepare: RDS throttles the listing past the SDK's retries; the drill's copy and share are in the vault
    const ownCopy = 'steward-orders-db-202601310300-sched-1a2b3c4d';
    const { deps, order, recorded, notifier } = setup(
      [copy('steward-drill-orders-db-00000001', 0.1)],
      [share(ownCopy, 0.1, 'monthly-1')],
    );
    deps.restore.listDrillResources = async () => {
      throw new Error('Throttling: Rate exceeded (DescribeDBInstances)');
    };
    const drillDeps = {
      ...deps,
      vault: { ...deps.vault, key: 'alias/aws/rds' },
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports: fakeReportStore(),
      network: {},
    } as DrillDeps;

    // Act
    const run = runDrillControl(
      drillExecutionEnded('eu-west-1', '111111111111', 'monthly-1', 'ABORTED'),
      drillDeps,
    );

    // Assert: the critical alert names the failed listing; the vault side is still cleaned; the run fails after.
    await expect(run).rejects.toThrow(PartialFailureError);
    expect(order).toEqual([
      'delete steward-drill-orders-db-00000001',
      `unshare rds-instance ${ownCopy} from ${HUB}`,
      `forget ${ownCopy}`,
    ]);
    expect(recorded.size).toBe(0);
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.severity).toBe('critical');
    const text = notifier.sent[0]!.lines.join('\n');
    expect(text).toContain('Throttling: Rate exceeded (DescribeDBInstances)');
    expect(text).not.toContain('It left no restored database behind.');
  });

  it('an execution stopped outside the drill: its database, then its copy, then its shares go at once (not another drill’s)', async () => {
    // Prepare: drill monthly-1 restored, copied and shared, minutes ago; another drill's share and copy too
    const ownCopy = 'steward-orders-db-202601310300-sched-1a2b3c4d';
    const { deps, order, recorded, notifier } = setup(
      [
        copy('steward-drill-orders-db-00000001', 0.1),
        { ...copy('steward-drill-orders-db-0000000f', 0.1), drillId: 'other' },
      ],
      [
        share(ownCopy, 0.1, 'monthly-1'),
        share('steward-billing-db-202601310300-sched-5e6f7a8b', 0.1, 'other'),
      ],
    );
    const drillDeps = {
      ...deps,
      vault: { ...deps.vault, key: 'alias/aws/rds' },
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports: fakeReportStore(),
      network: {},
    } as DrillDeps;

    // Act
    await runDrillControl(
      drillExecutionEnded('eu-west-1', '111111111111', 'monthly-1', 'TIMED_OUT'),
      drillDeps,
    );

    // Assert
    expect(order).toEqual([
      'delete restored steward-drill-orders-db-00000001',
      'delete steward-drill-orders-db-00000001',
      `unshare rds-instance ${ownCopy} from ${HUB}`,
      `forget ${ownCopy}`,
    ]);
    expect([...recorded.values()].map((x) => x.drillId)).toEqual(['other']);
    expect(notifier.sent[0]!.lines.join('\n')).toContain(
      `Removed what it took from the backup vault: delete drill copy steward-drill-orders-db-00000001 done, unshare vault copy ${ownCopy} (vault ${VAULT}) done.`,
    );
  });
  it('an execution stopped by hand in a dry-run stage: its database and its copy (steward’s) go at once, the share only planned', async () => {
    // Prepare: a dry-run stage's drill restores and copies for real; someone stopped it minutes later
    const ownCopy = 'steward-orders-db-202601310300-sched-1a2b3c4d';
    const { deps, order, recorded, notifier } = setup(
      [copy('steward-drill-orders-db-00000001', 0.1)],
      [share(ownCopy, 0.1, 'monthly-1')],
      { dryRun: true },
    );
    const drillDeps = {
      ...deps,
      vault: { ...deps.vault, key: 'alias/aws/rds' },
      tokens: fakeTokenStore(),
      signal: fakeTaskSignal(),
      reports: fakeReportStore(),
      network: {},
    } as DrillDeps;

    // Act
    await runDrillControl(
      drillExecutionEnded('eu-west-1', '111111111111', 'monthly-1', 'ABORTED'),
      drillDeps,
    );
    const preview = setup(
      [copy('steward-drill-orders-db-00000001', 0.1)],
      [share(ownCopy, 0.1, 'monthly-1')],
      {
        dryRun: true,
      },
    );
    await runDrillControl(drillExecutionEnded('eu-west-1', '111111111111', 'monthly-1', 'ABORTED'), {
      ...drillDeps,
      ...preview.deps,
      vault: { ...preview.deps.vault, key: 'alias/aws/rds' },
      preview: true,
    } as DrillDeps);

    // Assert
    expect(order).toEqual([
      'delete restored steward-drill-orders-db-00000001',
      'delete steward-drill-orders-db-00000001',
    ]);
    expect(recorded.size).toBe(1);
    const text = notifier.sent[0]!.lines.join('\n');
    expect(text).toContain(
      'Cleaned up its restored databases: rds-instance steward-drill-orders-db-00000001 done.',
    );
    expect(text).toContain(
      `Removed what it took from the backup vault: delete drill copy steward-drill-orders-db-00000001 done, unshare vault copy ${ownCopy} (vault ${VAULT}) planned.`,
    );
    // An operator's preview deletes nothing.
    expect(preview.order).toEqual([]);
    expect(preview.notifier.sent[0]!.lines.join('\n')).toContain(
      'Cleaned up its restored databases: rds-instance steward-drill-orders-db-00000001 planned.',
    );
  });
});

describe('runJanitor: drill endpoints', () => {
  const endpoint = (id: string, createdAt: string, tags: Record<string, string>) => ({
    id,
    serviceName: serviceNameOf('ssm'),
    state: 'available',
    privateDns: true,
    createdAt,
    tags,
  });
  const ours = { 'steward:managed': 'true', 'steward:drill-endpoint': 'ssm', 'steward:drill': 'drill-x' };
  const sweep = (running: string[]) => {
    const endpoints = fakeEndpoints({
      existing: [
        endpoint('vpce-0idle', hoursAgo(3), ours),
        endpoint('vpce-0young', hoursAgo(0.5), ours),
        endpoint('vpce-0theirs', hoursAgo(30), { team: 'net' }),
      ],
      running: () => running,
    });
    const notifier = memoryNotifier();
    const run = runJanitor({
      config: parseConfig(configInput, 'test'),
      dryRun: false,
      notifier,
      now: () => NOW,
      restore: fakeRestorePort('eu-west-1'),
      endpoints,
    });
    return { run, endpoints, notifier };
  };

  it('deletes steward’s idle endpoints (no drill running, older than an hour), never another’s', async () => {
    // Act
    const { run, endpoints, notifier } = sweep([]);
    const r = await run;

    // Assert
    expect(r.outcomes).toEqual([
      expect.objectContaining({ resource: 'vpc-endpoint vpce-0idle', status: 'done' }),
    ]);
    expect(
      endpoints
        .live()
        .map((e) => e.id)
        .sort(),
    ).toEqual(['vpce-0theirs', 'vpce-0young']);
    expect(notifier.sent[0]!.lines.join('\n')).toMatch(
      /Interface endpoints a drill created are deleted once no drill runs/,
    );
  });

  it('keeps every endpoint while a drill execution runs', async () => {
    const { run, endpoints } = sweep(['monthly-orders-db']);
    const r = await run;
    expect(r.outcomes).toEqual([]);
    expect(endpoints.live()).toHaveLength(3);
  });
  describe('in the DR region’s drill VPC too (verifying EBS drills from the DR copies)', () => {
    const DR = 'us-west-2';
    const drEndpoint = (id: string) => ({
      ...endpoint(id, hoursAgo(3), ours),
      serviceName: serviceNameOf('ssm', DR),
    });
    const sweepBoth = (dr: () => Promise<ReturnType<typeof fakeEndpoints> | undefined>) => {
      const endpoints = fakeEndpoints({ existing: [endpoint('vpce-0idle', hoursAgo(3), ours)] });
      return {
        endpoints,
        run: runJanitor({
          config: parseConfig(configInput, 'test'),
          dryRun: false,
          notifier: memoryNotifier(),
          now: () => NOW,
          restore: fakeRestorePort('eu-west-1'),
          endpoints,
          drEndpoints: dr,
        }),
      };
    };

    it('deletes idle endpoints in both, each through its own region’s port', async () => {
      // Prepare
      const dr = fakeEndpoints({ existing: [drEndpoint('vpce-0dridle')] }, DR);

      // Act
      const { run, endpoints } = sweepBoth(async () => dr);
      const r = await run;

      // Assert
      expect(r.outcomes.map((o) => [o.resource, o.status])).toEqual([
        ['vpc-endpoint vpce-0idle', 'done'],
        ['vpc-endpoint vpce-0dridle', 'done'],
      ]);
      expect(endpoints.log).toContain('delete vpce-0idle');
      expect(dr.log).toContain('delete vpce-0dridle');
      expect(endpoints.log).not.toContain('delete vpce-0dridle');
    });

    it('sweeps the stage region and fails, naming it, when the DR network cannot be read', async () => {
      // Act
      const { run, endpoints } = sweepBoth(async () => {
        throw new Error('No EBS verifier network in us-west-2: deploy Steward-prod-dr');
      });

      // Assert
      await expect(run).rejects.toThrow(/DR drill endpoints.*Steward-prod-dr/);
      expect(endpoints.log).toContain('delete vpce-0idle');
    });
  });
});
