import { snapshotId } from '../../shared/backup/ids.js';
import { drillTargetId } from '../../shared/drill/ids.js';
import { nextReplicaId } from '../../shared/scaling/ids.js';
import { namedRules } from '../../shared/scaling/request.js';
import { Tag, type Tags } from '../../shared/tags.js';
import {
  arns,
  type Context,
  dbUser,
  drillEndpointSpec,
  drKey,
  type IamRequest,
  masterSecret,
  requestTags,
  resourceTags,
  STAND_IN,
} from './requests.js';
import type { Deployment } from './template.js';

/** A request that must be denied, and the promise it protects. */
export interface ExpectedDenial {
  role: string;
  request: IamRequest;
}

/** A request a compromised role can still make: allowed, and stated as such in the README. */
export type KnownResidual = ExpectedDenial;

export const OTHER_ACCOUNT = '999988887777';
export const OTHER_REGION = 'ap-southeast-2';

const managed = (extra: Tags = {}): Tags => ({ [Tag.managed]: 'true', [Tag.source]: 'orders-db', ...extra });
const r = (action: string, resource: string, context: Context, label: string): IamRequest => ({
  action,
  resource,
  context,
  label,
});
const ownership = (tags: Tags) => ({ ...requestTags(tags), 'rds:TagsFromRequest': 'true' });

/**
 * The negative matrix of issue #9 for one deployment: every harmful request the roles could be asked to
 * make, each of which IAM must deny on its own (whatever the code would decide).
 */
export const negativeMatrix = (d: Deployment): ExpectedDenial[] => {
  const a = arns(d);
  const out: ExpectedDenial[] = [];
  const has = (role: string) => d.roles.has(role);
  const add = (role: string, ...requests: IamRequest[]) => {
    if (has(role)) for (const request of requests) out.push({ role, request });
  };
  const primary = d.region;
  const stewardSnap = snapshotId('orders-db', STAND_IN.snapshotTime, 'sched');
  const foreign = (arn: string) => arn.replace(`:${d.account}:`, `:${OTHER_ACCOUNT}:`);
  const elsewhere = (arn: string) => arn.replace(`:${primary}:`, `:${OTHER_REGION}:`);

  // --- Retention: never delete what steward did not create, never a held one.
  for (const [type, action, svc] of [
    ['snapshot', 'rds:DeleteDBSnapshot', 'rds'],
    ['cluster-snapshot', 'rds:DeleteDBClusterSnapshot', 'rds'],
    ['snapshot', 'elasticache:DeleteSnapshot', 'elasticache'],
  ] as const) {
    const arn = (name: string) => (svc === 'rds' ? a.rds(primary, type, name) : a.cache(primary, type, name));
    const automated =
      svc === 'rds' ? `rds:orders-db-${STAND_IN.automatedSuffix}` : `automatic.orders-redis-2026-01-15-03-05`;
    const cases: [string, string, Tags][] = [
      ['untagged steward-* snapshot', arn(stewardSnap), {}],
      ['held snapshot', arn(stewardSnap), managed({ [Tag.hold]: 'legal' })],
      ['steward:managed=false', arn(stewardSnap), { [Tag.managed]: 'false' }],
      ['snapshot not named steward-*', arn('orders-db-by-hand'), managed()],
      ['automated snapshot', arn(automated), {}],
      ['snapshot shared from another account', foreign(arn(stewardSnap)), managed()],
      ['snapshot in a region the config does not name', elsewhere(arn(stewardSnap)), managed()],
    ];
    for (const [why, res, tags] of cases) {
      add('retention', r(action, res, resourceTags(res, tags), `${action}: ${why}`));
    }
  }

  // --- EBS: delete only steward-managed, unheld snapshots in a swept region; snapshot only opted-in
  // instances and volumes, each new snapshot tagged steward:managed on creation; never retag a snapshot.
  const ebsSnap = (region: string) => a.ebsSnapshot(region, 'snap-0a1b2c3d4e5f60718');
  for (const [why, res, tags] of [
    ['untagged EBS snapshot', ebsSnap(primary), {}],
    ['held EBS snapshot', ebsSnap(primary), managed({ [Tag.hold]: 'legal' })],
    ['EBS snapshot with steward:managed=false', ebsSnap(primary), { [Tag.managed]: 'false' }],
    ['EBS snapshot in a region the config does not name', ebsSnap(OTHER_REGION), managed()],
  ] as const) {
    add('retention', r('ec2:DeleteSnapshot', res, resourceTags(res, tags), `ec2:DeleteSnapshot: ${why}`));
  }
  const instance = a.ec2('instance', 'i-0a1b2c3d4e5f60718');
  const volume = a.ec2('volume', 'vol-0a1b2c3d4e5f60718');
  add(
    'backup',
    r(
      'ec2:CreateSnapshots',
      instance,
      resourceTags(instance, {}),
      'ec2:CreateSnapshots: instance not opted in',
    ),
    r('ec2:CreateSnapshot', volume, resourceTags(volume, {}), 'ec2:CreateSnapshot: volume not opted in'),
    r(
      'ec2:CreateSnapshots',
      ebsSnap(primary),
      requestTags({ [Tag.source]: 'i-0a1b2c3d4e5f60718' }),
      'ec2:CreateSnapshots: new snapshots not tagged steward:managed',
    ),
    r(
      'ec2:CreateTags',
      ebsSnap(primary),
      { ...requestTags(managed()), ...resourceTags(ebsSnap(primary), {}) },
      'ec2:CreateTags: adopting an existing EBS snapshot (no ec2:CreateAction)',
    ),
  );

  // --- Ownership tags only at creation: no role adds or changes steward:managed / steward:source on
  // something that exists and carries them, or on something that is not named as steward names things.
  const existingSnapshot = a.rds(primary, 'snapshot', stewardSnap);
  const foreignNamed = a.rds(primary, 'snapshot', 'orders-db-by-hand');
  for (const role of ['backup', 'scaling', 'drill']) {
    add(
      role,
      r(
        'rds:AddTagsToResource',
        existingSnapshot,
        { ...ownership(managed()), ...resourceTags(existingSnapshot, { [Tag.managed]: 'false' }) },
        `${role}: adopt a snapshot marked steward:managed=false`,
      ),
      r(
        'rds:AddTagsToResource',
        existingSnapshot,
        { ...ownership(managed({ [Tag.source]: 'other-db' })), ...resourceTags(existingSnapshot, managed()) },
        `${role}: change steward:source of a managed snapshot`,
      ),
      r(
        'rds:AddTagsToResource',
        foreignNamed,
        { ...ownership(managed()), ...resourceTags(foreignNamed, {}) },
        `${role}: adopt a hand-made snapshot`,
      ),
      r(
        'rds:AddTagsToResource',
        a.rds(primary, 'db', 'orders-db'),
        {
          ...ownership(managed()),
          ...resourceTags(a.rds(primary, 'db', 'orders-db'), { [Tag.backup]: 'daily' }),
        },
        `${role}: mark a production database as steward's`,
      ),
    );
  }
  const cacheSnap = a.cache(primary, 'snapshot', stewardSnap);
  add(
    'backup',
    r(
      'elasticache:AddTagsToResource',
      cacheSnap,
      { ...requestTags(managed()), ...resourceTags(cacheSnap, { [Tag.managed]: 'false' }) },
      'backup: adopt a cache snapshot marked steward:managed=false',
    ),
  );

  const rules = d.config.scaling.enabled ? namedRules(d.config.scaling) : [];
  for (const rule of rules.filter((x) => x.action.type === 'rds.addReadReplica')) {
    const suffix = rule.kind === 'aurora-cluster' ? 'reader' : 'replica';
    const replica = a.rds(primary, 'db', nextReplicaId(rule.resource, [], suffix));
    add(
      'scaling',
      r(
        'rds:AddTagsToResource',
        replica,
        { ...ownership(managed()), ...resourceTags(replica, { [Tag.managed]: 'false' }) },
        `scaling: adopt ${suffix} marked steward:managed=false`,
      ),
      r('rds:DeleteDBInstance', replica, resourceTags(replica, {}), `scaling: delete an untagged ${suffix}`),
      r(
        'rds:DeleteDBInstance',
        replica,
        resourceTags(replica, { [Tag.managed]: 'false' }),
        `scaling: delete a ${suffix} marked steward:managed=false`,
      ),
    );
  }

  // --- Drills restore only configured targets, into steward-drill-*, and delete only drill databases.
  const targets = Object.entries(d.config.drill.targets);
  if (d.config.drill.enabled && targets.length) {
    const other = 'billing-db';
    const subnetGroup = a.rds(primary, 'subgrp', `steward-${d.config.stage}-drill`);
    const newDb = a.rds(primary, 'db', drillTargetId(other, 'exec-1'));
    const tags = { [Tag.managed]: 'true', [Tag.drill]: 'exec-1' };
    const restore = 'rds:RestoreDBInstanceFromDBSnapshot';
    add(
      'drill',
      r(
        restore,
        a.rds(primary, 'snapshot', snapshotId(other, STAND_IN.snapshotTime, 'sched')),
        requestTags(tags),
        'drill: restore a steward snapshot of a database that is not a target',
      ),
      r(
        restore,
        a.rds(primary, 'snapshot', `rds:${other}-${STAND_IN.automatedSuffix}`),
        requestTags(tags),
        'drill: restore an automated snapshot of a database that is not a target',
      ),
      r(
        restore,
        a.rds(primary, 'snapshot', 'someone-elses-snapshot'),
        requestTags(tags),
        'drill: restore an arbitrary snapshot',
      ),
      r(
        'rds:RestoreDBInstanceToPointInTime',
        a.rds(primary, 'db', other),
        requestTags(tags),
        'drill: point-in-time restore of a database that is not a target',
      ),
      r(
        'rds:RestoreDBClusterFromSnapshot',
        a.rds(primary, 'cluster-snapshot', snapshotId(other, STAND_IN.snapshotTime, 'sched')),
        requestTags(tags),
        'drill: restore a cluster snapshot of a cluster that is not a target',
      ),
      r(
        'rds:RestoreDBClusterToPointInTime',
        a.rds(primary, 'cluster', other),
        requestTags(tags),
        'drill: point-in-time restore of a cluster that is not a target',
      ),
      r(
        restore,
        a.rds(primary, 'db', 'orders-db-copy'),
        requestTags(tags),
        'drill: restore into a database not named steward-drill-*',
      ),
      r(restore, newDb, requestTags({}), 'drill: restore without steward:managed=true'),
      r(
        restore,
        a.rds(primary, 'subgrp', 'default'),
        requestTags(tags),
        'drill: restore outside the isolated drill subnet group',
      ),
      r(
        'rds:DeleteDBInstance',
        newDb,
        resourceTags(newDb, { [Tag.managed]: 'true' }),
        'drill: delete an instance without steward:drill',
      ),
      r(
        'rds:DeleteDBInstance',
        a.rds(primary, 'db', 'orders-db'),
        resourceTags(a.rds(primary, 'db', 'orders-db'), {}),
        'drill: delete a production instance',
      ),
      r(
        'rds:DeleteDBCluster',
        a.rds(primary, 'cluster', drillTargetId(other, 'exec-1')),
        resourceTags(a.rds(primary, 'cluster', drillTargetId(other, 'exec-1')), { [Tag.managed]: 'true' }),
        'drill: delete a cluster without steward:drill',
      ),
      r(
        'rds:DeleteDBCluster',
        a.rds(primary, 'cluster', 'ledger-cluster'),
        resourceTags(a.rds(primary, 'cluster', 'ledger-cluster'), {}),
        'drill: delete a production cluster',
      ),
      r(
        'dynamodb:PutItem',
        a.table(`steward-${d.config.stage}-state`),
        { 'dynamodb:LeadingKeys': ['scaling-cooldown#rds-instance:orders-db'] },
        'drill: write a scaling item of the shared state table',
      ),
      // The relay to the DR region's cache verifier reaches that one function only.
      ...[
        `arn:${d.partition}:lambda:${d.config.dr.region}:${d.account}:function:steward-${d.config.stage}-backup`,
        `arn:${d.partition}:lambda:${primary}:${d.account}:function:steward-${d.config.stage}-drill-verify-cache`,
        `arn:${d.partition}:lambda:${d.config.dr.region}:${OTHER_ACCOUNT}:function:steward-${d.config.stage}-drill-verify-cache`,
      ].map((fn) => r('lambda:InvokeFunction', fn, {}, `drill: invoke ${fn}`)),
      r(
        's3:PutObject',
        `arn:${d.partition}:s3:::${d.functions.get('drill')?.environment.REPORT_BUCKET}/other/x.json`,
        {},
        'drill: write outside reports/ and baselines/',
      ),
      r(
        restore,
        elsewhere(subnetGroup),
        requestTags(tags),
        'drill: restore in a region the config does not name',
      ),
      r(
        'rds-db:connect',
        dbUser(d, 'rds-instance', 'steward_verifier'),
        {},
        'drill: log in to a database (only the verifier, inside the VPC, does)',
      ),
    );
    const billingSecret = masterSecret(d, other, 'rds-instance');
    add(
      'drill-verify',
      r(
        'secretsmanager:GetSecretValue',
        billingSecret.arn,
        resourceTags(billingSecret.arn, billingSecret.tags),
        'verifier: read the master secret of a database that is not a target',
      ),
      r(
        'secretsmanager:GetSecretValue',
        a.secret('prod/payments/api-key-AbCdEf'),
        {},
        'verifier: read an application secret',
      ),
      r(
        'sns:Publish',
        `arn:${d.partition}:sns:${primary}:${d.account}:steward-${d.config.stage}-critical`,
        {},
        'verifier: publish (it never notifies)',
      ),
      r(
        'rds-db:connect',
        dbUser(d, 'rds-instance', 'postgres'),
        {},
        'verifier: log in as a role that is not a configured verifier role (the master user)',
      ),
    );
  }

  // --- The pager route: steward's pager events only, on the default bus only.
  if (d.config.notifications.pagerDuty) {
    const bus = (name: string) => `arn:${d.partition}:events:${primary}:${d.account}:event-bus/${name}`;
    const pager = { 'events:source': ['steward'], 'events:detail-type': ['Steward Pager Event'] };
    add(
      'report',
      r(
        'events:PutEvents',
        bus('default'),
        { ...pager, 'events:source': ['steward', 'aws.rds'] },
        'pager: an event posing as another source in the same batch',
      ),
      r(
        'events:PutEvents',
        bus('default'),
        { ...pager, 'events:detail-type': ['RDS DB Instance Event'] },
        'pager: another detail-type',
      ),
      r('events:PutEvents', bus('other-bus'), pager, 'pager: a bus other than the default'),
      r('events:PutEvents', bus('default'), {}, 'pager: a request without source or detail-type'),
    );
  }

  // --- Scaling touches only what a rule names, and only as the rule says.
  if (rules.length) {
    const scaleUp = rules.find((x) => x.action.type === 'rds.scaleUp');
    if (scaleUp) {
      const db = a.rds(primary, 'db', scaleUp.resource);
      add(
        'scaling',
        r(
          'rds:ModifyDBInstance',
          a.rds(primary, 'db', 'billing-db'),
          { 'rds:DatabaseClass': 'db.r6g.xlarge' },
          'scaling: modify a database no rule names',
        ),
        r(
          'rds:ModifyDBInstance',
          db,
          { 'rds:DatabaseClass': 'db.x2g.16xlarge' },
          'scaling: change to a class outside the ladder',
        ),
        r(
          'rds:ModifyDBInstance',
          db,
          {},
          'scaling: modify without changing the class (password, public access, deletion protection)',
        ),
        r(
          'rds:ModifyDBInstance',
          db,
          { 'rds:DatabaseClass': 'db.r6g.large', 'rds:ManageMasterUserPassword': 'true' },
          'scaling: switch master password management',
        ),
        r(
          'rds:ModifyDBInstance',
          a.rds(primary, 'og', 'attacker-options'),
          { 'rds:DatabaseClass': 'db.r6g.large' },
          'scaling: move the database to another option group',
        ),
        r(
          'rds:ModifyDBInstance',
          a.rds(primary, 'pg', 'attacker-params'),
          { 'rds:DatabaseClass': 'db.r6g.large' },
          'scaling: move the database to another parameter group',
        ),
        r(
          'rds:ModifyDBInstance',
          elsewhere(db),
          { 'rds:DatabaseClass': 'db.r6g.large' },
          'scaling: modify in a region the config does not name',
        ),
      );
    }
    add(
      'scaling',
      r(
        'rds:RebootDBInstance',
        a.rds(primary, 'db', 'billing-db'),
        {},
        'scaling: reboot a database no rule names',
      ),
      r(
        'rds:FailoverDBCluster',
        a.rds(primary, 'cluster', 'billing-cluster'),
        {},
        'scaling: fail over a cluster no rule names',
      ),
      r(
        'elasticache:TestFailover',
        a.cache(primary, 'replicationgroup', 'billing-redis'),
        {},
        'scaling: fail over a cache no rule names',
      ),
      r(
        'elasticache:ModifyReplicationGroupShardConfiguration',
        a.cache(primary, 'replicationgroup', 'billing-redis'),
        {},
        'scaling: reshard a cache no rule names',
      ),
      r(
        'rds:DeleteDBInstance',
        a.rds(primary, 'db', 'orders-db'),
        resourceTags(a.rds(primary, 'db', 'orders-db'), managed()),
        'scaling: delete a source database',
      ),
      r(
        'dynamodb:GetItem',
        a.table(`steward-${d.config.stage}-state`),
        { 'dynamodb:LeadingKeys': ['drill-token#steward-drill-x'] },
        'scaling: read a drill task token',
      ),
      // A transition's seen event and cooldown are read in one BatchGetItem (shared/aws/scaling-store.ts): only
      // scaling keys, only of the stage's own state table.
      r(
        'dynamodb:BatchGetItem',
        a.table(`steward-${d.config.stage}-state`),
        {
          'dynamodb:LeadingKeys': ['scaling-cooldown#rds-instance:orders-db', 'drill-token#steward-drill-x'],
        },
        'scaling: batch-read a drill task token beside a scaling key',
      ),
      r(
        'dynamodb:BatchGetItem',
        a.table(`steward-${d.config.stage}-other`),
        { 'dynamodb:LeadingKeys': ['scaling-cooldown#rds-instance:orders-db'] },
        "scaling: batch-read another table's scaling keys",
      ),
    );
  }

  // --- Backup: snapshots only of opted-in databases, copies only of its own, in the configured regions.
  const optedOut = a.rds(primary, 'db', 'billing-db');
  add(
    'backup',
    r(
      'rds:CreateDBSnapshot',
      optedOut,
      resourceTags(optedOut, {}),
      'backup: snapshot a database that did not opt in',
    ),
    r(
      'rds:CreateDBSnapshot',
      elsewhere(optedOut),
      resourceTags(elsewhere(optedOut), { [Tag.backup]: 'daily' }),
      'backup: snapshot in a region the config does not name',
    ),
    r(
      'rds:CreateDBSnapshot',
      foreign(optedOut),
      resourceTags(foreign(optedOut), { [Tag.backup]: 'daily' }),
      'backup: snapshot in an account the config does not name',
    ),
    r(
      'rds:CreateDBSnapshot',
      a.rds(primary, 'snapshot', 'not-steward-name'),
      requestTags(managed()),
      'backup: create a snapshot not named steward-*',
    ),
    r(
      'rds:DeleteDBSnapshot',
      existingSnapshot,
      resourceTags(existingSnapshot, managed()),
      'backup: delete a snapshot (retention deletes)',
    ),
  );
  const reports = d.functions.get('backup')?.environment.REPORT_BUCKET;
  if (reports) {
    add(
      'backup',
      r(
        's3:PutObject',
        `arn:${d.partition}:s3:::${reports}/drills/orders-db/2026/01/x.json`,
        {},
        'backup: overwrite a drill report (it writes runs/backup/ only)',
      ),
      r(
        's3:PutObject',
        `arn:${d.partition}:s3:::${reports}/runs/retention/2026-01-15/x.json`,
        {},
        "backup: write another capability's run reports",
      ),
      r(
        's3:GetObject',
        `arn:${d.partition}:s3:::${reports}/runs/backup/2026-01-15/x.json`,
        {},
        'backup: read reports (it only writes them)',
      ),
    );
  }
  const key = drKey(d);
  if (key && has('backup')) {
    add(
      'backup',
      r(
        'kms:Decrypt',
        key.arn,
        {
          'kms:CallerAccount': d.account,
          ...(key.aliases.length ? { 'kms:ResourceAliases': key.aliases } : {}),
        },
        'backup: use the DR key outside RDS',
      ),
      r(
        'kms:CreateGrant',
        key.arn,
        {
          'kms:ViaService': `rds.${d.config.dr.region}.amazonaws.com`,
          'kms:GrantIsForAWSResource': 'false',
          ...(key.aliases.length ? { 'kms:ResourceAliases': key.aliases } : {}),
        },
        'backup: grant the DR key to a principal that is not an AWS resource',
      ),
    );
  }
  // Regions: a call the config does not place in a region is refused even where the resource is "*".
  for (const role of ['backup', 'retention', 'drill', 'scaling']) {
    add(
      role,
      r(
        'rds:DescribeDBInstances',
        `arn:${d.partition}:rds:${OTHER_REGION}:${d.account}:db:*`,
        { 'aws:RequestedRegion': OTHER_REGION },
        `${role}: describe in a region the config does not name`,
      ),
    );
  }
  add(
    'retention',
    r(
      'dynamodb:UpdateItem',
      a.table(`steward-${d.config.stage}-state`),
      { 'dynamodb:LeadingKeys': ['scaling-cooldown#rds-instance:orders-db'] },
      'retention: write a scaling item of the shared state table',
    ),
  );
  add(
    'cost',
    r(
      'dynamodb:PutItem',
      a.table(`steward-${d.config.stage}-state`),
      { 'dynamodb:LeadingKeys': ['scaling-approval#x'] },
      'cost: write a scaling approval',
    ),
  );

  // --- Per-drill endpoints: only steward-tagged endpoints of the drill's services, in the drill VPC.
  add('drill', ...drillEndpointDenials(d));

  // --- Redis DR: only steward's exports and DR copies, only under steward's prefixes, only in this account.
  const exportBucket = d.functions.get('backup')?.environment.REDIS_EXPORT_BUCKET;
  const drBucket = d.functions.get('backup')?.environment.REDIS_DR_BUCKET;
  if (exportBucket && drBucket) {
    const s3 = (bucket: string, key = '') => `arn:${d.partition}:s3:::${bucket}${key ? `/${key}` : ''}`;
    const here = { 's3:ResourceAccount': d.account };
    const copy = `elasticache/sessions/${snapshotId('sessions', STAND_IN.snapshotTime, 'sched')}-0001.rdb`;
    add(
      'backup',
      r('s3:DeleteObject', s3(drBucket, copy), here, 'backup: delete a DR copy (retention deletes them)'),
      r(
        's3:DeleteObject',
        s3(exportBucket, 'someone-elses-dump.rdb'),
        here,
        'backup: delete an export not named steward-*',
      ),
      r(
        's3:PutObject',
        s3(drBucket, 'other/x.rdb'),
        here,
        'backup: write outside elasticache/ of the DR bucket',
      ),
      r(
        's3:ListMultipartUploadParts',
        s3(drBucket, 'other/x.rdb'),
        here,
        "backup: list an upload's parts outside elasticache/ of the DR bucket",
      ),
      r(
        's3:ListBucketMultipartUploads',
        s3(drBucket),
        { 's3:ResourceAccount': '999999999999' },
        'backup: list the open uploads of a bucket of that name in another account',
      ),
      r(
        's3:PutObject',
        s3(drBucket, copy),
        { 's3:ResourceAccount': OTHER_ACCOUNT },
        'backup: write a DR copy into a bucket of that name in another account',
      ),
      r(
        's3:PutObjectTagging',
        s3(drBucket, copy),
        { ...here, [`s3:RequestObjectTag/${Tag.managed}`]: 'false' },
        'backup: tag a DR copy as not steward-managed',
      ),
      r('s3:ListBucket', s3(drBucket), { ...here, 's3:prefix': '' }, 'backup: list the whole DR bucket'),
      r(
        's3:ListBucket',
        s3(drBucket),
        { ...here, 's3:prefix': 'other/' },
        'backup: list the DR bucket outside elasticache/',
      ),
      r(
        'elasticache:CopySnapshot',
        `arn:${d.partition}:elasticache:${primary}:${d.account}:snapshot:someone-elses-backup`,
        {},
        'backup: export a snapshot not named steward-*',
      ),
    );
    const retentionDr = d.functions.get('retention')?.environment.REDIS_DR_BUCKET;
    if (retentionDr)
      add(
        'retention',
        r(
          's3:DeleteObject',
          s3(retentionDr, 'other/x.rdb'),
          here,
          'retention: delete outside elasticache/ of the DR bucket',
        ),
        r(
          's3:DeleteObject',
          s3(exportBucket, `${stewardSnap}-0001.rdb`),
          here,
          'retention: delete an export',
        ),
        r(
          's3:DeleteObject',
          s3(retentionDr, copy),
          { 's3:ResourceAccount': OTHER_ACCOUNT },
          'retention: delete from a bucket of that name in another account',
        ),
        r('s3:PutObject', s3(retentionDr, copy), here, 'retention: write a DR copy'),
      );
  }
  return out;
};

/**
 * Per-drill endpoints (infra/drill-endpoints.ts), what the drill role (drill steps and janitor alike) must not
 * do: create an endpoint steward does not tag as a drill's, for a service no drill needs, or outside the drill
 * VPC, its subnets and endpoint groups; tag an endpoint after the fact; delete or modify one steward's drill did
 * not create; touch Route 53 (AWS manages an endpoint's private hosted zone); list another state machine.
 */
export const drillEndpointDenials = (d: Deployment): IamRequest[] => {
  const spec = drillEndpointSpec(d);
  if (!spec) return [];
  const a = arns(d);
  const [key, placement] = Object.entries(spec.endpoints)[0]!;
  const service = placement!.serviceName;
  const kms = `com.amazonaws.${d.region}.kms`;
  const endpoint = a.ec2('vpc-endpoint', 'vpce-0a1b2c3d4e5f60718');
  const ours: Tags = {
    [Tag.drillEndpoint]: key,
    [Tag.managed]: 'true',
    [Tag.createdBy]: 'drill',
    [Tag.drill]: 'exec-1',
  };
  const { [Tag.managed]: _m, ...noManaged } = ours;
  const { [Tag.drillEndpoint]: _k, ...noKey } = ours;
  const create = (tags: Tags, svc: string, why: string) =>
    r(
      'ec2:CreateVpcEndpoint',
      endpoint,
      { ...requestTags(tags), 'ec2:VpceServiceName': svc },
      `drill: create an endpoint ${why}`,
    );
  const remove = (tags: Tags, svc: string, why: string) =>
    r(
      'ec2:DeleteVpcEndpoints',
      endpoint,
      { ...resourceTags(endpoint, tags), 'ec2:VpceServiceName': svc },
      `drill: delete an endpoint ${why}`,
    );
  const elsewhere = (type: string, id: string, why: string) =>
    r('ec2:CreateVpcEndpoint', a.ec2(type, id), {}, `drill: create an endpoint ${why}`);
  return [
    create(noManaged, service, 'not tagged steward:managed'),
    create({ ...ours, [Tag.managed]: 'false' }, service, 'tagged steward:managed=false'),
    create(noKey, service, 'without steward:drill-endpoint'),
    create(
      { ...ours, [Tag.drillEndpoint]: 'anything' },
      service,
      'whose steward:drill-endpoint is no drill service',
    ),
    create(ours, kms, 'for a service no drill needs (KMS)'),
    create(
      ours,
      `com.amazonaws.vpce.${d.region}.vpce-svc-0a1b2c3d4e5f60718`,
      "to another account's endpoint service",
    ),
    r(
      'ec2:CreateVpcEndpoint',
      a.ec2In(OTHER_REGION, 'vpc-endpoint', 'vpce-0a1b2c3d4e5f60718'),
      { ...requestTags(ours), 'ec2:VpceServiceName': service.replace(d.region, OTHER_REGION) },
      'drill: create an endpoint in a region the config does not name',
    ),
    elsewhere('vpc', 'vpc-0a1b2c3d4e5f60718', 'in another VPC'),
    elsewhere('subnet', 'subnet-0a1b2c3d4e5f60718', 'in a subnet outside the drill VPC'),
    elsewhere(
      'security-group',
      'sg-0a1b2c3d4e5f60718',
      'behind a security group that is not an endpoint group',
    ),
    r(
      'ec2:CreateTags',
      endpoint,
      { ...requestTags(ours), ...resourceTags(endpoint, {}) },
      'drill: tag an existing endpoint as a drill endpoint (no ec2:CreateAction)',
    ),
    remove({}, service, 'that is untagged'),
    remove({ [Tag.managed]: 'true' }, service, 'tagged steward:managed only'),
    remove({ [Tag.drillEndpoint]: key }, service, 'tagged steward:drill-endpoint only'),
    remove({ ...ours, [Tag.managed]: 'false' }, service, 'tagged steward:managed=false'),
    remove(
      { ...ours, [Tag.drillEndpoint]: 'anything' },
      service,
      'whose steward:drill-endpoint is no drill service',
    ),
    remove(ours, kms, 'of a service no drill needs, tagged as a drill endpoint'),
    r(
      'ec2:ModifyVpcEndpoint',
      endpoint,
      resourceTags(endpoint, ours),
      'drill: modify an endpoint (its policy, subnets, private DNS)',
    ),
    r(
      'route53:AssociateVPCWithHostedZone',
      `arn:${d.partition}:route53:::hostedzone/Z0123456789ABCDEFGHIJ`,
      {},
      'drill: associate a VPC with a hosted zone (AWS manages the endpoint zone)',
    ),
    r(
      'states:ListExecutions',
      `arn:${d.partition}:states:${d.region}:${d.account}:stateMachine:steward-${d.config.stage}-other`,
      {},
      'drill: list the executions of another state machine',
    ),
  ];
};

/**
 * What IAM cannot tell apart from tag-on-create: adding ownership tags to a resource that exists but
 * carries no steward tag and is named as steward names its own. Asserted allowed, so the README's
 * statement of what a compromised role could still do stays true.
 */
export const knownResiduals = (d: Deployment): KnownResidual[] => {
  const a = arns(d);
  const out: KnownResidual[] = [];
  const stewardSnap = snapshotId('orders-db', STAND_IN.snapshotTime, 'sched');
  const snap = a.rds(d.region, 'snapshot', stewardSnap);
  if (
    d.roles.has('backup') &&
    Object.values(d.config.backup.policies).some((p) => p.kinds.includes('rds-instance'))
  ) {
    out.push({
      role: 'backup',
      request: r(
        'rds:AddTagsToResource',
        snap,
        { ...ownership(managed()), ...resourceTags(snap, {}) },
        'backup: add steward:managed=true to an untagged snapshot named steward-<db>-…',
      ),
    });
  }
  return out;
};
