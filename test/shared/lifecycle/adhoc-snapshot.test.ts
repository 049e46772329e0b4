import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import { planSnapshot } from '../../../shared/backup/plan.js';
import type { Database, Snapshot } from '../../../shared/model.js';
import { planRetentionFor } from '../../../shared/retention/policy.js';

// Backup writes the tags, retention reads them: this pins the contract between the two engines.
const config = parseConfig({ stage: 'prod', region: 'eu-west-1' }, 'test');
const db: Database = {
  kind: 'rds-instance',
  id: 'orders-db',
  arn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
  region: 'eu-west-1',
  engine: 'postgres',
  status: 'available',
  tags: { 'steward:backup': 'daily' },
};
const DAY = 86_400_000;

const adHocSnapshot = (takenAt: Date): Snapshot => {
  const plan = planSnapshot(
    db,
    [db],
    { reason: 'pre-migration', retainDays: 90 },
    [],
    takenAt,
    config.backup,
  );
  const create = plan.actions[0]!;
  if (create.action !== 'create') throw new Error(`expected a create, got ${create.action}`);
  return {
    kind: db.kind,
    id: create.snapshotId,
    arn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${create.snapshotId}`,
    region: db.region,
    sourceId: db.id,
    createdAt: takenAt.toISOString(),
    status: 'available',
    type: 'manual',
    tags: create.tags,
  };
};

const daily = (at: Date): Snapshot => ({
  kind: 'rds-instance',
  id: `steward-orders-db-${at.getTime()}-sched`,
  arn: 'arn',
  region: 'eu-west-1',
  sourceId: 'orders-db',
  createdAt: at.toISOString(),
  status: 'available',
  type: 'manual',
  tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': 'orders-db' },
});

describe('a pre-change snapshot from backup, judged by retention', () => {
  const taken = new Date('2026-08-01T10:00:00Z');
  const history = (now: Date) => [
    adHocSnapshot(taken),
    ...Array.from({ length: 5 }, (_, i) => daily(new Date(now.getTime() - (i + 1) * DAY))),
  ];

  it('is kept until its retain-until date', () => {
    // Prepare
    const now = new Date(taken.getTime() + 89 * DAY);
    // Act
    const plan = planRetentionFor(history(now), config, now);
    // Assert
    const v = plan.verdicts.find((x) => x.id.endsWith('-adhoc'))!;
    expect(v).toMatchObject({ action: 'keep', rule: 'retain-until' });
  });

  it('expires once its retain-until date has passed, instead of being kept forever as an unknown policy', () => {
    // Prepare
    const now = new Date(taken.getTime() + 91 * DAY);
    // Act
    const plan = planRetentionFor(history(now), config, now);
    // Assert
    const v = plan.verdicts.find((x) => x.id.endsWith('-adhoc'))!;
    expect(v).toMatchObject({ action: 'expire', rule: 'retain-until-passed' });
  });

  it('refuses a backup policy named like the reserved ad-hoc policy', () => {
    // Act / Assert
    expect(() =>
      parseConfig({ stage: 'prod', region: 'eu-west-1', backup: { policies: { adhoc: {} } } }, 'test'),
    ).toThrow(/backup\.policies\.adhoc: "adhoc" is reserved/);
  });
});
