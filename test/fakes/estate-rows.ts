import { snapshotId } from '../../shared/backup/ids.js';
import type { Database, Snapshot } from '../../shared/model.js';

/** An available PostgreSQL RDS instance in eu-west-1 of account 111122223333. */
export const rdsDatabase = (
  id: string,
  tags: Record<string, string> = {},
  extra: Partial<Database> = {},
): Database => ({
  kind: 'rds-instance',
  id,
  arn: `arn:aws:rds:eu-west-1:111122223333:db:${id}`,
  region: 'eu-west-1',
  engine: 'postgres',
  status: 'available',
  tags,
  ...extra,
});

/** steward's scheduled snapshot of `dbId` (policy `daily`) taken at `at`, available, with its ownership tags. */
export const stewardSnapshot = (dbId: string, at: Date, extra: Partial<Snapshot> = {}): Snapshot => {
  const id = snapshotId(dbId, at, 'sched');
  return {
    kind: 'rds-instance',
    id,
    arn: `arn:aws:rds:eu-west-1:111122223333:snapshot:${id}`,
    region: 'eu-west-1',
    sourceId: dbId,
    createdAt: at.toISOString(),
    status: 'available',
    type: 'manual',
    tags: { 'steward:managed': 'true', 'steward:policy': 'daily', 'steward:source': dbId },
    ...extra,
  };
};
