import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoFastRestoreLedger } from '../../shared/aws/drill-stores.js';
import type { StewardConfigInput } from '../../shared/config/schema.js';
import { drillLedgerIam } from './drill-ledger.js';
import { type Deployment, type RoleUnderTest, synthesize } from './template.js';

// The EBS drill's record of the fast snapshot restores it turns on (shared/aws/drill-stores.ts), in the stage's
// state table: the drill function's role records, lists and forgets them under their own partition key only, and
// a stage without EBS drills has no such grant.
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const WITH_VOLUMES = {
  stage: 'fsr',
  region: REGION,
  account: ACCOUNT,
  drill: { enabled: true, volumes: { 'i-0a1b2c3d4e5f60718': { fastSnapshotRestore: true } } },
} satisfies StewardConfigInput;
const WITHOUT = {
  stage: 'fsr',
  region: REGION,
  account: ACCOUNT,
  drill: { enabled: true, targets: { 'orders-db': { kind: 'rds-instance', profile: { database: 'app' } } } },
} satisfies StewardConfigInput;

let withVolumes: Deployment;
let drill: RoleUnderTest;
let without: RoleUnderTest;

const { requests, decide } = drillLedgerIam({
  account: ACCOUNT,
  region: REGION,
  frame: 'shared/aws/drill-stores.ts:dynamoFastRestoreLedger',
  test: 'test/iam/ebs-fast-restores.test.ts',
});

beforeAll(() => {
  withVolumes = synthesize('fsr-volumes', WITH_VOLUMES);
  drill = withVolumes.roles.get('drill')!;
  without = synthesize('fsr-none', WITHOUT).roles.get('drill')!;
});

/** The IAM requests of what the ledger sends (record, list, forget), from the adapter itself. */
const ledgerRequests = () =>
  requests(withVolumes, async (client) => {
    const ledger = dynamoFastRestoreLedger(client, 'steward-fsr-state');
    const r = {
      drillId: 'monthly-x',
      snapshotId: 'snap-0123456789abcdef0',
      availabilityZone: 'eu-west-1a',
      region: REGION,
      enabledAt: '2026-02-01T05:00:00.000Z',
    };
    await ledger.record(r);
    await ledger.list();
    await ledger.forget(r);
  });

describe('EBS drill fast snapshot restore records IAM', () => {
  it('lets the drill role record, list and forget them in the state table', async () => {
    const requests = await ledgerRequests();
    expect(requests.map((r) => r.action)).toEqual([
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
    ]);
    for (const r of requests) expect(await decide(drill, r), r.label).toBe('Allowed');
  });

  it('grants no other partition key, and nothing to a stage without EBS drills', async () => {
    const [update] = await ledgerRequests();
    const other = { ...update!, context: { 'dynamodb:LeadingKeys': ['scaling-cooldown#x'] } };
    expect(await decide(drill, other)).not.toBe('Allowed');
    expect(await decide(without, update!)).not.toBe('Allowed');
  });
});
