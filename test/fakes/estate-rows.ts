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

const SNAPSHOT_ARN: Record<Snapshot['kind'], string> = {
  'rds-instance': 'arn:aws:rds:eu-west-1:111122223333:snapshot:',
  'aurora-cluster': 'arn:aws:rds:eu-west-1:111122223333:cluster-snapshot:',
  elasticache: 'arn:aws:elasticache:eu-west-1:111122223333:snapshot:',
  ebs: 'arn:aws:ec2:eu-west-1:111122223333:snapshot-set/',
};

/**
 * steward's scheduled snapshot of `dbId` under `policy` (default `daily`) taken at `at`, available, with its
 * ownership tags; an RDS instance's unless `extra.kind` says otherwise.
 */
export const stewardSnapshot = (
  dbId: string,
  at: Date,
  extra: Partial<Snapshot> = {},
  policy = 'daily',
): Snapshot => {
  const id = snapshotId(dbId, at, 'sched');
  const kind = extra.kind ?? 'rds-instance';
  return {
    kind,
    id,
    arn: `${SNAPSHOT_ARN[kind]}${id}`,
    region: 'eu-west-1',
    sourceId: dbId,
    createdAt: at.toISOString(),
    status: 'available',
    type: 'manual',
    tags: { 'steward:managed': 'true', 'steward:policy': policy, 'steward:source': dbId },
    ...extra,
  };
};
