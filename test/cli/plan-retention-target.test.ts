import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { FLEET_CONFIG } from '../support/fleet.js';
import { ownTmpDir, removeOwnTmpDir } from '../support/own-tmp.js';

// `steward plan retention` reads through the retention function's wiring (test/e2e/plan-retention-moto.test.ts):
// the stage's dump objects are in its buckets, in the hub's account, and only the hub's own run keeps them. A plan
// for another account-region (with that account's credentials) leaves them out, as that target's run does.
const DUMPS = 'prod-dumps';
const config = {
  ...FLEET_CONFIG,
  backup: {
    policies: {
      ...FLEET_CONFIG.backup!.policies,
      hosts: {
        kinds: ['ebs' as const],
        consistency: { dump: { command: 'pg_dumpall', bucket: DUMPS, prefix: 'steward/' } },
      },
    },
  },
};

describe('steward plan retention --target', () => {
  let dir = '';
  const rds = mockClient(RDSClient);
  const cache = mockClient(ElastiCacheClient);
  const tagging = mockClient(ResourceGroupsTaggingAPIClient);
  const ec2 = mockClient(EC2Client);
  const s3 = mockClient(S3Client);
  const sts = mockClient(STSClient);
  beforeAll(() => {
    dir = ownTmpDir('steward-cli-plan-target');
    writeFileSync(join(dir, 'steward.prod.yaml'), JSON.stringify(config));
  });
  afterAll(() => {
    for (const m of [rds, cache, tagging, ec2, s3, sts]) m.restore();
    removeOwnTmpDir(dir);
  });
  beforeEach(() => {
    for (const m of [rds, cache, tagging, ec2, s3, sts]) m.reset();
    rds.onAnyCommand().resolves({});
    cache.onAnyCommand().resolves({});
    tagging.onAnyCommand().resolves({});
    ec2.onAnyCommand().resolves({});
    s3.onAnyCommand().resolves({});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  const plan = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main(['plan', 'retention', '--config', dir, '--json', ...argv], (s) => out.push(s));
    return { code, plan: JSON.parse(out.join('\n')) as { unread: string[] } };
  };
  const dumpListings = () =>
    s3.commandCalls(ListObjectsV2Command).filter((c) => c.args[0].input.Bucket === DUMPS).length;

  it("lists the stage's dump objects for its own account-region", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111111111111' });
    const { code, plan: p } = await plan();
    expect([code, p.unread]).toEqual([0, []]);
    expect(dumpListings()).toBe(1);
  });

  it("leaves them out for another account-region, whose run keeps none (they are in the hub's buckets)", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222' });
    const { code, plan: p } = await plan('--target', '222222222222/eu-west-1');
    expect([code, p.unread]).toEqual([0, []]);
    expect(dumpListings()).toBe(0);
  });

  // The target's run (functions/retention/handler.ts, a spoke child) keeps its account's Redis DR copies: the
  // account's DR bucket in the DR region, under the target region's prefix. The plan lists the same, with the
  // caller's profile of that account; before, it listed none of them and showed fewer deletions than the run.
  const SPOKE_DR = 'steward-prod-rdb-dr-222222222222-us-west-2';
  const copy = (day: string) => ({
    Key: `elasticache-eu-west-1/sessions/daily/steward-sessions-2025${day}0300-sched-0001.rdb`,
    LastModified: new Date(`2025-${day.slice(0, 2)}-${day.slice(2)}T04:00:00Z`),
  });
  const spokeListings = () =>
    s3.commandCalls(ListObjectsV2Command).filter((c) => c.args[0].input.Bucket === SPOKE_DR);

  it("lists that target's Redis DR copies: its account's DR bucket, under its region's prefix", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222' });
    s3.on(ListObjectsV2Command, { Bucket: SPOKE_DR }).resolves({ Contents: [copy('0105'), copy('0106')] });
    const { code, plan: p } = await plan('--target', '222222222222/eu-west-1');
    expect([code, p.unread]).toEqual([0, []]);
    expect(spokeListings().map((c) => c.args[0].input.Prefix)).toEqual(['elasticache-eu-west-1/']);
    const verdicts = (p as unknown as { verdicts: { id: string; region: string; sourceId: string }[] })
      .verdicts;
    expect(verdicts.filter((v) => v.sourceId === 'sessions').map((v) => [v.id, v.region])).toEqual([
      ['steward-sessions-202501050300-sched', 'us-west-2'],
      ['steward-sessions-202501060300-sched', 'us-west-2'],
    ]);
  });

  it('says it could not read them, naming the bucket, when the profile may not list it', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222' });
    s3.on(ListObjectsV2Command, { Bucket: SPOKE_DR }).rejects(
      Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
    );
    const { code, plan: p } = await plan('--target', '222222222222/eu-west-1');
    expect(code).toBe(1);
    expect(p.unread).toHaveLength(1);
    expect(p.unread[0]).toContain(`s3://${SPOKE_DR}/elasticache-eu-west-1/`);
    expect(p.unread[0]).toContain('AccessDenied');
  });

  // `steward invoke retention --target` runs the function locally: as that target's child too (its Redis DR
  // copies; not the stage's dump objects, which its profile would have read in the hub's buckets).
  it("invoke retention --target --dry-run reads what that target's run reads", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '222222222222' });
    s3.on(ListObjectsV2Command, { Bucket: SPOKE_DR }).resolves({ Contents: [copy('0105')] });
    const event = join(dir, 'retention.json');
    writeFileSync(event, JSON.stringify({ action: 'retention' }));
    const out: string[] = [];
    const code = await main(
      [
        'invoke',
        'retention',
        '--config',
        dir,
        '--json',
        '--dry-run',
        '--event',
        event,
        '--target',
        '222222222222/eu-west-1',
      ],
      (s) => out.push(s),
    );
    expect(code).toBe(0);
    expect(spokeListings().map((c) => c.args[0].input.Prefix)).toEqual(['elasticache-eu-west-1/']);
    expect(dumpListings()).toBe(0);
  });
});
