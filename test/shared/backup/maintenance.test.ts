import { describe, expect, it } from 'vitest';
import { planMaintenance } from '../../../shared/backup/maintenance.js';
import type { Database } from '../../../shared/model.js';

const NOW = new Date('2026-01-20T10:00:00Z');
const db = (
  kind: Database['kind'],
  id: string,
  tags: Record<string, string>,
  extra: Partial<Database> = {},
) =>
  ({
    kind,
    id,
    arn: `arn:aws:${kind === 'elasticache' ? 'elasticache' : 'rds'}:eu-west-1:111122223333:${id}`,
    region: 'eu-west-1',
    engine: kind === 'elasticache' ? 'redis' : 'postgres',
    status: 'available',
    tags,
    ...extra,
  }) as Database;

const DATABASES = [
  db('elasticache', 'sessions', { 'steward:backup': 'daily' }),
  db('elasticache', 'sessions-eu', { 'steward:backup': 'daily' }),
  db('elasticache', 'scratch', {}),
  db('aurora-cluster', 'ledger', { 'steward:backup': 'daily' }),
  db('rds-instance', 'ledger-1', {}, { clusterId: 'ledger' }),
];

const maintenance = (service: string, entities: string[], start: string) => ({
  action: 'maintenance' as const,
  eventArn: 'arn:aws:health:eu-west-1::event/X/Y/1',
  typeCode: `AWS_${service}_MAINTENANCE_SCHEDULED`,
  service,
  start: new Date(start),
  entities,
  dryRun: false,
});

describe('planMaintenance', () => {
  it('maps ElastiCache node ids to their replication group, once per group, the longest matching name', () => {
    // Act
    const items = planMaintenance(
      maintenance(
        'ELASTICACHE',
        ['sessions-0001-001', 'sessions-0001-002', 'sessions-eu-0001-001'],
        '2026-01-24T02:00:00Z',
      ),
      DATABASES,
      60,
      'prod',
      NOW,
    );

    // Assert
    expect(
      items.map((i) => [i.entity, i.db?.id, i.mode, 'snapshotAt' in i && i.snapshotAt.toISOString()]),
    ).toEqual([
      ['sessions-0001-001', 'sessions', 'schedule', '2026-01-24T01:00:00.000Z'],
      ['sessions-eu-0001-001', 'sessions-eu', 'schedule', '2026-01-24T01:00:00.000Z'],
    ]);
  });

  it('skips, with the reason, an unprotected cache and an unknown entity', () => {
    // Act
    const items = planMaintenance(
      maintenance('ELASTICACHE', ['scratch-0001-001', 'elsewhere-0001-001'], '2026-01-24T02:00:00Z'),
      DATABASES,
      60,
      'prod',
      NOW,
    );

    // Assert
    expect(items.map((i) => i.mode)).toEqual(['skip', 'skip']);
    expect('reason' in items[0]! && items[0].reason).toMatch(/scratch is not protected/);
    expect('reason' in items[1]! && items[1].reason).toMatch(/not a database in this region/);
  });

  it('snapshots an Aurora member through its cluster, and at once when the window is closer than the lead', () => {
    // Act
    const items = planMaintenance(
      maintenance('RDS', ['ledger-1'], '2026-01-20T10:30:00Z'),
      DATABASES,
      60,
      'prod',
      NOW,
    );

    // Assert
    expect(items).toMatchObject([{ entity: 'ledger-1', db: { id: 'ledger' }, mode: 'now', snapshotAt: NOW }]);
  });

  it('is too late once the window has started', () => {
    // Act
    const items = planMaintenance(
      maintenance('RDS', ['ledger'], '2026-01-20T09:59:00Z'),
      DATABASES,
      60,
      'prod',
      NOW,
    );

    // Assert
    expect(items).toMatchObject([{ mode: 'skip', reason: expect.stringMatching(/too late/) }]);
  });
});
