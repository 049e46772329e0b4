import { snapshotId } from '../../shared/backup/ids.js';
import { parseConfig } from '../../shared/config/schema.js';
import type { Database, ResourceKind, Snapshot } from '../../shared/model.js';
import type { EvidenceInputs } from '../../shared/report/evidence.js';
import type { DrillSummary } from '../../shared/report/model.js';
import type { RetentionRecord } from '../../shared/retention/record.js';
import { fixedEstate, memoryHistory } from './report.js';

/**
 * A month of a small production estate (November 2026, reported on 1 December 06:00 UTC): the fixture of the
 * evidence tests, the browser check and the screenshot in docs/. Every gap in it is deliberate:
 * billing-db missed its last three backups, orders-db missed 14 November and one DR copy ran a day late,
 * the August drill of orders-db failed, legacy-db has no steward:backup tag.
 */
export const EVIDENCE_NOW = new Date('2026-12-01T06:00:00Z');
export const EVIDENCE_MONTH = '2026-11';

export const evidenceConfig = parseConfig(
  {
    stage: 'prod',
    region: 'eu-west-1',
    backup: {
      policies: {
        daily: {
          schedule: 'cron(0 3 * * ? *)',
          retention: 'standard',
          copyToDr: true,
          kinds: ['rds-instance', 'aurora-cluster'],
        },
        cache: { schedule: 'cron(0 3 * * ? *)', kinds: ['elasticache'], retention: 'cache' },
      },
    },
    retention: {
      policies: {
        standard: { daily: 30, weekly: 8, monthly: 12, keepAtLeast: 7 },
        cache: { daily: 7, keepAtLeast: 3 },
      },
    },
    dr: { region: 'us-west-2', kmsKeyArn: 'arn:aws:kms:us-west-2:111122223333:alias/steward-dr' },
    drill: {
      enabled: true,
      targets: {
        'orders-db': {
          profile: { database: 'orders', tables: [{ name: 'transactions', freshnessColumn: 'created_at' }] },
        },
        ledger: { kind: 'aurora-cluster', profile: { database: 'ledger', tables: [{ name: 'entries' }] } },
      },
    },
  },
  'evidence fixture',
);

const db = (kind: ResourceKind, id: string, engine: string, tags: Record<string, string>): Database => ({
  kind,
  id,
  arn: `arn:aws:rds:eu-west-1:111122223333:${kind === 'aurora-cluster' ? 'cluster' : kind === 'elasticache' ? 'replicationgroup' : 'db'}:${id}`,
  region: 'eu-west-1',
  engine,
  status: 'available',
  tags,
  createdAt: '2024-03-01T00:00:00.000Z',
});

const at = (day: number, h = 3) => new Date(Date.UTC(2026, 10, day, h));

const snap = (
  kind: ResourceKind,
  dbId: string,
  when: Date,
  region = 'eu-west-1',
  copyDelayH?: number,
): Snapshot => {
  const id = snapshotId(dbId, when, 'sched');
  return {
    kind,
    id,
    arn: `arn:aws:rds:${region}:111122223333:snapshot:${id}`,
    region,
    sourceId: dbId,
    createdAt: new Date(when.getTime() + 180_000).toISOString(),
    status: 'available',
    type: 'manual',
    tags:
      kind === 'elasticache'
        ? {}
        : { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': dbId },
    ...(copyDelayH !== undefined
      ? {
          copiedAt: new Date(when.getTime() + copyDelayH * 3_600_000).toISOString(),
          sourceRegion: 'eu-west-1',
        }
      : {}),
  };
};

const days = (from: number, to: number, skip: number[] = []) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i).filter((d) => !skip.includes(d));

const drill = (
  database: string,
  startedAt: string,
  rto: number,
  rpo: number,
  passed = true,
  rtoTarget = 3600,
): DrillSummary => ({
  drillId: `${database}-${startedAt.slice(0, 10).replace(/-/g, '')}-sched`,
  database,
  startedAt,
  passed,
  ...(passed ? {} : { failedStep: 'verify' }),
  summary: passed ? `DR drill PASSED for ${database}` : `DR drill FAILED for ${database} at verify`,
  reasons: passed ? [] : ['row-count public.transactions: 3750 (expected >= 4750 (baseline 5000 - 5%))'],
  rtoSeconds: rto,
  rpoSeconds: rpo,
  rtoTargetSeconds: rtoTarget,
  rpoTargetSeconds: 300,
  rtoMet: rto <= rtoTarget,
  rpoMet: rpo <= 300,
  snapshotId: snapshotId(database, new Date(startedAt.replace(/T.*/, 'T03:00:00Z')), 'sched'),
  checks: [
    { name: 'connect', kind: 'connect', passed: true, detail: 'connected as drill_reader' },
    {
      name: `row-count public.${database === 'ledger' ? 'entries' : 'transactions'}`,
      kind: 'row-count',
      passed,
      detail: passed ? 'within 5% of the baseline' : 'rows lost',
    },
    { name: 'freshness', kind: 'freshness', passed: true, detail: `data RPO ${rpo} s` },
    { name: 'assertion every transaction has an account', kind: 'assertion', passed: true, detail: 'holds' },
  ],
});

const months = [
  '2025-12',
  '2026-01',
  '2026-02',
  '2026-03',
  '2026-04',
  '2026-05',
  '2026-06',
  '2026-07',
  '2026-08',
  '2026-09',
  '2026-10',
  '2026-11',
];
const ordersRto = [2460, 2310, 2580, 2220, 2700, 2400, 2520, 2190, 3900, 2340, 2280, 2160];
const ordersRpo = [95, 120, 80, 140, 110, 90, 130, 100, 150, 85, 105, 75];
const ledgerRto = [1500, 1620, 1440, 1710, 1560, 1500, 1680, 1530, 1590, 1470, 1620, 1380];

export const evidenceInputs = (): EvidenceInputs => {
  const orders = days(1, 30, [14]);
  const billing = days(1, 27);
  const primary: Snapshot[] = [
    ...orders.filter((d) => d >= 10).map((d) => snap('rds-instance', 'orders-db', at(d))),
    ...days(1, 30).map((d) => snap('aurora-cluster', 'ledger', at(d))),
    ...billing.map((d) => snap('rds-instance', 'billing-db', at(d))),
    ...days(24, 30).map((d) => snap('elasticache', 'sessions', at(d))),
    {
      ...snap('rds-instance', 'legacy-db', at(30, 4)),
      id: 'rds:legacy-db-2026-11-30-04-10',
      type: 'automated',
      tags: {},
    },
    { ...snap('rds-instance', 'orders-db', at(18, 14)), id: snapshotId('orders-db', at(18, 14), 'adhoc') },
  ];
  const dr: Snapshot[] = [
    ...orders.map((d) => snap('rds-instance', 'orders-db', at(d), 'us-west-2', d === 21 ? 30 : 4)),
    ...days(1, 30).map((d) => snap('aurora-cluster', 'ledger', at(d), 'us-west-2', 5)),
    ...billing.map((d) => snap('rds-instance', 'billing-db', at(d), 'us-west-2', 4)),
  ];
  // Retention deleted October dailies of orders-db on 25 November, and its 1–9 November dailies on 1 December:
  // those backups are gone, their records are the evidence.
  const deleted = (day: Date) => {
    const s = snap('rds-instance', 'orders-db', day);
    return {
      id: s.id,
      kind: s.kind,
      region: s.region,
      sourceId: 'orders-db',
      createdAt: s.createdAt!,
      policy: 'standard',
      reason: 'expired (standard: daily 30, weekly 8, monthly 12)',
      status: 'deleted' as const,
    };
  };
  const retention: RetentionRecord[] = [
    {
      type: 'steward-retention-record',
      version: 1,
      at: '2026-11-25T04:30:12.000Z',
      entries: [24, 25, 26].map((d) => deleted(new Date(Date.UTC(2026, 9, d, 3)))),
      deferred: 0,
    },
    {
      type: 'steward-retention-record',
      version: 1,
      at: '2026-12-01T04:30:09.000Z',
      entries: days(1, 9).map((d) => deleted(at(d))),
      deferred: 0,
    },
  ];
  const drills = months.flatMap((m, i) => [
    drill('orders-db', `${m}-01T05:00:00.000Z`, ordersRto[i]!, ordersRpo[i]!, m !== '2026-08'),
    drill('ledger', `${m}-01T05:10:00.000Z`, ledgerRto[i]!, 60 + i * 7),
  ]);
  return {
    month: EVIDENCE_MONTH,
    databases: [
      db('rds-instance', 'orders-db', 'postgres', { 'steward:backup': 'daily' }),
      db('aurora-cluster', 'ledger', 'aurora-postgresql', { 'steward:backup': 'daily' }),
      { ...db('rds-instance', 'ledger-1', 'aurora-postgresql', {}), clusterId: 'ledger' },
      db('rds-instance', 'billing-db', 'postgres', { 'steward:backup': 'daily' }),
      db('elasticache', 'sessions', 'redis', { 'steward:backup': 'cache' }),
      db('rds-instance', 'legacy-db', 'mysql', {}),
    ],
    snapshots: primary,
    drSnapshots: dr,
    retention,
    drills,
  };
};

/** The fixture's drill reports and retention records, filed in a memory report bucket as AWS would have them. */
export const evidenceHistory = (inputs: EvidenceInputs = evidenceInputs()) => {
  const history = memoryHistory();
  for (const d of inputs.drills) {
    const [y, m] = d.startedAt.slice(0, 7).split('-');
    void history.put(
      `drills/${d.database}/${y}/${m}/${d.drillId}.json`,
      JSON.stringify({
        type: 'steward-drill-report',
        version: 1,
        drillId: d.drillId,
        database: d.database,
        passed: d.passed,
        summary: d.summary,
        reasons: d.reasons,
        startedAt: d.startedAt,
        ...(d.failedStep ? { failedStep: d.failedStep } : {}),
        targets: { rtoSeconds: 3600, rpoSeconds: 300 },
        metrics: {
          rtoSeconds: d.rtoSeconds,
          rpoSeconds: d.rpoSeconds,
          rtoTargetSeconds: 3600,
          rpoTargetSeconds: 300,
          rtoMet: d.rtoMet,
          rpoMet: d.rpoMet,
        },
        verification: { checks: d.checks },
      }),
      'application/json',
    );
  }
  for (const r of inputs.retention)
    void history.put(
      `runs/retention/${r.at.slice(0, 10).replace(/-/g, '/')}/${r.at}.json`,
      JSON.stringify(r),
      'application/json',
    );
  return history;
};

/** The fixture's estate as the report reads it at `now`: its databases and snapshots, the DR copies, the history. */
export const evidenceEstate = (now: Date = EVIDENCE_NOW) => {
  const inputs = evidenceInputs();
  return {
    config: evidenceConfig,
    primary: fixedEstate('eu-west-1', [...inputs.databases], [...inputs.snapshots]),
    dr: fixedEstate('us-west-2', [], [...inputs.drSnapshots]),
    history: evidenceHistory(inputs),
    now: () => now,
  };
};
