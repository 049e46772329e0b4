import { beforeAll, describe, expect, it } from 'vitest';
import { FLEET_CONFIG } from '../support/fleet.js';
import { deployFleet, HUB, REGION, WORKLOAD } from './fleet-deployment.js';
import { type Decision, simulate } from './simulate.js';
import type { Context } from './requests.js';
import type { PolicyDocument, PolicyStatement, RoleUnderTest } from './template.js';

// Redis DR in a spoke, simulated: the spoke backup and retention roles (as deployed in WORKLOAD, eu-west-1) may
// do what the backup and retention children do there (test/functions/fleet/redis-dr-wiring.test.ts) on the
// account's own buckets, under the region's own prefix of its DR bucket, and nothing beside: not the hub's
// prefix (`elasticache/`), not another region's, not a bucket of that name in another account, not an object
// without steward's tag or name.
const DR = 'us-west-2';
const EXPORT = `steward-prod-rdb-export-${WORKLOAD}-${REGION}`;
const DR_BUCKET = `steward-prod-rdb-dr-${WORKLOAD}-${DR}`;
const PREFIX = `elasticache-${REGION}/`;
const FILE = 'steward-sessions-202601150300-sched-0001.rdb';
const KEY = `arn:aws:kms:${DR}:${WORKLOAD}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0`;

let backup: RoleUnderTest;
let retention: RoleUnderTest;

beforeAll(() => {
  const roles = [...deployFleet(FLEET_CONFIG, 'fleet').spokeRoles.values()];
  backup = roles.find((r) => r.arn.includes('spoke-backup-'))!;
  retention = roles.find((r) => r.arn.includes('spoke-retention-'))!;
});

const own = { 's3:ResourceAccount': WORKLOAD };
const as = async (
  role: RoleUnderTest,
  action: string,
  resource: string,
  context: Context = {},
  region = DR,
): Promise<Decision> =>
  (
    await simulate(
      role.arn,
      role.policy,
      {
        action,
        resource,
        context,
        label: `${action} ${resource}`,
        // A KMS key is always governed by its key policy: the spoke DR key's default one delegates to IAM.
        ...(action.startsWith('kms:') ? { resourcePolicy: delegatesToIam(resource.split(':')[4]!) } : {}),
      },
      WORKLOAD,
      region,
    )
  ).decision;
const delegatesToIam = (account: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DefaultKeyPolicyDelegatesToIam',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${account}:root` },
      Action: 'kms:*',
      Resource: '*',
    } as PolicyStatement,
  ],
});
const object = (bucket: string, key: string) => `arn:aws:s3:::${bucket}/${key}`;
const bucket = (name: string) => `arn:aws:s3:::${name}`;

describe('the spoke backup role, for Redis DR', () => {
  it("exports only steward's snapshots of its own account and region", async () => {
    const snap = (name: string, region = REGION, account = WORKLOAD) =>
      `arn:aws:elasticache:${region}:${account}:snapshot:${name}`;
    expect(
      await Promise.all([
        as(backup, 'elasticache:CopySnapshot', snap('steward-sessions-202601150300-sched'), {}, REGION),
        as(backup, 'elasticache:CopySnapshot', snap('nightly-by-hand'), {}, REGION),
        as(backup, 'elasticache:CopySnapshot', snap('steward-sessions-202601150300-sched', 'eu-central-1')),
        as(
          backup,
          'elasticache:CopySnapshot',
          snap('steward-sessions-202601150300-sched', REGION, HUB),
          {},
          REGION,
        ),
        as(backup, 's3:ListAllMyBuckets', '*', {}, REGION),
      ]),
    ).toEqual(['Allowed', 'ImplicitlyDenied', 'ExplicitlyDenied', 'ImplicitlyDenied', 'Allowed']);
  });

  it("reads and deletes only steward's exports in its own export bucket", async () => {
    expect(
      await Promise.all([
        as(backup, 's3:GetBucketLocation', bucket(EXPORT), own, REGION),
        as(backup, 's3:GetObject', object(EXPORT, FILE), own, REGION),
        as(backup, 's3:DeleteObject', object(EXPORT, FILE), own, REGION),
        as(backup, 's3:DeleteObject', object(EXPORT, 'team/backup.rdb'), own, REGION),
        // A bucket of that name owned by another account (ours deleted, the name taken).
        as(backup, 's3:GetObject', object(EXPORT, FILE), { 's3:ResourceAccount': '999999999999' }, REGION),
      ]),
    ).toEqual(['Allowed', 'Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied']);
  });

  it("writes, tags and resumes copies only under its region's prefix of its account's DR bucket", async () => {
    const tagged = { ...own, 's3:RequestObjectTag/steward:managed': 'true' };
    expect(
      await Promise.all([
        as(backup, 's3:PutObject', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), own),
        as(backup, 's3:PutObjectTagging', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), tagged),
        as(backup, 's3:ListBucketMultipartUploads', bucket(DR_BUCKET), own),
        as(backup, 's3:ListMultipartUploadParts', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), own),
        as(backup, 's3:AbortMultipartUpload', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), own),
        as(backup, 's3:ListBucket', bucket(DR_BUCKET), { ...own, 's3:prefix': `${PREFIX}sessions/` }),
      ]),
    ).toEqual(['Allowed', 'Allowed', 'Allowed', 'Allowed', 'Allowed', 'Allowed']);
  });

  it("refuses the hub's prefix, another region's, another account's bucket, and a tag that is not steward's", async () => {
    const untagged = { ...own, 's3:RequestObjectTag/steward:managed': 'false' };
    expect(
      await Promise.all([
        as(backup, 's3:PutObject', object(DR_BUCKET, `elasticache/sessions/${FILE}`), own),
        as(backup, 's3:PutObject', object(DR_BUCKET, `elasticache-eu-central-1/sessions/${FILE}`), own),
        as(backup, 's3:PutObject', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), {
          's3:ResourceAccount': '999999999999',
        }),
        as(backup, 's3:PutObjectTagging', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), untagged),
        as(backup, 's3:ListBucket', bucket(DR_BUCKET), { ...own, 's3:prefix': 'elasticache/' }),
        as(backup, 's3:ListBucket', bucket(DR_BUCKET), { ...own, 's3:prefix': '' }),
        as(backup, 's3:DeleteObject', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), own),
      ]),
    ).toEqual(Array(7).fill('ImplicitlyDenied'));
  });

  it("has S3 use its account's own DR key in the DR region only", async () => {
    const viaS3 = (region: string) => ({
      'kms:ViaService': `s3.${region}.amazonaws.com`,
      'kms:ResourceAliases': ['alias/steward-prod-spoke-dr'],
    });
    expect(
      await Promise.all([
        as(backup, 'kms:GenerateDataKey', KEY, viaS3(DR)),
        as(backup, 'kms:Decrypt', KEY, viaS3(DR)),
        as(backup, 'kms:GenerateDataKey', KEY, viaS3(REGION)),
        as(backup, 'kms:GenerateDataKey', KEY, { ...viaS3(DR), 'kms:ResourceAliases': ['alias/team'] }),
        as(backup, 'kms:GenerateDataKey', KEY.replace(WORKLOAD, HUB), viaS3(DR)),
      ]),
    ).toEqual(['Allowed', 'Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied', 'ImplicitlyDenied']);
  });
});

describe('the spoke retention role, for Redis DR', () => {
  it("lists, reads tags of and deletes only under its region's prefix of its account's DR bucket", async () => {
    const copy = object(DR_BUCKET, `${PREFIX}sessions/${FILE}`);
    expect(
      await Promise.all([
        as(retention, 's3:ListBucket', bucket(DR_BUCKET), { ...own, 's3:prefix': PREFIX }),
        as(retention, 's3:GetObjectTagging', copy, own),
        as(retention, 's3:DeleteObject', copy, own),
      ]),
    ).toEqual(['Allowed', 'Allowed', 'Allowed']);
  });

  it("refuses the hub's copies, another region's, another account's bucket, and writing", async () => {
    expect(
      await Promise.all([
        as(retention, 's3:DeleteObject', object(DR_BUCKET, `elasticache/sessions/${FILE}`), own),
        as(retention, 's3:DeleteObject', object(DR_BUCKET, `elasticache-eu-central-1/sessions/${FILE}`), own),
        as(retention, 's3:DeleteObject', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), {
          's3:ResourceAccount': '999999999999',
        }),
        as(retention, 's3:ListBucket', bucket(DR_BUCKET), { ...own, 's3:prefix': 'elasticache/' }),
        as(retention, 's3:PutObject', object(DR_BUCKET, `${PREFIX}sessions/${FILE}`), own),
        as(retention, 's3:DeleteObject', object(EXPORT, FILE), own, REGION),
      ]),
    ).toEqual(Array(6).fill('ImplicitlyDenied'));
  });
});
