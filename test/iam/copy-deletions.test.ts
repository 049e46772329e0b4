import { beforeAll, describe, expect, it } from 'vitest';
import { dynamoCopyDeletionLedger } from '../../shared/aws/drill-stores.js';
import type { StewardConfigInput } from '../../shared/config/schema.js';
import { drillLedgerIam } from './drill-ledger.js';
import { type Deployment, type RoleUnderTest, synthesize } from './template.js';

// The drill's record of the copies being deleted (shared/aws/drill-stores.ts): Cleanup and the execution-ended
// rule record a copy before deleting it, and its RDS event and the janitor delete and forget one RDS refused while
// it was being created. The drill function's role records, lists and forgets them under their own partition key.
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const CONFIG = {
  stage: 'handover',
  region: REGION,
  account: ACCOUNT,
  drill: {
    enabled: true,
    targets: { ledger: { kind: 'aurora-cluster', profile: { database: 'app' } } },
  },
} satisfies StewardConfigInput;

let deployment: Deployment;
let drill: RoleUnderTest;

const { requests, decide } = drillLedgerIam({
  account: ACCOUNT,
  region: REGION,
  frame: 'shared/aws/drill-stores.ts:dynamoCopyDeletionLedger',
  test: 'test/iam/copy-deletions.test.ts',
});

beforeAll(() => {
  deployment = synthesize('copy-deletions', CONFIG);
  drill = deployment.roles.get('drill')!;
});

/** The IAM requests of what the ledger sends (record, list, forget), from the adapter itself. */
const ledgerRequests = () =>
  requests(deployment, async (client) => {
    const ledger = dynamoCopyDeletionLedger(client, 'steward-handover-state');
    const d = {
      kind: 'aurora-cluster' as const,
      id: 'steward-drill-ledger-0a1b2c3d',
      drillId: 'monthly-x',
      region: REGION,
      since: '2026-02-01T06:10:00.000Z',
    };
    await ledger.record(d);
    await ledger.list();
    await ledger.forget(d);
  });

describe('drill copies being deleted IAM', () => {
  it('lets the drill role record, list and forget them in the state table', async () => {
    const requests = await ledgerRequests();
    expect(requests.map((r) => r.action)).toEqual([
      'dynamodb:UpdateItem',
      'dynamodb:UpdateItem',
      'dynamodb:GetItem',
    ]);
    for (const r of requests) expect(await decide(drill, r), r.label).toBe('Allowed');
  });

  it('grants no other partition key', async () => {
    const [update] = await ledgerRequests();
    const other = { ...update!, context: { 'dynamodb:LeadingKeys': ['scaling-cooldown#x'] } };
    expect(await decide(drill, other)).not.toBe('Allowed');
    const fsr = { ...update!, context: { 'dynamodb:LeadingKeys': ['drill-fast-restores'] } };
    expect(await decide(drill, fsr)).not.toBe('Allowed');
  });
});
