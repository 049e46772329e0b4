import { describe, expect, it } from 'vitest';
import { run, type ReportDeps } from '../../../functions/report/handler.js';
import { atPlace } from '../../../shared/runtime.js';
import { evidenceNotification } from '../../../shared/report/monthly.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { EventShapeError, PartialFailureError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { conditionsNotification, CONDITIONS_KEY, diffConditions } from '../../../shared/report/conditions.js';
import type { DatabaseStatus, EstateStatus } from '../../../shared/report/model.js';
import type { Snapshot } from '../../../shared/model.js';
import {
  EVIDENCE_NOW,
  evidenceConfig,
  evidenceHistory,
  evidenceInputs,
} from '../../fakes/evidence-estate.js';
import { fixedEstate } from '../../fakes/report.js';
import { expectBoundedSummary } from '../../support/bounded.js';
import evidenceEvent from '../../../events/report/evidence.json' with { type: 'json' };
import statusEvent from '../../../events/report/status-check.json' with { type: 'json' };

/** Deps over the evidence fixture, its drills and retention records filed in a memory bucket. */
const deps = (now = EVIDENCE_NOW, snapshots?: (s: Snapshot[]) => Snapshot[]) => {
  const inputs = evidenceInputs();
  const history = evidenceHistory(inputs);
  const notifier = memoryNotifier();
  const d: ReportDeps = {
    config: evidenceConfig,
    dryRun: false,
    notifier,
    now: () => now,
    estate: {
      config: evidenceConfig,
      primary: fixedEstate(
        'eu-west-1',
        [...inputs.databases],
        snapshots ? snapshots([...inputs.snapshots]) : [...inputs.snapshots],
      ),
      dr: fixedEstate('us-west-2', [], [...inputs.drSnapshots]),
      history,
      now: () => now,
    },
  };
  return { deps: d, history, notifier };
};

describe('report handler: evidence', () => {
  it('writes the month before the scheduled time as HTML, JSON and CSV and links them from an info notification', async () => {
    // Prepare
    const { deps: d, history, notifier } = deps();
    // Act
    const result = await run(evidenceEvent, d);
    // Assert
    expect(result).toMatchObject({
      action: 'evidence',
      month: '2026-11',
      summary: { backupsTaken: 93, backupsScheduled: 97 },
    });
    expect([...history.objects.keys()].filter((k) => k.startsWith('evidence/')).sort()).toEqual([
      'evidence/2026-11/databases.csv',
      'evidence/2026-11/drills.csv',
      'evidence/2026-11/report.html',
      'evidence/2026-11/report.json',
    ]);
    expect(history.objects.get('evidence/2026-11/report.html')!.contentType).toBe('text/html; charset=utf-8');
    const n = notifier.sent[0]!;
    expect(n).toMatchObject({
      severity: 'info',
      capability: 'report',
      subject: '2026-11 recovery evidence: 93/97 scheduled backups, 2/2 drills passed, 1 unprotected',
    });
    expect(n.links?.[0]).toEqual({
      text: 'Evidence report (HTML)',
      href: 'https://console.example/evidence/2026-11/report.html',
    });
    expect(n.lines).toContain('Backups: 93 of 97 scheduled taken, 4 missed (billing-db 3, orders-db 1).');
  });

  it('writes and sends nothing in a dry run, and refuses a malformed request before reading', async () => {
    // Prepare
    const { deps: d, history, notifier } = deps();
    const before = history.objects.size;
    // Act
    const dry = await run({ action: 'evidence', month: '2026-11', dryRun: true }, d);
    // Assert
    expect(dry).toMatchObject({ dryRun: true, month: '2026-11' });
    expect(history.objects.size).toBe(before);
    expect(notifier.sent).toHaveLength(0);
    await expect(run({ action: 'evidence', month: '2026-13' }, d)).rejects.toThrow(EventShapeError);
    await expect(run({ action: 'evidence', month: '2026-13' }, d)).rejects.toThrow(
      /month: must be a month such as 2026-11/,
    );
    await expect(run({ action: 'evidnce' }, d)).rejects.toThrow(EventShapeError);
  });

  it('says in a warning that the report could not be written, then fails', async () => {
    // Prepare
    const { deps: d, notifier } = deps();
    d.estate.history.put = async () => {
      throw new Error('AccessDenied');
    };
    // Act / Assert
    await expect(run(evidenceEvent, d)).rejects.toThrow(PartialFailureError);
    expect(notifier.sent[0]).toMatchObject({ severity: 'warning' });
    expect(notifier.sent[0]!.links).toBeUndefined();
    expect(notifier.sent[0]!.lines.at(-1)).toBe(
      'The report could not be written to s3://memory: AccessDenied',
    );
  });
});

describe('report handler: status check', () => {
  it('a preview (a local run) remembers nothing: the deployed check still pages what it would have told', async () => {
    // Prepare: billing-db is FAILING; the run is a local one, which prints instead of publishing.
    const local = deps();
    // Act
    const previewed = await run(statusEvent, { ...local.deps, preview: true });
    const deployed = await run(statusEvent, local.deps);
    // Assert: the preview sent and wrote nothing; the deployed check then opens the same conditions and pages.
    if (previewed.action !== 'status-check') throw new Error(`not a status check: ${previewed.action}`);
    expect(previewed).toMatchObject({ dryRun: true });
    expect(previewed.changes.opened.length).toBeGreaterThan(0);
    expect(deployed).toMatchObject({ dryRun: false, changes: { opened: previewed.changes.opened } });
    expect(local.notifier.sent).toHaveLength(1);
    expect(local.notifier.sent[0]!.alerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'rds-instance:billing-db:backup', action: 'trigger' }),
      ]),
    );
  });

  it('alerts what turned FAILING or LATE once, remembers it, and resolves it when it clears', async () => {
    // Prepare: on 1 December billing-db has missed three backups (FAILING) and no DR copy since 27 November.
    const first = deps();
    // Act
    const r1 = await run(statusEvent, first.deps);
    const r2 = await run(statusEvent, first.deps);
    // Assert: the first check alerts, the second (nothing changed) is quiet.
    expect(r1).toMatchObject({ action: 'status-check', counts: { FAILING: 1 } });
    const n1 = first.notifier.sent[0]!;
    expect(n1.severity).toBe('critical');
    expect(n1.alerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          key: 'rds-instance:billing-db:backup',
          action: 'trigger',
          severity: 'critical',
        }),
        expect.objectContaining({ key: 'rds-instance:billing-db:dr', action: 'trigger' }),
      ]),
    );
    expect(r2).toMatchObject({ changes: { opened: [], cleared: [] } });
    expect(first.notifier.sent).toHaveLength(1);
    const memory = JSON.parse(first.history.objects.get(CONDITIONS_KEY)!.body);
    expect(memory.open.map((c: { key: string }) => c.key)).toContain('rds-instance:billing-db:backup');

    // Prepare: the backups of 1 December ran after all.
    const fixed = deps(new Date('2026-12-01T06:00:00Z'), (s) => [
      ...s,
      ...['2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01'].map((day) => ({
        ...s.find((x) => x.sourceId === 'billing-db')!,
        id: `steward-billing-db-${day.replace(/-/g, '')}0300-sched`,
      })),
    ]);
    fixed.history.objects.set(CONDITIONS_KEY, first.history.objects.get(CONDITIONS_KEY)!);
    // Act
    await run(statusEvent, fixed.deps);
    // Assert
    const n3 = fixed.notifier.sent[0]!;
    expect(n3.subject).toMatch(/cleared: billing-db \(backup\)/);
    expect(n3.alerts).toContainEqual(
      expect.objectContaining({ key: 'rds-instance:billing-db:backup', action: 'resolve' }),
    );
  });

  it('keeps an RDS instance and an ElastiCache group of the same name apart: one failing, one fine', async () => {
    // Prepare: an ElastiCache replication group also named billing-db, its daily backups all there, while
    // the RDS instance billing-db has missed three.
    const cache = (d: ReportDeps, snapshots: boolean) => {
      const primary = d.estate.primary;
      d.estate.primary = {
        ...primary,
        databases: async () => [
          ...(await primary.databases()),
          { ...(await primary.databases()).find((x) => x.id === 'sessions')!, id: 'billing-db' },
        ],
        snapshots: async () => {
          const all = await primary.snapshots();
          const last = all.find((x) => x.kind === 'elasticache' && x.sourceId === 'sessions')!;
          const today = { ...last, id: 'steward-billing-db-202612010300-sched', sourceId: 'billing-db' };
          return snapshots ? [...all, { ...today, createdAt: '2026-12-01T03:03:00.000Z' }] : all;
        },
      };
    };
    const first = deps();
    cache(first.deps, true);
    // Act
    await run(statusEvent, first.deps);
    // Assert: only the instance's condition opens, under a key that names its kind.
    const raised = first.notifier.sent[0]!.alerts!.filter((a) => a.key.endsWith('billing-db:backup'));
    expect(raised).toEqual([
      expect.objectContaining({
        key: 'rds-instance:billing-db:backup',
        action: 'trigger',
        severity: 'critical',
      }),
    ]);

    // Prepare: the instance's backups ran after all, but the cache's are gone.
    const later = deps(new Date('2026-12-01T06:00:00Z'), (s) => [
      ...s,
      ...['2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01'].map((day) => ({
        ...s.find((x) => x.sourceId === 'billing-db')!,
        id: `steward-billing-db-${day.replace(/-/g, '')}0300-sched`,
      })),
    ]);
    cache(later.deps, false);
    later.history.objects.set(CONDITIONS_KEY, first.history.objects.get(CONDITIONS_KEY)!);
    // Act
    await run(statusEvent, later.deps);
    // Assert: the instance's incident resolves and the cache's opens; neither hides the other.
    const signals = later.notifier.sent[0]!.alerts!.filter((a) => a.key.endsWith('billing-db:backup'));
    expect(signals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'rds-instance:billing-db:backup', action: 'resolve' }),
        expect.objectContaining({
          key: 'elasticache:billing-db:backup',
          action: 'trigger',
          severity: 'critical',
        }),
      ]),
    );
    expect(signals).toHaveLength(2);
  });

  it('after an upgrade, resolves the keys it opened without the kind once, and raises what is still open under the new key', async () => {
    // Prepare: the last check, before the upgrade, left billing-db's backup (still failing) and gone-db's
    // backup (the database is gone) open under keys of version 1.
    const { deps: d, history, notifier } = deps();
    const old = (database: string) => ({
      key: `${database}:backup`,
      database,
      aspect: 'backup',
      health: 'FAILING',
      reason: 'the last two scheduled backups missing',
      since: '2026-11-29T06:00:00.000Z',
    });
    history.objects.set(CONDITIONS_KEY, {
      body: JSON.stringify({
        type: 'steward-open-conditions',
        version: 1,
        at: '2026-12-01T05:00:00.000Z',
        open: [old('billing-db'), old('gone-db')],
      }),
      contentType: 'application/json',
    });
    // Act
    await run(statusEvent, d);
    await run(statusEvent, d);
    // Assert: each old key resolved once; billing-db's backup raised under its new key, saying why, since kept.
    expect(notifier.sent).toHaveLength(1);
    const n = notifier.sent[0]!;
    expect(n.alerts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'billing-db:backup', action: 'resolve' }),
        expect.objectContaining({ key: 'gone-db:backup', action: 'resolve' }),
        expect.objectContaining({
          key: 'rds-instance:billing-db:backup',
          action: 'trigger',
          summary: expect.stringMatching(
            /open since 2026-11-29T06:00:00.000Z; raised again under its new pager key after a steward upgrade/,
          ),
        }),
      ]),
    );
    expect(n.subject).toMatch(/pager keys renamed: 1/);
    expect(n.lines.join('\n')).toMatch(/Pager keys renamed \(once, after a steward upgrade\)/);
    const memory = JSON.parse(history.objects.get(CONDITIONS_KEY)!.body);
    expect(memory.version).toBe(2);
    expect(memory.open).toContainEqual(
      expect.objectContaining({
        key: 'rds-instance:billing-db:backup',
        kind: 'rds-instance',
        since: '2026-11-29T06:00:00.000Z',
      }),
    );
  });

  // Version 1 keyed both `orders` under `orders:backup`, one condition per open resource. The note that a
  // trigger is only raised again (and its since) belonged to whichever now-open resource had the id and aspect:
  // the ElastiCache group that started failing since was announced as open since the instance's time.
  it('after an upgrade, says "raised again" only of the resource that was open before, not of a same-named one of another kind', () => {
    // Prepare: before the upgrade, the instance orders' backups were failing; now the group orders' are late too.
    const rds = 'the last two scheduled backups of 2026-11-29 03:00 and 2026-11-30 03:00 missing';
    const row = (kind: string, health: string, reason: string) =>
      ({ id: 'orders', kind, aspects: [{ aspect: 'backup', health, reason }] }) as unknown as DatabaseStatus;
    const status = {
      stage: 'prod',
      region: 'eu-west-1',
      at: '2026-12-01T06:00:00.000Z',
      counts: { OK: 0, LATE: 1, FAILING: 1, UNPROTECTED: 0 },
      databases: [
        row('elasticache', 'LATE', 'the scheduled backup of 2026-12-01 03:00 missing'),
        row('rds-instance', 'FAILING', rds),
      ],
    } as unknown as EstateStatus;
    const before = {
      key: 'orders:backup',
      database: 'orders',
      aspect: 'backup' as const,
      health: 'FAILING' as const,
      reason: rds,
      since: '2026-11-30T06:00:00.000Z',
    };
    // Act
    const changes = diffConditions([before], status, true);
    const n = conditionsNotification(changes, status)!;
    // Assert: the instance's trigger is raised again, since kept; the group's is new, since now.
    const trigger = (key: string) => n.alerts!.find((a) => a.key === key && a.action === 'trigger')!;
    expect(trigger('rds-instance:orders:backup').summary).toMatch(
      /open since 2026-11-30T06:00:00.000Z; raised again under its new pager key after a steward upgrade/,
    );
    expect(trigger('elasticache:orders:backup').summary).not.toMatch(/raised again|open since/);
    expect(Object.fromEntries(changes.open.map((c) => [c.key, c.since]))).toEqual({
      'rds-instance:orders:backup': '2026-11-30T06:00:00.000Z',
      'elasticache:orders:backup': '2026-12-01T06:00:00.000Z',
    });
    // The old key is resolved once, as renamed (the instance is still open under its new key).
    expect(n.alerts!.filter((a) => a.key === 'orders:backup')).toEqual([
      expect.objectContaining({
        action: 'resolve',
        summary: expect.stringMatching(/pager key renamed/) as unknown,
      }),
    ]);
  });

  it("after an upgrade, resolves a failed drill's own old key once, and only then", () => {
    // Prepare: the drill of the cache `orders` (drill.caches name orders-cache) failed before the upgrade.
    const row = {
      id: 'orders',
      kind: 'elasticache',
      aspects: [{ aspect: 'drill', health: 'FAILING', reason: 'drill failed' }],
      drill: { last: { database: 'orders-cache', passed: false } },
    } as unknown as DatabaseStatus;
    const status = { databases: [row], at: '2026-12-01T06:00:00.000Z' } as unknown as EstateStatus;
    // Act
    const upgrading = diffConditions([], status, true);
    const after = diffConditions(upgrading.open, status, false);
    // Assert
    expect(upgrading.retired).toEqual(['orders-cache:drill']);
    expect(upgrading.opened.map((c) => c.key)).toEqual(['elasticache:orders:drill']);
    expect(after).toMatchObject({ retired: [], opened: [], cleared: [], rekeyed: [] });
  });

  it('in a fleet hub, a key also names the account and region, as every fleet pager key does', async () => {
    // Prepare: the same stage managing a second account (targets: the hub's own, and 222222222222).
    const { deps: d, notifier } = deps();
    const config = {
      ...d.config,
      account: '111122223333',
      targets: [
        { regions: ['eu-west-1'] },
        { account: '222222222222', regions: ['eu-west-1'] },
      ] as ReportDeps['config']['targets'],
    };
    // Act
    await run(statusEvent, atPlace({ ...d, config }, statusEvent));
    // Assert
    expect(notifier.sent[0]!.alerts).toContainEqual(
      expect.objectContaining({
        key: 'rds-instance:billing-db:backup@111122223333/eu-west-1',
        action: 'trigger',
      }),
    );
  });

  it('keeps the memory unchanged when the notification fails, so the next check alerts again', async () => {
    // Prepare
    const { deps: d, history } = deps();
    d.notifier = { send: async () => Promise.reject(new Error('SNS down')) };
    // Act / Assert
    await expect(run(statusEvent, d)).rejects.toThrow(PartialFailureError);
    expect(history.objects.has(CONDITIONS_KEY)).toBe(false);
  });

  it('refuses a conditions document it did not write', async () => {
    const { deps: d, history } = deps();
    history.objects.set(CONDITIONS_KEY, { body: '{"hello":1}', contentType: 'application/json' });
    await expect(run(statusEvent, d)).rejects.toThrow(
      /status\/conditions.json in the report bucket is not a conditions document/,
    );
  });

  it('parses the config the handler runs with', () => {
    expect(parseConfig({ stage: 'prod', region: 'eu-west-1' }, 't').report).toEqual({
      enabled: true,
      schedule: 'cron(0 6 1 * ? *)',
      statusSchedule: 'rate(1 hour)',
      backupGraceMinutes: 120,
      drGraceHours: 12,
      drillGraceDays: 2,
      trendMonths: 12,
    });
  });
});

describe('report handler: messages stay bounded at any estate size', () => {
  const N = 5000;
  const condition = (i: number) => ({
    key: `orders-db-${String(i).padStart(4, '0')}:backup`,
    database: `orders-db-${String(i).padStart(4, '0')}`,
    aspect: 'backup',
    health: i % 2 ? 'LATE' : 'FAILING',
    reason: `no snapshot for ${30 + (i % 40)}h: ${'the policy expects one a day. '.repeat(5)}`,
    since: '2026-11-20T06:00:00.000Z',
  });

  it(`a status check that clears ${N} conditions: a bounded summary, the full changes in S3 first`, async () => {
    // Prepare: the last check left N conditions open on databases that are gone now.
    const { deps: d, history, notifier } = deps();
    history.objects.set(CONDITIONS_KEY, {
      body: JSON.stringify({
        type: 'steward-open-conditions',
        version: 1,
        at: '2026-11-30T06:00:00.000Z',
        open: Array.from({ length: N }, (_, i) => condition(i)),
      }),
      contentType: 'application/json',
    });
    const order: string[] = [];
    const put = history.put;
    history.put = async (k, b, t) => (order.push(`put ${k.split('/')[0]}`), put(k, b, t));
    const send = notifier.send;
    notifier.send = async (n) => (order.push('send'), send(n));
    // Act
    await run(statusEvent, d);
    // Assert
    const body = expectBoundedSummary(notifier.sent[0]!);
    const [key] = [...history.objects.keys()].filter((k) => k.startsWith('runs/report/'));
    expect(key).toMatch(/^runs\/report\/2026-12-01\/20261201T\d{6}Z-status-check\.json$/);
    expect(body).toContain(`Full report: s3://memory/${key}`);
    expect(body).toContain(`Cleared (OK again) (${N}):`);
    expect(body).toContain(`... and ${N - 10} more cleared (in the full report)`);
    const full = JSON.parse(history.objects.get(key!)!.body) as { changes: { cleared: unknown[] } };
    expect(full.changes.cleared).toHaveLength(N);
    // The report goes before the message that links it; the conditions are remembered after it.
    expect(order).toEqual(['put runs', 'send', 'put status']);
  });
});

describe('the first check after an upgrade stays bounded at any estate size', () => {
  it(`renames ${5000} open conditions: a bounded summary, every old key resolved, every one raised again`, () => {
    // Prepare: N databases failing their backups, remembered under keys of version 1.
    const N = 5000;
    const id = (i: number) => `orders-db-${String(i).padStart(4, '0')}`;
    const reason = `no snapshot for 52h: ${'the policy expects one a day. '.repeat(5)}`;
    const databases = Array.from(
      { length: N },
      (_, i) =>
        ({
          id: id(i),
          kind: 'rds-instance',
          aspects: [{ aspect: 'backup', health: 'FAILING', reason }],
        }) as unknown as DatabaseStatus,
    );
    const status = {
      stage: 'prod',
      region: 'eu-west-1',
      at: '2026-12-01T06:00:00.000Z',
      counts: { OK: 0, LATE: 0, FAILING: N, UNPROTECTED: 0 },
      databases,
    } as unknown as EstateStatus;
    const previous = databases.map((d) => ({
      key: `${d.id}:backup`,
      database: d.id,
      aspect: 'backup' as const,
      health: 'FAILING' as const,
      reason,
      since: '2026-11-30T06:00:00.000Z',
    }));
    // Act
    const changes = diffConditions(previous, status, true);
    const n = conditionsNotification(changes, status)!;
    // Assert
    const body = expectBoundedSummary(n);
    expect(body).toContain(`... and ${N - 10} more renamed (in the full report)`);
    expect(n.alerts!.filter((a) => a.action === 'resolve')).toHaveLength(N);
    expect(n.alerts!.filter((a) => a.action === 'trigger')).toHaveLength(N);
  });
});

describe('the evidence message stays bounded at any estate size', () => {
  it('5000 databases each missing backups and failing drills: names the first, counts the rest', () => {
    // Prepare
    const id = (i: number) => `orders-db-${String(i).padStart(4, '0')}`;
    const report = {
      month: '2026-11',
      stage: 'prod',
      complete: true,
      drRegion: 'us-west-2',
      summary: {
        databases: 5000,
        protected: 5000,
        unprotected: 0,
        backupsTaken: 0,
        backupsScheduled: 150_000,
        backupsMissed: 150_000,
        drCopies: 0,
        drCopiesMissing: 0,
        retentionDeleted: 0,
        drills: 5000,
        drillsPassed: 0,
        drillInstanceHours: 5000,
      },
      databases: Array.from({ length: 5000 }, (_, i) => ({
        id: id(i),
        backups: { missed: Array.from({ length: 30 }, (_, d) => `2026-11-${d + 1}`) },
        drills: [{ database: id(i), startedAt: '2026-11-05T03:00:00Z', passed: false, outcome: 'failed' }],
      })),
    } as unknown as Parameters<typeof evidenceNotification>[0];
    // Act
    const n = evidenceNotification(report, undefined);
    // Assert
    const body = expectBoundedSummary(n);
    expect(body).toContain(`150000 missed (${id(0)} 30, `);
    expect(body).toContain('and 4990 more)');
    expect(body).toContain(`failed: ${id(0)} 2026-11-05, `);
  });
});
