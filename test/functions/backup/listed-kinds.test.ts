import { DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeReplicationGroupsCommand, ElastiCacheClient } from '@aws-sdk/client-elasticache';
import {
  CreateDBSnapshotCommand,
  DescribeAccountAttributesCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import snapshotRequest from '../../../events/backup/snapshot-request.json' with { type: 'json' };
import rdsMaintenance from '../../../events/health/rds-maintenance-scheduled.json' with { type: 'json' };
import { run, wire } from '../../../functions/backup/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { noServerlessCaches } from '../../support/serverless-mocks.js';

// A stage whose policies back up RDS only: its backup role may not describe ElastiCache groups or EC2
// instances and volumes (infra/backup.ts grants those reads only for a kind a policy covers). A pre-change
// snapshot and an AWS Health event list the databases to find the one they name: they must list only the
// kinds the policies cover, or IAM refuses the listing and the snapshot is never taken.
const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const NOW = new Date('2026-01-15T10:00:00Z');

const config = parseConfig(
  {
    stage: 'prod',
    region: REGION,
    backup: { policies: { daily: { kinds: ['rds-instance', 'aurora-cluster'] } } },
    dr: { region: 'us-west-2' },
  },
  'test',
);
const base = () => ({ config, dryRun: false, notifier: memoryNotifier(), now: () => NOW });

const rds = mockClient(RDSClient);
const cache = mockClient(ElastiCacheClient);
const ec2 = mockClient(EC2Client);
// What AWS answers a call the role has no grant for.
const denied = () =>
  Object.assign(new Error('User is not authorized to perform this operation'), { name: 'AccessDenied' });

beforeEach(() => {
  rds.reset();
  cache.reset();
  noServerlessCaches(cache);
  ec2.reset();
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-db',
        DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:orders-db`,
        Engine: 'postgres',
        DBInstanceStatus: 'available',
        TagList: [{ Key: 'steward:backup', Value: 'daily' }],
      },
    ],
  });
  rds.on(DescribeDBClustersCommand).resolves({ DBClusters: [] });
  rds.on(DescribeAccountAttributesCommand).resolves({
    AccountQuotas: [{ AccountQuotaName: 'ManualSnapshots', Used: 1, Max: 100 }],
  });
  rds.on(CreateDBSnapshotCommand).resolves({});
  cache.on(DescribeReplicationGroupsCommand).rejects(denied());
  ec2.on(DescribeInstancesCommand).rejects(denied());
  ec2.on(DescribeVolumesCommand).rejects(denied());
});

afterAll(() => {
  rds.restore();
  cache.restore();
  ec2.restore();
});

describe('the kinds a backup run lists', () => {
  it('a pre-change snapshot in an RDS-only stage reads neither ElastiCache nor EC2, and is taken', async () => {
    // Act
    const r = await run(snapshotRequest, wire(base()), { requestId: 'req-1' });

    // Assert
    expect(r.outcomes).toEqual([expect.objectContaining({ resource: 'orders-db', status: 'done' })]);
    expect(rds).toHaveReceivedCommandWith(CreateDBSnapshotCommand, { DBInstanceIdentifier: 'orders-db' });
    expect(cache.calls()).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
  });

  it('an AWS Health maintenance event in an RDS-only stage finds its instance without reading ElastiCache or EC2', async () => {
    // Act: a dry run plans the pre-change snapshot (the deployed function would schedule it)
    const r = await run(rdsMaintenance, wire({ ...base(), dryRun: true }));

    // Assert
    expect(r.outcomes).toEqual([
      expect.objectContaining({
        resource: 'orders-db',
        action: 'pre-maintenance-snapshot',
        status: 'planned',
      }),
    ]);
    expect(cache.calls()).toHaveLength(0);
    expect(ec2.calls()).toHaveLength(0);
  });
});
