import { snapshotId } from '../../shared/backup/ids.js';
import { cacheGroupOf, drCacheNetworkParameter, drillsCachesFromDr } from '../../shared/drill/cache-tasks.js';
import { drillTargetId, auroraWriterId, DRILL_PREFIX } from '../../shared/drill/ids.js';
import { VERIFIER_KIND, verifierTags } from '../../shared/drill/ebs-verifier.js';
import type { EndpointSpec } from '../../shared/drill/endpoints.js';
import { drillsVolumesFromDr } from '../../shared/drill/ebs-tasks.js';
import { drReadOnlyRegion, retentionRegions } from '../../shared/retention/policy.js';
import { ladderFor } from '../../shared/scaling/ladder.js';
import { nextReplicaId } from '../../shared/scaling/ids.js';
import type { NamedRule } from '../../shared/scaling/model.js';
import { namedRules } from '../../shared/scaling/request.js';
import { COST_EXPLORER_REGION } from '../../shared/aws/clients/cost-explorer.js';
import { COPY_QUEUE_PREFIX } from '../../shared/aws/copy-ledger.js';
import { FAST_RESTORES_KEY, VAULT_SHARES_PREFIX } from '../../shared/aws/drill-stores.js';
import { fanOutTargets, organizationalUnitTargets } from '../../shared/fleet/fan-out.js';
import {
  FLEET_CAPABILITIES,
  type FleetCapability,
  hasFanOut,
  hasSpokes,
  type SpokeCapability,
} from '../../shared/fleet/targets.js';
import {
  hasVault,
  VAULT_ROLE_HUB,
  VAULT_ROLES,
  vaultOf,
  vaultRoleArn,
  VaultTag,
  vaultTrustedHubRoleArn,
} from '../../shared/fleet/vault.js';
import { hasVaultDrills, hubDrillRoleArn, vaultDrillRoleArn } from '../../shared/fleet/vault-drill.js';
import { Tag, type Tags, tagRecord } from '../../shared/tags.js';
import type { RecordedCall } from '../support/sdk-recorder.js';
import { DR_RDB_PREFIX } from '../../shared/backup/cache-dr.js';
import { adapterOf } from './attribution.js';
import { App } from 'aws-cdk-lib';
import { SpokeStack, spokeStackId } from '../../infra/spoke.js';
import { drCacheVerifierName } from '../../infra/drill-network.js';
import { consistencyDocumentName, consistentPolicies, dumpLocations } from '../../infra/consistency.js';
import { type Deployment, type PolicyDocument, resolver, rolesOf } from './template.js';

/**
 * From a recorded SDK call to the IAM requests AWS authorizes for it in one deployment: the command's
 * own action on every resource it names (primary and secondary resource types), the extra actions AWS
 * checks (tag-on-create as `rds:AddTagsToResource`, the source-region half of a cross-region copy, KMS
 * grants for encrypted copies and restores, `iam:PassRole`, the key of an encrypted topic), and each
 * resource's tags as the code requires them to be when it makes the call.
 *
 * The call decides the command, which parameters are set and the request tags. Identifiers are bound to
 * the deployment: ids the code generates are kept when they have the code's shape (else generated with
 * the code's own id functions), ids the config decides (drill targets, scaling resources) are the
 * config's, and regions are the ones the role works in.
 */

export type Context = Record<string, string | string[]>;

export interface IamRequest {
  action: string;
  resource: string;
  /** Everything AWS could put in the request context; the simulation keeps what the action × resource carries. */
  context: Context;
  /** The resource's own policy, for a resource in another account (the DR key). */
  resourcePolicy?: PolicyDocument;
  /**
   * The account that owns the resource when its ARN names none (an EBS snapshot's ARN has no account: its
   * owner is `ec2:Owner`); by default the ARN's account, else the principal's.
   */
  resourceAccount?: string;
  /** `CreateDBSnapshot → rds:AddTagsToResource (tag on create)`: what the request is for, in the report. */
  label: string;
}

// Stand-ins for names the deployment does not decide (AWS's defaults, a customer managed key).
export const STAND_IN = {
  optionGroup: 'default:postgres-16',
  parameterGroup: 'default.postgres16',
  auroraOptionGroup: 'default:aurora-postgresql-16',
  auroraParameterGroup: 'default.aurora-postgresql16',
  clusterParameterGroup: 'default.aurora-postgresql16',
  sourceSubnetGroup: 'app-db-subnets',
  dataKeyId: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9',
  secretSuffix: 'AbCdEf',
  snapshotTime: new Date('2026-01-15T03:00:00Z'),
  automatedSuffix: '2026-01-15-03-05',
  // What AWS's public parameter resolves to at launch (the latest Amazon Linux 2023, owned by Amazon).
  amazonImage: 'ami-0a1b2c3d4e5f60718',
};

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
const input = (c: RecordedCall) => c.input as Record<string, unknown>;
const str = (c: RecordedCall, key: string): string | undefined => {
  const v = input(c)[key];
  return typeof v === 'string' ? v : undefined;
};
const tagsOf = (c: RecordedCall): Tags => tagRecord(input(c).Tags as { Key?: string; Value?: string }[]);

const RDS_TAG_PREFIX: Record<string, string> = {
  db: 'db',
  snapshot: 'snapshot',
  cluster: 'cluster',
  'cluster-snapshot': 'cluster-snapshot',
  og: 'og',
  pg: 'pg',
  'cluster-pg': 'cluster-pg',
  subgrp: 'subgrp',
};

/** Context keys of a request that carries tags for the new resource. */
export const requestTags = (tags: Tags): Context => {
  const out: Context = { 'aws:TagKeys': Object.keys(tags) };
  for (const [k, v] of Object.entries(tags)) {
    out[`aws:RequestTag/${k}`] = v;
    out[`rds:req-tag/${k}`] = v;
  }
  return out;
};

/** Context keys of an existing resource's tags, under every name the services use for them. */
export const resourceTags = (arn: string, tags: Tags): Context => {
  const out: Context = {};
  const type = arn.split(':')[5];
  for (const [k, v] of Object.entries(tags)) {
    out[`aws:ResourceTag/${k}`] = v;
    if (type && RDS_TAG_PREFIX[type]) out[`rds:${RDS_TAG_PREFIX[type]}-tag/${k}`] = v;
  }
  return out;
};

/** The deployment's ARNs. */
export const arns = (d: Deployment) => {
  const a = (service: string, region: string, rest: string) =>
    `arn:${d.partition}:${service}:${region}:${d.account}:${rest}`;
  return {
    rds: (region: string, type: string, name: string) => a('rds', region, `${type}:${name}`),
    cache: (region: string, type: string, name: string) => a('elasticache', region, `${type}:${name}`),
    key: (region: string, id = STAND_IN.dataKeyId) => a('kms', region, `key/${id}`),
    table: (name: string) => a('dynamodb', d.region, `table/${name}`),
    secret: (name: string) => a('secretsmanager', d.region, `secret:${name}`),
    ec2: (type: string, id: string) => a('ec2', d.region, `${type}/${id}`),
    ec2In: (region: string, type: string, id: string) => a('ec2', region, `${type}/${id}`),
    // EBS snapshot ARNs name no account (Service Authorization Reference).
    ebsSnapshot: (region: string, id: string) => `arn:${d.partition}:ec2:${region}::snapshot/${id}`,
  };
};

/** A listing call (no identifier): AWS authorizes it on `type:*`; only a statement covering every name allows it. */
export const ANY = '*';

const req = (action: string, resource: string, context: Context, label: string): IamRequest => ({
  action,
  resource,
  context,
  label,
});

/** The KMS half of RDS using a key for a new encrypted resource: a grant for RDS, and the key's metadata. */
const rdsKeyUse = (
  d: Deployment,
  region: string,
  keyArn: string,
  label: string,
  policy?: PolicyDocument,
  service: 'rds' | 'ec2' = 'rds',
) =>
  ['kms:CreateGrant', 'kms:DescribeKey'].map((action) => ({
    ...req(
      action,
      keyArn,
      {
        'kms:ViaService': `${service}.${region}.amazonaws.com`,
        'kms:CallerAccount': d.account,
        ...(action === 'kms:CreateGrant' ? { 'kms:GrantIsForAWSResource': 'true' } : {}),
      },
      `${label} → ${action}`,
    ),
    ...(policy ? { resourcePolicy: policy } : {}),
  }));

/** Regions a role works in: where its list and describe calls go. */
export const roleRegions = (d: Deployment, role: string): string[] => {
  const copies = Object.values(d.config.backup.policies).some((p) => p.copyToDr);
  switch (role) {
    case 'backup':
      return copies ? [d.region, d.config.dr.region] : [d.region];
    case 'retention': {
      const drOnly = drReadOnlyRegion(d.config);
      return drOnly ? [...retentionRegions(d.config), drOnly] : retentionRegions(d.config);
    }
    case 'cost':
      return [COST_EXPLORER_REGION];
    default:
      return [d.region];
  }
};

/** The DR key as IAM sees it: its ARN (an alias names a key whose id is known only at deploy time). */
export const drKey = (d: Deployment): { arn: string; aliases: string[] } | undefined => {
  const k = d.config.dr.kmsKeyArn;
  if (!k) return undefined;
  const [, , , region, account, resource] = k.split(':') as string[];
  if (resource!.startsWith('alias/')) {
    return {
      arn: `arn:${d.partition}:kms:${region}:${account}:key/${STAND_IN.dataKeyId}`,
      aliases: [resource!],
    };
  }
  return { arn: k, aliases: [] };
};

type Binder = (c: RecordedCall, d: Deployment, role: string, drKeyPolicy?: PolicyDocument) => IamRequest[];

const drillTargets = (d: Deployment, kind: 'rds-instance' | 'aurora-cluster') =>
  Object.entries(d.config.drill.targets)
    .filter(([, t]) => t.kind === kind)
    .map(([db, t]) => ({ db: db.toLowerCase(), target: t }));

/** Snapshots a drill may restore for a target: steward's, AWS's automated ones, and the configured id. */
export const drillSnapshotIds = (db: string, target: { snapshot: unknown }): { id: string; tags: Tags }[] => [
  {
    id: snapshotId(db, STAND_IN.snapshotTime, 'sched'),
    tags: { [Tag.managed]: 'true', [Tag.source]: db, [Tag.policy]: 'daily', [Tag.createdBy]: 'backup' },
  },
  { id: `rds:${db}-${STAND_IN.automatedSuffix}`, tags: {} },
  ...(typeof target.snapshot === 'object' && target.snapshot && 'id' in target.snapshot
    ? [{ id: String((target.snapshot as { id: string }).id), tags: {} }]
    : []),
];

/** The Redis drills of a deployment: name, replication group and target. */
const cacheDrills = (d: Deployment) =>
  Object.entries(d.config.drill.caches).map(([name, target]) => ({
    name,
    group: cacheGroupOf(name, target),
    target,
  }));

/** Snapshots a Redis drill may restore: steward's, ElastiCache's automatic one, and a configured id. */
const cacheSnapshotIds = (group: string, target: { snapshot: unknown }): string[] => [
  snapshotId(group, STAND_IN.snapshotTime, 'sched'),
  `automatic.${group}-${STAND_IN.automatedSuffix}`,
  ...(typeof target.snapshot === 'object' && target.snapshot && 'id' in target.snapshot
    ? [String((target.snapshot as { id: string }).id)]
    : []),
];

const drillId = (c: RecordedCall, key: string, db: string) => {
  const id = str(c, key);
  return id?.startsWith(DRILL_PREFIX) ? id : drillTargetId(db, 'exec-1');
};

const rulesOf = (
  d: Deployment,
  type: NamedRule['action']['type'],
  kind?: NamedRule['kind'],
  scaleIn = false,
) =>
  d.config.scaling.enabled
    ? namedRules(d.config.scaling).filter(
        (r) => r.action.type === type && (!kind || r.kind === kind) && (!scaleIn || r.scaleIn.enabled),
      )
    : [];

const tagOnCreate = (resource: string, tags: Tags, label: string): IamRequest[] =>
  Object.keys(tags).length
    ? [
        req(
          'rds:AddTagsToResource',
          resource,
          { ...requestTags(tags), 'rds:TagsFromRequest': 'true' },
          `${label} → rds:AddTagsToResource (tag on create)`,
        ),
      ]
    : [];

/** Every role in the input (`*RoleArn`) is passed to the service: AWS checks iam:PassRole. */
const passRoles = (c: RecordedCall): IamRequest[] =>
  Object.entries(input(c))
    .filter(([k, v]) => /RoleArn$/i.test(k) && typeof v === 'string')
    .map(([k, v]) => req('iam:PassRole', v as string, {}, `${c.command} → iam:PassRole (${k})`));

/**
 * The spoke's template as the StackSet deploys it (infra/spoke.ts spokeTemplate: its own app, no cdk.json
 * context), synthesized once per deployment and without CDK's CloudFormation validation, which the infra tests
 * run on it (test/infra/fleet.test.ts): starting that engine took 6 s of the IAM suite's CPU for a trust policy.
 */
const spokeTemplates = new WeakMap<Deployment, Parameters<typeof rolesOf>[0]>();
const spokeTemplateOf = (d: Deployment) => {
  let template = spokeTemplates.get(d);
  if (!template) {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new SpokeStack(app, spokeStackId(d.config.stage), { config: d.config });
    template = app.synth().getStackByName(stack.stackName).template as Parameters<typeof rolesOf>[0];
    spokeTemplates.set(d, template);
  }
  return template;
};

/** The trust policy of a spoke role of `capability` as deployed in `account` and `region` (cached per deployment). */
const spokeTrusts = new WeakMap<Deployment, Map<string, PolicyDocument>>();
const spokeTrust = (
  d: Deployment,
  capability: SpokeCapability,
  account: string,
  region: string,
): PolicyDocument => {
  let trusts = spokeTrusts.get(d);
  if (!trusts) spokeTrusts.set(d, (trusts = new Map()));
  const key = `${capability} ${account} ${region}`;
  let trust = trusts.get(key);
  if (!trust) {
    const template = spokeTemplateOf(d);
    const roles = rolesOf(template, d.config.stage, account, region);
    const id = Object.entries(template.Resources).find(
      ([, r]) =>
        r.Type === 'AWS::IAM::Role' &&
        JSON.stringify(r.Properties?.RoleName).includes(`spoke-${capability}-`),
    )![0];
    trusts.set(key, (trust = roles.get(id)!.trust));
  }
  return trust;
};

/** Where the fan-out's Map Runs export their children's results (infra/fan-out.ts). */
const FLEET_RESULTS = 'fleet/';
const isFleetCapability = (role: string): role is FleetCapability =>
  (FLEET_CAPABILITIES as readonly string[]).includes(role);

/** A hub role with a spoke role: the fan-out's, and scaling when the stage has scaling rules. */
const hasSpokeRole = (d: Deployment, role: string): role is SpokeCapability =>
  isFleetCapability(role) ||
  (role === 'scaling' && d.config.scaling.enabled && namedRules(d.config.scaling).length > 0);

/** ListAccountsForParent / ListChildren on one parent (an OU or the root) of the fleet's organization. */
const listOrganization = (c: RecordedCall, d: Deployment, role: string): IamRequest[] => {
  const org = d.config.fleet?.organizationId;
  const parent = str(c, 'ParentId') ?? '';
  if (!org || !hasSpokeRole(d, role) || !organizationalUnitTargets(d.config).length) return [];
  const kind = parent.startsWith('r-') ? 'root' : 'ou';
  return [
    req(
      `organizations:${c.command}`,
      `arn:${d.partition}:organizations::${d.account}:${kind}/${org}/${parent}`,
      {},
      `${c.command} (${parent})`,
    ),
  ];
};

const getObject = (d: Deployment, key: string): IamRequest[] => [
  req(
    's3:GetObject',
    `arn:${d.partition}:s3:::${reportBucket(d)}/${key}`,
    {},
    `GetObject (${key.split('/')[0]}/)`,
  ),
  // A missing key is a 404 (NoSuchKey, which the code treats as "no baseline yet") only with ListBucket.
  req(
    's3:ListBucket',
    `arn:${d.partition}:s3:::${reportBucket(d)}`,
    {},
    'GetObject → s3:ListBucket (404 for a missing key)',
  ),
];

const BINDERS: Record<string, Binder> = {
  // ------------------------------------------------------------------ RDS reads
  'RDSClient:DescribeDBInstances': (c, d, role) => {
    const a = arns(d);
    const id = str(c, 'DBInstanceIdentifier');
    if (role === 'scaling') {
      // One scaled instance by id; Aurora members by the db-cluster-id filter (a listing).
      if (!id)
        return rulesWithResources(d, 'aurora-cluster').length
          ? [
              req(
                'rds:DescribeDBInstances',
                a.rds(d.region, 'db', ANY),
                {},
                'DescribeDBInstances (cluster members)',
              ),
            ]
          : [];
      return [
        ...rulesWithResources(d, 'rds-instance').map((r) =>
          req('rds:DescribeDBInstances', a.rds(d.region, 'db', r), {}, 'DescribeDBInstances'),
        ),
        // Read-replica rules: the tags and status of each replica named like steward's, by id.
        ...rulesOf(d, 'rds.addReadReplica', 'rds-instance').map((r) => {
          const replica = nextReplicaId(r.resource, [], 'replica');
          return req(
            'rds:DescribeDBInstances',
            a.rds(d.region, 'db', replica),
            {},
            `DescribeDBInstances (tags and status of ${replica})`,
          );
        }),
      ];
    }
    return roleRegions(d, role).map((r) =>
      req(
        'rds:DescribeDBInstances',
        a.rds(r, 'db', id ?? ANY),
        {},
        `DescribeDBInstances${id ? '' : ' (all)'}`,
      ),
    );
  },
  'RDSClient:DescribeDBClusters': (c, d, role) => {
    const a = arns(d);
    const id = str(c, 'DBClusterIdentifier');
    if (role === 'scaling')
      return rulesWithResources(d, 'aurora-cluster').map((r) =>
        req('rds:DescribeDBClusters', a.rds(d.region, 'cluster', r), {}, 'DescribeDBClusters'),
      );
    return roleRegions(d, role).map((r) =>
      req(
        'rds:DescribeDBClusters',
        a.rds(r, 'cluster', id ?? ANY),
        {},
        `DescribeDBClusters${id ? '' : ' (all)'}`,
      ),
    );
  },
  'RDSClient:DescribeDBSnapshots': (c, d, role) => {
    const a = arns(d);
    const db = str(c, 'DBInstanceIdentifier');
    const id = str(c, 'DBSnapshotIdentifier');
    // Backup's DR copy reconcile of one database (an RDS event): its snapshots, or the one the event names.
    if (role === 'backup' && (db || id))
      return roleRegions(d, role).map((r) =>
        db
          ? req('rds:DescribeDBSnapshots', a.rds(r, 'db', db), {}, 'DescribeDBSnapshots (of one database)')
          : req('rds:DescribeDBSnapshots', a.rds(r, 'snapshot', id!), {}, 'DescribeDBSnapshots (one)'),
      );
    if (db)
      return drillTargets(d, 'rds-instance').map((t) =>
        req('rds:DescribeDBSnapshots', a.rds(d.region, 'db', t.db), {}, 'DescribeDBSnapshots (of a target)'),
      );
    return roleRegions(d, role).map((r) =>
      req('rds:DescribeDBSnapshots', a.rds(r, 'snapshot', ANY), {}, 'DescribeDBSnapshots (all)'),
    );
  },
  'RDSClient:DescribeDBClusterSnapshots': (c, d, role) => {
    const a = arns(d);
    const cluster = str(c, 'DBClusterIdentifier');
    const id = str(c, 'DBClusterSnapshotIdentifier');
    if (role === 'backup' && (cluster || id))
      return roleRegions(d, role).map((r) =>
        cluster
          ? req(
              'rds:DescribeDBClusterSnapshots',
              a.rds(r, 'cluster', cluster),
              {},
              'DescribeDBClusterSnapshots (of one cluster)',
            )
          : req(
              'rds:DescribeDBClusterSnapshots',
              a.rds(r, 'cluster-snapshot', id!),
              {},
              'DescribeDBClusterSnapshots (one)',
            ),
      );
    if (cluster)
      return drillTargets(d, 'aurora-cluster').map((t) =>
        req(
          'rds:DescribeDBClusterSnapshots',
          a.rds(d.region, 'cluster', t.db),
          {},
          'DescribeDBClusterSnapshots (of a target)',
        ),
      );
    if (id)
      return drillTargets(d, 'aurora-cluster').flatMap((t) =>
        drillSnapshotIds(t.db, t.target).map((s) =>
          req(
            'rds:DescribeDBClusterSnapshots',
            a.rds(d.region, 'cluster-snapshot', s.id),
            resourceTags(a.rds(d.region, 'cluster-snapshot', s.id), s.tags),
            'DescribeDBClusterSnapshots (one)',
          ),
        ),
      );
    return roleRegions(d, role).map((r) =>
      req(
        'rds:DescribeDBClusterSnapshots',
        a.rds(r, 'cluster-snapshot', ANY),
        {},
        'DescribeDBClusterSnapshots (all)',
      ),
    );
  },
  'RDSClient:DescribeDBInstanceAutomatedBackups': (_c, d) =>
    drillTargets(d, 'rds-instance').map((t) =>
      req(
        'rds:DescribeDBInstanceAutomatedBackups',
        arns(d).rds(d.region, 'db', t.db),
        {},
        'DescribeDBInstanceAutomatedBackups',
      ),
    ),
  'RDSClient:DescribeAccountAttributes': (_c, d, role) =>
    roleRegions(d, role).map((r) =>
      req('rds:DescribeAccountAttributes', '*', { 'aws:RequestedRegion': r }, 'DescribeAccountAttributes'),
    ),

  // ------------------------------------------------------------------ Backup
  'RDSClient:CreateDBSnapshot': (c, d) => {
    if (!backsUp(d, 'rds-instance')) return [];
    const a = arns(d);
    const db = a.rds(d.region, 'db', str(c, 'DBInstanceIdentifier')!);
    const snap = a.rds(d.region, 'snapshot', str(c, 'DBSnapshotIdentifier')!);
    const tags = tagsOf(c);
    // The code snapshots only databases tagged steward:backup (opt-in).
    return [
      req(
        'rds:CreateDBSnapshot',
        db,
        resourceTags(db, { [Tag.backup]: 'daily' }),
        'CreateDBSnapshot (source db)',
      ),
      req('rds:CreateDBSnapshot', snap, requestTags(tags), 'CreateDBSnapshot (new snapshot)'),
      ...tagOnCreate(snap, tags, 'CreateDBSnapshot'),
    ];
  },
  'RDSClient:CreateDBClusterSnapshot': (c, d) => {
    if (!backsUp(d, 'aurora-cluster')) return [];
    const a = arns(d);
    const cluster = a.rds(d.region, 'cluster', str(c, 'DBClusterIdentifier')!);
    const snap = a.rds(d.region, 'cluster-snapshot', str(c, 'DBClusterSnapshotIdentifier')!);
    const tags = tagsOf(c);
    return [
      req(
        'rds:CreateDBClusterSnapshot',
        cluster,
        resourceTags(cluster, { [Tag.backup]: 'daily' }),
        'CreateDBClusterSnapshot (source cluster)',
      ),
      req('rds:CreateDBClusterSnapshot', snap, requestTags(tags), 'CreateDBClusterSnapshot (new snapshot)'),
      ...tagOnCreate(snap, tags, 'CreateDBClusterSnapshot'),
    ];
  },
  // The vault flow's re-encryption (shared/aws/vault.ts) copies within the region; every other copy goes to DR.
  'RDSClient:CopyDBSnapshot': (c, d, _role, policy) =>
    fromVaultDrill(c)
      ? copyVaultCopyForDrill(c, d)
      : fromVaultShares(c)
        ? reencryptForVault(c, d, 'snapshot', 'rds:CopyDBSnapshot')
        : copy(c, d, 'snapshot', 'rds:CopyDBSnapshot', policy),
  'RDSClient:CopyDBClusterSnapshot': (c, d, _role, policy) =>
    fromVaultShares(c)
      ? reencryptForVault(c, d, 'cluster-snapshot', 'rds:CopyDBClusterSnapshot')
      : copy(c, d, 'cluster-snapshot', 'rds:CopyDBClusterSnapshot', policy),
  'RDSClient:ModifyDBSnapshotAttribute': (c, d) =>
    shareWithVault(c, d, 'snapshot', 'DBSnapshotIdentifier', 'rds:ModifyDBSnapshotAttribute'),
  'RDSClient:ModifyDBClusterSnapshotAttribute': (c, d) =>
    shareWithVault(
      c,
      d,
      'cluster-snapshot',
      'DBClusterSnapshotIdentifier',
      'rds:ModifyDBClusterSnapshotAttribute',
    ),
  'EC2Client:ModifySnapshotAttribute': (c, d) => shareSetPartWithVault(c, d),
  'RDSClient:DescribeDBSnapshotAttributes': (c, d) =>
    readVaultCopyShares(c, d, 'snapshot', 'DBSnapshotIdentifier', 'rds:DescribeDBSnapshotAttributes'),
  'RDSClient:DescribeDBClusterSnapshotAttributes': (c, d) =>
    readVaultCopyShares(
      c,
      d,
      'cluster-snapshot',
      'DBClusterSnapshotIdentifier',
      'rds:DescribeDBClusterSnapshotAttributes',
    ),
  'EC2Client:DescribeSnapshotAttribute': (c, d) =>
    readVaultCopyShares(c, d, 'ebs', 'SnapshotId', 'ec2:DescribeSnapshotAttribute'),
  'ElastiCacheClient:DescribeReplicationGroups': (c, d, role) => {
    const a = arns(d);
    const id = str(c, 'ReplicationGroupId');
    if (role === 'scaling')
      return rulesWithResources(d, 'elasticache').map((g) =>
        req(
          'elasticache:DescribeReplicationGroups',
          a.cache(d.region, 'replicationgroup', g),
          {},
          'DescribeReplicationGroups',
        ),
      );
    // The drill function reads ElastiCache only for Redis drills (wired when drill.caches has any).
    if (role === 'drill' && !cacheDrills(d).length) return [];
    return roleRegions(d, role).map((r) =>
      req(
        'elasticache:DescribeReplicationGroups',
        a.cache(r, 'replicationgroup', id ?? ANY),
        {},
        'DescribeReplicationGroups (all)',
      ),
    );
  },
  // Serverless caches are listed wherever replication groups are (backup, report), never by the drill or scaling.
  'ElastiCacheClient:DescribeServerlessCaches': (_c, d, role) =>
    role === 'drill' || role === 'scaling'
      ? []
      : roleRegions(d, role).map((r) =>
          req(
            'elasticache:DescribeServerlessCaches',
            arns(d).cache(r, 'serverlesscache', ANY),
            {},
            'DescribeServerlessCaches (all)',
          ),
        ),
  'ElastiCacheClient:DescribeServerlessCacheSnapshots': (_c, d, role) =>
    (role === 'drill' ? [] : roleRegions(d, role))
      .filter((r) => r === d.region)
      .map((r) =>
        req(
          'elasticache:DescribeServerlessCacheSnapshots',
          arns(d).cache(r, 'serverlesscachesnapshot', ANY),
          {},
          'DescribeServerlessCacheSnapshots (all)',
        ),
      ),
  'ElastiCacheClient:ListTagsForResource': (c, d, role) => {
    if (role === 'drill' && !cacheDrills(d).length) return [];
    const a = arns(d);
    const [t, n] = (str(c, 'ResourceName') ?? '').split(':').slice(5) as [string?, string?];
    // Tags of a replication group (backup discovery) or of a steward snapshot (retention inventory).
    const fromSnapshots = c.frames.some((f) => f.startsWith('shared/aws/snapshots.ts'));
    const [type, name] =
      t && n
        ? [t, n]
        : fromSnapshots
          ? ['snapshot', steward(undefined)]
          : ['replicationgroup', 'sessions-redis'];
    return roleRegions(d, role).map((r) =>
      req('elasticache:ListTagsForResource', a.cache(r, type, name), {}, `ListTagsForResource (${type})`),
    );
  },
  'ElastiCacheClient:DescribeSnapshots': (_c, d, role) =>
    (role === 'drill' && !cacheDrills(d).length ? [] : roleRegions(d, role))
      .filter((r) => r === d.region)
      .map((r) =>
        req(
          'elasticache:DescribeSnapshots',
          arns(d).cache(r, 'snapshot', ANY),
          {},
          'DescribeSnapshots (all)',
        ),
      ),
  // tag:GetResources has no resource type and no condition key: authorized on `*` in the region it is sent to.
  'ResourceGroupsTaggingAPIClient:GetResources': (_c, d, role) =>
    roleRegions(d, role)
      .filter((r) => r === d.region)
      .map((r) =>
        req(
          'tag:GetResources',
          '*',
          { 'aws:RequestedRegion': r },
          'GetResources (ElastiCache snapshot tags)',
        ),
      ),
  'ElastiCacheClient:CreateSnapshot': (c, d) => {
    if (!backsUp(d, 'elasticache')) return [];
    const a = arns(d);
    const group = a.cache(d.region, 'replicationgroup', str(c, 'ReplicationGroupId')!);
    const snap = a.cache(d.region, 'snapshot', str(c, 'SnapshotName')!);
    const tags = tagsOf(c);
    return [
      req(
        'elasticache:CreateSnapshot',
        group,
        { ...requestTags(tags), ...resourceTags(group, { [Tag.backup]: 'daily' }) },
        'CreateSnapshot (replication group)',
      ),
      req('elasticache:CreateSnapshot', snap, requestTags(tags), 'CreateSnapshot (new snapshot)'),
      req(
        'elasticache:AddTagsToResource',
        snap,
        requestTags(tags),
        'CreateSnapshot → elasticache:AddTagsToResource (tag on create)',
      ),
    ];
  },

  'ElastiCacheClient:CreateServerlessCacheSnapshot': (c, d) => {
    if (!backsUp(d, 'elasticache')) return [];
    const a = arns(d);
    const cache = a.cache(d.region, 'serverlesscache', str(c, 'ServerlessCacheName')!);
    const snap = a.cache(d.region, 'serverlesscachesnapshot', str(c, 'ServerlessCacheSnapshotName')!);
    const tags = tagsOf(c);
    return [
      req(
        'elasticache:CreateServerlessCacheSnapshot',
        cache,
        { ...requestTags(tags), ...resourceTags(cache, { [Tag.backup]: 'daily' }) },
        'CreateServerlessCacheSnapshot (serverless cache)',
      ),
      req(
        'elasticache:CreateServerlessCacheSnapshot',
        snap,
        requestTags(tags),
        'CreateServerlessCacheSnapshot (new snapshot)',
      ),
      req(
        'elasticache:AddTagsToResource',
        snap,
        requestTags(tags),
        'CreateServerlessCacheSnapshot → elasticache:AddTagsToResource (tag on create)',
      ),
    ];
  },

  // ------------------------------------------------------------------ EBS
  'EC2Client:DescribeInstances': (_c, d, role) =>
    (role === 'backup' || role === 'report') && backsUp(d, 'ebs')
      ? [req('ec2:DescribeInstances', '*', { 'aws:RequestedRegion': d.region }, 'DescribeInstances (tagged)')]
      : // The EBS verifier's guard before terminating, and the janitor's sweep (infra/ebs-verifier.ts).
        verifierNetworkOf(d, role)
        ? [
            req(
              'ec2:DescribeInstances',
              '*',
              { 'aws:RequestedRegion': d.region },
              'DescribeInstances (verifiers)',
            ),
          ]
        : [],
  'EC2Client:DescribeVolumes': (_c, d, role) =>
    (role === 'backup' || role === 'report') && backsUp(d, 'ebs')
      ? [req('ec2:DescribeVolumes', '*', { 'aws:RequestedRegion': d.region }, 'DescribeVolumes (tagged)')]
      : // The EBS drill watches the volumes it restored (infra/ebs-drill.ts).
        role === 'drill' && drillsEbs(d)
        ? ebsDrillRegions(d).map((r) =>
            req(
              'ec2:DescribeVolumes',
              '*',
              { 'aws:RequestedRegion': r },
              `DescribeVolumes (drill volumes in ${r})`,
            ),
          )
        : [],
  // The EBS drill reads which snapshots had fast snapshot restore on before it (shared/aws/ebs-drill.ts).
  'EC2Client:DescribeFastSnapshotRestores': (_c, d, role) =>
    role === 'drill' && drillsEbs(d)
      ? ebsDrillRegions(d).map((r) =>
          req(
            'ec2:DescribeFastSnapshotRestores',
            '*',
            { 'aws:RequestedRegion': r },
            `DescribeFastSnapshotRestores (drill snapshots in ${r})`,
          ),
        )
      : [],
  'EC2Client:DescribeSnapshots': (_c, d, role) =>
    role === 'retention' ||
    ((role === 'backup' || role === 'report') && backsUp(d, 'ebs')) ||
    // The EBS drill picks the set to restore (infra/ebs-drill.ts).
    (role === 'drill' && drillsEbs(d))
      ? roleRegions(d, role).map((r) =>
          req('ec2:DescribeSnapshots', '*', { 'aws:RequestedRegion': r }, 'DescribeSnapshots (steward sets)'),
        )
      : [],
  'EC2Client:CreateSnapshots': (c, d) => {
    if (!backsUp(d, 'ebs')) return [];
    const a = arns(d);
    const spec = input(c).InstanceSpecification as { InstanceId?: string } | undefined;
    const instance = a.ec2('instance', spec?.InstanceId ?? 'i-0a1b2c3d4e5f60718');
    const tags = ebsTagsOf(c);
    const snap = a.ebsSnapshot(d.region, '*');
    return [
      req(
        'ec2:CreateSnapshots',
        instance,
        resourceTags(instance, { [Tag.backup]: 'daily' }),
        'CreateSnapshots (opted-in instance)',
      ),
      // Its attached volumes need no tag of their own.
      req(
        'ec2:CreateSnapshots',
        a.ec2('volume', 'vol-0a1b2c3d4e5f60718'),
        {},
        'CreateSnapshots (attached volume)',
      ),
      req('ec2:CreateSnapshots', snap, requestTags(tags), 'CreateSnapshots (new snapshots)'),
      ebsTagOnCreate(snap, tags, 'CreateSnapshots'),
    ];
  },
  'EC2Client:CreateSnapshot': (c, d) => {
    if (!backsUp(d, 'ebs')) return [];
    const a = arns(d);
    const volume = a.ec2('volume', str(c, 'VolumeId') ?? 'vol-0a1b2c3d4e5f60718');
    const tags = ebsTagsOf(c);
    const snap = a.ebsSnapshot(d.region, '*');
    return [
      req(
        'ec2:CreateSnapshot',
        volume,
        resourceTags(volume, { [Tag.backup]: 'daily' }),
        'CreateSnapshot (opted-in volume)',
      ),
      req('ec2:CreateSnapshot', snap, requestTags(tags), 'CreateSnapshot (new snapshot)'),
      ebsTagOnCreate(snap, tags, 'CreateSnapshot'),
    ];
  },
  'EC2Client:CopySnapshot': (c, d, _role, policy) => {
    if (!backsUp(d, 'ebs', true)) return [];
    const a = arns(d);
    const dr = d.config.dr.region;
    const tags = ebsTagsOf(c);
    const { [Tag.copiedFrom]: _from, [Tag.volume]: _v, [Tag.takenAt]: _t, ...sourceTags } = tags;
    const target = a.ebsSnapshot(dr, '*');
    const source = a.ebsSnapshot(d.region, str(c, 'SourceSnapshotId') ?? 'snap-0a1b2c3d4e5f60718');
    const key = drKey(d);
    return [
      req('ec2:CopySnapshot', target, requestTags(tags), 'CopySnapshot (new copy, DR region)'),
      req(
        'ec2:CopySnapshot',
        source,
        { ...requestTags(tags), ...resourceTags(source, sourceTags), 'aws:RequestedRegion': d.region },
        'CopySnapshot (source snapshot)',
      ),
      ebsTagOnCreate(target, tags, 'CopySnapshot'),
      ...(str(c, 'KmsKeyId') && key
        ? rdsKeyUse(d, dr, key.arn, 'CopySnapshot (DR key)', policy, 'ec2').map((r) => ({
            ...r,
            context: { ...r.context, ...(key.aliases.length ? { 'kms:ResourceAliases': key.aliases } : {}) },
          }))
        : []),
    ];
  },
  'EC2Client:DeleteSnapshot': (c, d, role) =>
    (role === 'retention' ? retentionRegions(d.config) : roleRegions(d, role)).map((r) => {
      const arn = arns(d).ebsSnapshot(r, str(c, 'SnapshotId') ?? 'snap-0a1b2c3d4e5f60718');
      return req(
        'ec2:DeleteSnapshot',
        arn,
        resourceTags(arn, managedSnapshotTags(snapshotId('app-host', STAND_IN.snapshotTime, 'sched'))),
        `DeleteSnapshot (expired EBS set part, ${r === d.region ? 'primary' : 'DR'})`,
      );
    }),

  // ------------------------------------------------------------------ Retention
  'RDSClient:DeleteDBSnapshot': (c, d, role) =>
    fromVaultDrill(c)
      ? deleteDrillCopy(c, d)
      : fromVaultShares(c)
        ? dropReencrypted(c, d, 'snapshot', 'rds:DeleteDBSnapshot', 'DBSnapshotIdentifier')
        : deletes(c, d, role, 'snapshot', 'rds:DeleteDBSnapshot', 'DBSnapshotIdentifier'),
  'RDSClient:DeleteDBClusterSnapshot': (c, d, role) =>
    fromVaultShares(c)
      ? dropReencrypted(
          c,
          d,
          'cluster-snapshot',
          'rds:DeleteDBClusterSnapshot',
          'DBClusterSnapshotIdentifier',
        )
      : deletes(c, d, role, 'cluster-snapshot', 'rds:DeleteDBClusterSnapshot', 'DBClusterSnapshotIdentifier'),
  'ElastiCacheClient:DeleteServerlessCacheSnapshot': (c, d) => {
    const id = steward(str(c, 'ServerlessCacheSnapshotName'));
    const arn = arns(d).cache(d.region, 'serverlesscachesnapshot', id);
    return [
      req(
        'elasticache:DeleteServerlessCacheSnapshot',
        arn,
        resourceTags(arn, managedSnapshotTags(id)),
        'DeleteServerlessCacheSnapshot (expired, managed)',
      ),
    ];
  },
  'ElastiCacheClient:DeleteSnapshot': (c, d) => {
    const id = steward(str(c, 'SnapshotName'));
    const arn = arns(d).cache(d.region, 'snapshot', id);
    return [
      req(
        'elasticache:DeleteSnapshot',
        arn,
        resourceTags(arn, managedSnapshotTags(id)),
        'DeleteSnapshot (expired, managed)',
      ),
    ];
  },

  // ------------------------------------------------------------------ Drill
  'RDSClient:RestoreDBInstanceFromDBSnapshot': (c, d) =>
    str(c, 'DBSnapshotIdentifier')?.startsWith(DRILL_PREFIX)
      ? restoreFromVault(c, d, 'rds-instance')
      : drillTargets(d, 'rds-instance').flatMap((t) =>
          drillSnapshotIds(t.db, t.target).flatMap((s) => {
            const a = arns(d);
            const db = a.rds(d.region, 'db', drillId(c, 'DBInstanceIdentifier', t.db));
            const snap = a.rds(d.region, 'snapshot', s.id);
            const tags = tagsOf(c);
            const action = 'rds:RestoreDBInstanceFromDBSnapshot';
            const label = `RestoreDBInstanceFromDBSnapshot (${t.db}, ${s.id.startsWith('rds:') ? 'automated' : s.id.startsWith('steward-') ? 'steward' : 'configured id'})`;
            return [
              req(action, db, requestTags(tags), `${label} new db`),
              req(
                action,
                snap,
                { ...requestTags(tags), ...resourceTags(snap, s.tags) },
                `${label} source snapshot`,
              ),
              ...restoreGroups(d, c, action, requestTags(tags), label, false),
              ...tagOnCreate(db, tags, label),
              ...rdsKeyUse(d, d.region, a.key(d.region), label),
            ];
          }),
        ),
  // Redis drills: the new group (tag on create), its nodes, the drill network's groups, the source snapshot
  // (steward's, ElastiCache's automatic one, a configured one) or, from the DR copy, nothing ElastiCache
  // authorizes (the RDB files are read by the service through the DR bucket's policy).
  'ElastiCacheClient:CreateReplicationGroup': (c, d) =>
    cacheDrills(d).flatMap((t) => {
      const a = arns(d);
      const id = drillId(c, 'ReplicationGroupId', t.name);
      const region = t.target.from === 'dr' ? d.config.dr.region : d.region;
      const group = a.cache(region, 'replicationgroup', id);
      const tags = tagsOf(c);
      const action = 'elasticache:CreateReplicationGroup';
      const label = `CreateReplicationGroup (drill of ${t.name}${t.target.from === 'dr' ? ' from the DR copy' : ''})`;
      const group$ = `steward-${d.config.stage}-drill`;
      return [
        req(action, group, requestTags(tags), `${label} new group`),
        req(action, a.cache(region, 'cluster', `${id}-001`), {}, `${label} node`),
        req(action, a.cache(region, 'subnetgroup', group$), {}, `${label} subnet group`),
        req(action, a.cache(region, 'parametergroup', 'default.redis7'), {}, `${label} parameter group`),
        ...(t.target.auth === 'iam'
          ? [req(action, a.cache(region, 'usergroup', group$), {}, `${label} user group`)]
          : []),
        ...(t.target.from === 'dr'
          ? []
          : cacheSnapshotIds(t.group, t.target).map((snap) =>
              req(action, a.cache(region, 'snapshot', snap), {}, `${label} source snapshot ${snap}`),
            )),
        req('elasticache:AddTagsToResource', group, requestTags(tags), `${label} → tag on create`),
      ];
    }),
  'ElastiCacheClient:DeleteReplicationGroup': (c, d) =>
    cacheDrills(d).map((t) => {
      const region = t.target.from === 'dr' ? d.config.dr.region : d.region;
      const group = arns(d).cache(region, 'replicationgroup', drillId(c, 'ReplicationGroupId', t.name));
      return req(
        'elasticache:DeleteReplicationGroup',
        group,
        resourceTags(group, drillTags(t.group)),
        `DeleteReplicationGroup (drill of ${t.name})`,
      );
    }),
  'RDSClient:RestoreDBInstanceToPointInTime': (c, d) =>
    drillTargets(d, 'rds-instance').flatMap((t) => {
      const a = arns(d);
      const db = a.rds(d.region, 'db', drillId(c, 'TargetDBInstanceIdentifier', t.db));
      const source = a.rds(d.region, 'db', t.db);
      const tags = tagsOf(c);
      const action = 'rds:RestoreDBInstanceToPointInTime';
      const label = `RestoreDBInstanceToPointInTime (${t.db})`;
      return [
        req(action, db, requestTags(tags), `${label} new db`),
        req(action, source, requestTags(tags), `${label} source db`),
        ...restoreGroups(d, c, action, requestTags(tags), label, false),
        ...tagOnCreate(db, tags, label),
        ...rdsKeyUse(d, d.region, a.key(d.region), label),
      ];
    }),
  'RDSClient:RestoreDBClusterFromSnapshot': (c, d) =>
    str(c, 'SnapshotIdentifier')?.startsWith('arn:')
      ? restoreFromVault(c, d, 'aurora-cluster')
      : drillTargets(d, 'aurora-cluster').flatMap((t) =>
          drillSnapshotIds(t.db, t.target).flatMap((s) => {
            const a = arns(d);
            const cluster = a.rds(d.region, 'cluster', drillId(c, 'DBClusterIdentifier', t.db));
            const snap = a.rds(d.region, 'cluster-snapshot', s.id);
            const tags = tagsOf(c);
            const action = 'rds:RestoreDBClusterFromSnapshot';
            const label = `RestoreDBClusterFromSnapshot (${t.db}, ${s.id.startsWith('rds:') ? 'automated' : s.id.startsWith('steward-') ? 'steward' : 'configured id'})`;
            return [
              req(action, cluster, requestTags(tags), `${label} new cluster`),
              req(
                action,
                snap,
                { ...requestTags(tags), ...resourceTags(snap, s.tags) },
                `${label} source snapshot`,
              ),
              ...restoreGroups(d, c, action, requestTags(tags), label, true),
              ...tagOnCreate(cluster, tags, label),
              ...rdsKeyUse(d, d.region, a.key(d.region), label),
            ];
          }),
        ),
  'RDSClient:RestoreDBClusterToPointInTime': (c, d) =>
    drillTargets(d, 'aurora-cluster').flatMap((t) => {
      const a = arns(d);
      const cluster = a.rds(d.region, 'cluster', drillId(c, 'DBClusterIdentifier', t.db));
      const source = a.rds(d.region, 'cluster', t.db);
      const tags = tagsOf(c);
      const action = 'rds:RestoreDBClusterToPointInTime';
      const label = `RestoreDBClusterToPointInTime (${t.db})`;
      return [
        req(action, cluster, requestTags(tags), `${label} new cluster`),
        req(action, source, requestTags(tags), `${label} source cluster`),
        ...restoreGroups(d, c, action, requestTags(tags), label, true),
        ...tagOnCreate(cluster, tags, label),
        ...rdsKeyUse(d, d.region, a.key(d.region), label),
      ];
    }),
  'RDSClient:CreateDBInstance': (c, d, role) => {
    const a = arns(d);
    const tags = tagsOf(c);
    const action = 'rds:CreateDBInstance';
    const ctx = {
      ...requestTags(tags),
      ...(str(c, 'DBInstanceClass') ? { 'rds:DatabaseClass': str(c, 'DBInstanceClass')! } : {}),
    };
    const groups = (label: string) => [
      req(action, a.rds(d.region, 'og', STAND_IN.auroraOptionGroup), ctx, `${label} option group`),
      req(action, a.rds(d.region, 'pg', STAND_IN.auroraParameterGroup), ctx, `${label} parameter group`),
    ];
    if (role === 'drill') {
      // The writer of a drill's Aurora cluster: the cluster is the drill's own, tagged when it was restored.
      return drillTargets(d, 'aurora-cluster').flatMap((t) => {
        const clusterId = drillId(c, 'DBClusterIdentifier', t.db);
        const cluster = a.rds(d.region, 'cluster', clusterId);
        const db = a.rds(d.region, 'db', auroraWriterId(clusterId));
        const label = `CreateDBInstance (writer of drill cluster for ${t.db})`;
        return [
          req(action, db, ctx, `${label} new instance`),
          req(action, cluster, { ...ctx, ...resourceTags(cluster, drillTags(t.db)) }, `${label} cluster`),
          ...groups(label),
          ...tagOnCreate(db, tags, label),
        ];
      });
    }
    // Scaling: a reader for each Aurora cluster a rule adds readers to.
    return rulesOf(d, 'rds.addReadReplica', 'aurora-cluster').flatMap((r) => {
      const cluster = a.rds(d.region, 'cluster', r.resource);
      const db = a.rds(d.region, 'db', nextReplicaId(r.resource, [], 'reader'));
      const label = `CreateDBInstance (reader of ${r.resource})`;
      return [
        req(action, db, ctx, `${label} new instance`),
        req(action, cluster, ctx, `${label} cluster`),
        ...groups(label),
        ...tagOnCreate(db, tags, label),
      ];
    });
  },
  'RDSClient:DeleteDBInstance': (c, d, role) => {
    const a = arns(d);
    if (role === 'drill') {
      return [...drillTargets(d, 'rds-instance'), ...drillTargets(d, 'aurora-cluster')].map((t) => {
        const id = drillId(c, 'DBInstanceIdentifier', t.db);
        const db = a.rds(
          d.region,
          'db',
          t.target.kind === 'aurora-cluster' && !id.endsWith('-w') ? auroraWriterId(id) : id,
        );
        return req(
          'rds:DeleteDBInstance',
          db,
          resourceTags(db, drillTags(t.db)),
          `DeleteDBInstance (drill ${t.target.kind === 'aurora-cluster' ? 'writer' : 'instance'} of ${t.db})`,
        );
      });
    }
    // Scaling scale-in: steward's newest replica or reader, tagged when it was created.
    return [
      ...rulesOf(d, 'rds.addReadReplica', 'rds-instance', true).map(
        (r) => [r, nextReplicaId(r.resource, [], 'replica')] as const,
      ),
      ...rulesOf(d, 'rds.addReadReplica', 'aurora-cluster', true).map(
        (r) => [r, nextReplicaId(r.resource, [], 'reader')] as const,
      ),
    ].map(([r, id]) => {
      const db = a.rds(d.region, 'db', id);
      return req(
        'rds:DeleteDBInstance',
        db,
        resourceTags(db, replicaTags(r.resource, r.name)),
        `DeleteDBInstance (scale-in ${id})`,
      );
    });
  },
  'RDSClient:DeleteDBCluster': (c, d) =>
    drillTargets(d, 'aurora-cluster').map((t) => {
      const cluster = arns(d).rds(d.region, 'cluster', drillId(c, 'DBClusterIdentifier', t.db));
      return req(
        'rds:DeleteDBCluster',
        cluster,
        resourceTags(cluster, drillTags(t.db)),
        `DeleteDBCluster (drill cluster of ${t.db})`,
      );
    }),
  'DynamoDBDocumentClient:Put': (c, d) =>
    dynamo(c, d, 'dynamodb:PutItem', (input(c).Item as { pk?: string })?.pk),
  'DynamoDBDocumentClient:Get': (c, d) =>
    dynamo(c, d, 'dynamodb:GetItem', (input(c).Key as { pk?: string })?.pk),
  'DynamoDBDocumentClient:Delete': (c, d) =>
    dynamo(c, d, 'dynamodb:DeleteItem', (input(c).Key as { pk?: string })?.pk),
  'DynamoDBDocumentClient:Update': (c, d) =>
    dynamo(c, d, 'dynamodb:UpdateItem', (input(c).Key as { pk?: string })?.pk),
  // A Query on an index: the resource is the index, the leading key its partition key's value.
  'DynamoDBDocumentClient:Query': (c, d) => {
    const index = str(c, 'IndexName');
    const values = Object.values((input(c).ExpressionAttributeValues ?? {}) as Record<string, unknown>);
    const partition = values.find((v): v is string => typeof v === 'string');
    return [
      req(
        'dynamodb:Query',
        `${arns(d).table(stateTable(d))}${index ? `/index/${index}` : ''}`,
        partition ? { 'dynamodb:LeadingKeys': [partition] } : {},
        `Query (${index ?? 'table'})`,
      ),
    ];
  },
  'DynamoDBDocumentClient:BatchGet': (c, d) => {
    const items =
      Object.values(input(c).RequestItems as Record<string, { Keys: { pk: string }[] }>)[0]?.Keys ?? [];
    return [
      req(
        'dynamodb:BatchGetItem',
        arns(d).table(stateTable(d)),
        { 'dynamodb:LeadingKeys': items.map((k) => k.pk) },
        'BatchGetItem',
      ),
    ];
  },
  // Redis DR (shared/aws/cache-dr.ts): the backup role exports and copies, the retention role lists and
  // deletes DR copies, the drill role lists and reads (HeadObject) them for a drill `from: dr`; the buckets are
  // the ones each function's environment names.
  'ElastiCacheClient:CopySnapshot': (c, d, role) => {
    const b = redisBuckets(d, role);
    if (!b.export) return [];
    const snap = (name: string | undefined) =>
      `arn:${d.partition}:elasticache:${d.region}:${d.account}:snapshot:${steward(name)}`;
    const source = snap(str(c, 'SourceSnapshotName'));
    const target = snap(str(c, 'TargetSnapshotName'));
    return [
      req('elasticache:CopySnapshot', source, {}, 'CopySnapshot (export: source snapshot)'),
      ...(target !== source
        ? [req('elasticache:CopySnapshot', target, {}, 'CopySnapshot (export: target name)')]
        : []),
      // ElastiCache API permissions reference: the caller of an export needs these two as well.
      req('s3:ListAllMyBuckets', '*', {}, 'CopySnapshot → s3:ListAllMyBuckets'),
      req(
        's3:GetBucketLocation',
        bucketArnOf(d, b.export),
        inAccount(d),
        'CopySnapshot → s3:GetBucketLocation',
      ),
    ];
  },
  'S3Client:CopyObject': (c, d, role, drKeyPolicy) => {
    const b = redisBuckets(d, role);
    if (!b.export || !b.dr) return [];
    const dest = objectArnOf(d, b.dr, rdbKey(c, 'Key'));
    const tags = objectTags(str(c, 'Tagging'));
    return [
      req('s3:PutObject', dest, { ...inAccount(d), ...tags }, 'CopyObject (to DR)'),
      req('s3:PutObjectTagging', dest, { ...inAccount(d), ...tags }, 'CopyObject → s3:PutObjectTagging'),
      req('s3:GetObject', copySourceArn(d, c), inAccount(d), 'CopyObject (the export)'),
      ...drKeyViaS3(d, ['kms:GenerateDataKey'], 'CopyObject', drKeyPolicy),
    ];
  },
  'S3Client:CreateMultipartUpload': (c, d, role, drKeyPolicy) => {
    const b = redisBuckets(d, role);
    if (!b.dr) return [];
    const dest = objectArnOf(d, b.dr, rdbKey(c, 'Key'));
    const tags = objectTags(str(c, 'Tagging'));
    return [
      req('s3:PutObject', dest, { ...inAccount(d), ...tags }, 'CreateMultipartUpload (to DR)'),
      req(
        's3:PutObjectTagging',
        dest,
        { ...inAccount(d), ...tags },
        'CreateMultipartUpload → s3:PutObjectTagging',
      ),
      ...drKeyViaS3(d, ['kms:GenerateDataKey'], 'CreateMultipartUpload', drKeyPolicy),
    ];
  },
  'S3Client:UploadPartCopy': (c, d, role, drKeyPolicy) => {
    const b = redisBuckets(d, role);
    if (!b.export || !b.dr) return [];
    return [
      req('s3:PutObject', objectArnOf(d, b.dr, rdbKey(c, 'Key')), inAccount(d), 'UploadPartCopy (to DR)'),
      req('s3:GetObject', copySourceArn(d, c), inAccount(d), 'UploadPartCopy (a range of the export)'),
      ...drKeyViaS3(d, ['kms:GenerateDataKey'], 'UploadPartCopy', drKeyPolicy),
    ];
  },
  'S3Client:CompleteMultipartUpload': (c, d, role, drKeyPolicy) => {
    const b = redisBuckets(d, role);
    if (!b.dr) return [];
    return [
      req('s3:PutObject', objectArnOf(d, b.dr, rdbKey(c, 'Key')), inAccount(d), 'CompleteMultipartUpload'),
      ...drKeyViaS3(d, ['kms:Decrypt'], 'CompleteMultipartUpload', drKeyPolicy),
    ];
  },
  'S3Client:AbortMultipartUpload': (c, d, role) => {
    const b = redisBuckets(d, role);
    if (!b.dr) return [];
    return [
      req(
        's3:AbortMultipartUpload',
        objectArnOf(d, b.dr, rdbKey(c, 'Key')),
        inAccount(d),
        'AbortMultipartUpload',
      ),
    ];
  },
  // A multipart copy resumed by a later run: the DR key's open uploads (bucket level) and one upload's parts.
  'S3Client:ListMultipartUploads': (c, d, role) => {
    const b = redisBuckets(d, role);
    if (!b.dr) return [];
    return [
      req(
        's3:ListBucketMultipartUploads',
        bucketArnOf(d, b.dr),
        { 's3:prefix': rdbKey(c, 'Prefix') ?? '', ...inAccount(d) },
        'ListMultipartUploads (DR)',
      ),
    ];
  },
  'S3Client:ListParts': (c, d, role) => {
    const b = redisBuckets(d, role);
    if (!b.dr) return [];
    return [
      req(
        's3:ListMultipartUploadParts',
        objectArnOf(d, b.dr, rdbKey(c, 'Key')),
        inAccount(d),
        'ListParts (DR)',
      ),
    ];
  },
  // The backup role cleans exports; the retention role deletes DR copies (only steward's prefix).
  'S3Client:DeleteObject': (c, d, role) => {
    if (isDumpCall(c)) {
      const o = dumpObjectOf(c, d);
      return o ? [req('s3:DeleteObject', o, inAccount(d), 'DeleteObject (a dump object)')] : [];
    }
    const b = redisBuckets(d, role);
    const bucket = role === 'retention' ? b.dr : b.export;
    if (!bucket) return [];
    return [
      req(
        's3:DeleteObject',
        objectArnOf(d, bucket, rdbKey(c, 'Key')),
        inAccount(d),
        `DeleteObject (${role})`,
      ),
    ];
  },
  'S3Client:GetObjectTagging': (c, d, role) => {
    if (isDumpCall(c)) {
      const o = dumpObjectOf(c, d);
      return o ? [req('s3:GetObjectTagging', o, inAccount(d), 'GetObjectTagging (a dump object)')] : [];
    }
    const b = redisBuckets(d, role);
    if (!b.dr) return [];
    return [
      req(
        's3:GetObjectTagging',
        objectArnOf(d, b.dr, rdbKey(c, 'Key')),
        inAccount(d),
        'GetObjectTagging (DR copy)',
      ),
    ];
  },
  // HeadObject is authorized as s3:GetObject: the drill reads a DR copy's sizing facts.
  'S3Client:HeadObject': (c, d, role) => {
    const b = redisBuckets(d, role);
    if (!b.dr) return [];
    return [
      req('s3:GetObject', objectArnOf(d, b.dr, rdbKey(c, 'Key')), inAccount(d), 'HeadObject (DR copy facts)'),
    ];
  },
  'S3Client:PutObject': (c, d) => [
    req(
      's3:PutObject',
      `arn:${d.partition}:s3:::${reportBucket(d)}/${str(c, 'Key')}`,
      {},
      `PutObject (${str(c, 'Key')?.split('/')[0]}/)`,
    ),
  ],
  'S3Client:GetObject': (c, d, role) => {
    const key = str(c, 'Key') ?? '';
    // A fan-out's summary reads its own capability's Map Run export: only a stage with spokes has one.
    if (key.startsWith(FLEET_RESULTS)) {
      if (!hasSpokeRole(d, role) || !hasFanOut(d.config, role)) return [];
      return getObject(d, `${FLEET_RESULTS}${role}/${key.split('/').slice(2).join('/')}`);
    }
    return getObject(d, key);
  },
  'S3Client:ListObjectsV2': (c, d, role) => {
    // Retention lists each dump bucket under its configured prefix (none when the prefix is empty).
    if (isDumpCall(c)) {
      const l = dumpLocationOf(c, d);
      if (!l) return [];
      return [
        req(
          's3:ListBucket',
          bucketArnOf(d, l.bucket),
          l.prefix ? { 's3:prefix': l.prefix } : {},
          `ListObjectsV2 (dumps under ${l.prefix || 'the bucket'})`,
        ),
      ];
    }
    // Redis DR lists the export bucket (no prefix) and the DR bucket (its own prefix).
    if (adapterOf(c)?.startsWith('shared/aws/cache-dr.ts#')) {
      const b = redisBuckets(d, role);
      const prefix = rdbKey(c, 'Prefix') ?? '';
      const bucket = prefix.startsWith(DR_RDB_PREFIX) ? b.dr : b.export;
      if (!bucket) return [];
      return [
        req(
          's3:ListBucket',
          bucketArnOf(d, bucket),
          { 's3:prefix': prefix, ...inAccount(d) },
          `ListObjectsV2 (Redis DR, ${prefix || 'exports'})`,
        ),
      ];
    }
    return [
      req(
        's3:ListBucket',
        `arn:${d.partition}:s3:::${reportBucket(d)}`,
        { 's3:prefix': str(c, 'Prefix') ?? '' },
        `ListObjectsV2 (${str(c, 'Prefix') ?? ''})`,
      ),
    ];
  },
  // ------------------------------------------------------------------ EBS drill volumes (infra/ebs-drill.ts)
  // A snapshot ARN names no account (arn:aws:ec2:<region>::snapshot/<id>); steward's carry steward:managed.
  // In each region the drill restores in: the stage's, and the DR region's with a target `from: dr`.
  'EC2Client:CreateVolume': (c, d) =>
    ebsDrillRegions(d).flatMap((region) => {
      const snapshot = arns(d).ebsSnapshot(region, str(c, 'SnapshotId') ?? 'snap-0');
      const specs = list(input(c).TagSpecifications as { Tags?: { Key?: string; Value?: string }[] }[]);
      const tags = tagRecord(specs.flatMap((t) => t.Tags ?? []));
      const volume = arns(d).ec2In(region, 'volume', '*');
      const context = { ...requestTags(tags), 'ec2:Region': region };
      const label = region === d.region ? 'CreateVolume' : `CreateVolume in ${region} (from: dr)`;
      return [
        req(
          'ec2:CreateVolume',
          snapshot,
          resourceTags(snapshot, { [Tag.managed]: 'true' }),
          `${label} (snapshot)`,
        ),
        req('ec2:CreateVolume', volume, context, `${label} (new volume)`),
        req(
          'ec2:CreateTags',
          volume,
          { ...context, 'ec2:CreateAction': 'CreateVolume' },
          `${label} → ec2:CreateTags (tag on create)`,
        ),
      ];
    }),
  'EC2Client:DeleteVolume': (c, d) =>
    ebsDrillRegions(d).map((region) => {
      const volume = arns(d).ec2In(region, 'volume', str(c, 'VolumeId') ?? 'vol-0');
      const tags = { [Tag.drill]: 'drill-1', [Tag.managed]: 'true' };
      return req(
        'ec2:DeleteVolume',
        volume,
        resourceTags(volume, tags),
        `DeleteVolume (a drill volume${region === d.region ? '' : ` in ${region}`})`,
      );
    }),
  ...Object.fromEntries(
    (['EnableFastSnapshotRestores', 'DisableFastSnapshotRestores'] as const).map((command) => [
      `EC2Client:${command}`,
      ((c: RecordedCall, d: Deployment) =>
        ebsDrillRegions(d).flatMap((region) =>
          list(input(c).SourceSnapshotIds as string[] | undefined).map((id) => {
            const snapshot = arns(d).ebsSnapshot(region, id);
            return req(
              `ec2:${command}`,
              snapshot,
              resourceTags(snapshot, { [Tag.managed]: 'true' }),
              `${command}${region === d.region ? '' : ` in ${region}`}`,
            );
          }),
        )) satisfies Binder,
    ]),
  ),
  // A drill from the DR copies restores in the DR region's first available zone (shared/aws/ebs-drill.ts).
  'EC2Client:DescribeAvailabilityZones': (_c, d, role) =>
    role === 'drill' && drillsVolumesFromDr(d.config)
      ? [
          req(
            'ec2:DescribeAvailabilityZones',
            '*',
            { 'aws:RequestedRegion': d.config.dr.region },
            'DescribeAvailabilityZones (the DR zone)',
          ),
        ]
      : [],
  // ------------------------------------------------------------------ EBS drill verifier (infra/ebs-verifier.ts)
  // RunInstances is authorized on every resource it uses or creates: the image (resolved from AWS's public
  // parameter, so ssm:GetParameters on it too), the subnet, the security groups, the new network interface,
  // instance and root volume (with the request's tags), tag on create, and the instance profile's role.
  'EC2Client:RunInstances': (c, d, role) => {
    const net = verifierNetworkOf(d, role);
    if (!net) return [];
    const a = arns(d);
    const specs = list(
      input(c).TagSpecifications as { ResourceType?: string; Tags?: { Key?: string; Value?: string }[] }[],
    );
    const tagsOf = (type: string) =>
      tagRecord(specs.filter((t) => t.ResourceType === type).flatMap((t) => t.Tags ?? []));
    const recorded =
      list(input(c).NetworkInterfaces as { SubnetId?: string; Groups?: string[] }[] | undefined)[0] ?? {};
    const nic = net === 'as-recorded' ? recorded : { SubnetId: net.subnet, Groups: [net.securityGroup] };
    const image = `arn:${d.partition}:ec2:${d.region}::image/${STAND_IN.amazonImage}`;
    const instance = { ...requestTags(tagsOf('instance')), 'ec2:InstanceType': str(c, 'InstanceType') ?? '' };
    const volume = requestTags(tagsOf('volume'));
    const parameter = str(c, 'ImageId')?.match(/^resolve:ssm:(.+)$/)?.[1];
    // The suite's deployments name an instance profile after its role (a profile ARN does not say its role).
    const profile =
      net === 'as-recorded'
        ? (input(c).IamInstanceProfile as { Arn?: string } | undefined)?.Arn?.split('/').pop()
        : net.role;
    return [
      req('ec2:RunInstances', image, { 'ec2:Owner': 'amazon' }, 'RunInstances (Amazon image)'),
      req('ec2:RunInstances', a.ec2('subnet', nic.SubnetId ?? 'subnet-0'), {}, 'RunInstances (subnet)'),
      ...list(nic.Groups).map((g) =>
        req('ec2:RunInstances', a.ec2('security-group', g), {}, 'RunInstances (security group)'),
      ),
      req('ec2:RunInstances', a.ec2('network-interface', '*'), {}, 'RunInstances (new network interface)'),
      req('ec2:RunInstances', a.ec2('instance', '*'), instance, 'RunInstances (new instance)'),
      req('ec2:RunInstances', a.ec2('volume', '*'), volume, 'RunInstances (new root volume)'),
      req(
        'ec2:CreateTags',
        a.ec2('instance', '*'),
        { ...instance, 'ec2:CreateAction': 'RunInstances' },
        'RunInstances → ec2:CreateTags (instance, on create)',
      ),
      req(
        'ec2:CreateTags',
        a.ec2('volume', '*'),
        { ...volume, 'ec2:CreateAction': 'RunInstances' },
        'RunInstances → ec2:CreateTags (volume, on create)',
      ),
      ...(parameter
        ? [
            req(
              'ssm:GetParameters',
              `arn:${d.partition}:ssm:${d.region}::parameter${parameter}`,
              {},
              'RunInstances → ssm:GetParameters (resolve:ssm image)',
            ),
          ]
        : []),
      ...(profile
        ? [
            req(
              'iam:PassRole',
              `arn:${d.partition}:iam::${d.account}:role/${profile}`,
              { 'iam:PassedToService': 'ec2.amazonaws.com' },
              'RunInstances → iam:PassRole (instance profile role)',
            ),
          ]
        : []),
    ];
  },
  ...Object.fromEntries(
    (['AttachVolume', 'DetachVolume'] as const).map((command) => [
      `EC2Client:${command}`,
      ((c: RecordedCall, d: Deployment, role?: string) => {
        if (!verifierNetworkOf(d, role)) return [];
        const instance = arns(d).ec2('instance', str(c, 'InstanceId') ?? 'i-0');
        const volume = arns(d).ec2('volume', str(c, 'VolumeId') ?? 'vol-0');
        return [
          req(
            `ec2:${command}`,
            instance,
            resourceTags(instance, verifierTags('drill-1')),
            `${command} (a verifier)`,
          ),
          req(
            `ec2:${command}`,
            volume,
            resourceTags(volume, { [Tag.drill]: 'drill-1', [Tag.managed]: 'true' }),
            `${command} (a drill volume)`,
          ),
        ];
      }) satisfies Binder,
    ]),
  ),
  'EC2Client:TerminateInstances': (c, d, role) =>
    (verifierNetworkOf(d, role) ? list(input(c).InstanceIds as string[] | undefined) : []).map((id) => {
      const instance = arns(d).ec2('instance', id);
      return req(
        'ec2:TerminateInstances',
        instance,
        resourceTags(instance, verifierTags('drill-1')),
        'TerminateInstances (a verifier)',
      );
    }),
  'SSMClient:DescribeInstanceInformation': (_c, d, role) =>
    verifierNetworkOf(d, role)
      ? [req('ssm:DescribeInstanceInformation', '*', {}, 'DescribeInstanceInformation')]
      : [],
  // ------------------------------------------------------------------ application consistency (SSM)
  // SendCommand is authorized on the document and on each instance, whose steward:backup tag names a
  // policy that configures consistency (infra/consistency.ts).
  'SSMClient:SendCommand': (c, d, role) => {
    if (role === 'drill') {
      // The EBS verifier's check: steward's document, on verifier instances only (infra/ebs-verifier.ts);
      // only where the stack deploys the verifier (a target with `verify`).
      if (!verifierNetworkOf(d, role)) return [];
      const doc = consistencyDocumentName(d.config.stage);
      return [
        req(
          'ssm:SendCommand',
          `arn:${d.partition}:ssm:${d.region}:${d.account}:document/${doc}`,
          {},
          `SendCommand (document ${doc})`,
        ),
        ...list(input(c).InstanceIds as string[] | undefined).map((id) => {
          const arn = arns(d).ec2('instance', id);
          return req(
            'ssm:SendCommand',
            arn,
            { ...resourceTags(arn, verifierTags('drill-1')), [`ssm:resourceTag/${Tag.kind}`]: VERIFIER_KIND },
            'SendCommand (a verifier)',
          );
        }),
      ];
    }
    const policy = consistentPolicies(d.config)[0];
    if (!policy) return [];
    // The deployment's own document (an adapter test names any).
    const doc = consistencyDocumentName(d.config.stage);
    const docArn = `arn:${d.partition}:ssm:${d.region}:${d.account}:document/${doc}`;
    return [
      req('ssm:SendCommand', docArn, {}, `SendCommand (document ${doc})`),
      ...list(input(c).InstanceIds as string[] | undefined).map((id) => {
        const arn = arns(d).ec2('instance', id);
        return req(
          'ssm:SendCommand',
          arn,
          { ...resourceTags(arn, { [Tag.backup]: policy }), [`ssm:resourceTag/${Tag.backup}`]: policy },
          'SendCommand (instance tagged for a consistent policy)',
        );
      }),
    ];
  },
  // A drill from the DR copy reads the DR stack's cache drill network (shared/aws/drill-network.ts).
  'SSMClient:GetParameter': (_c, d) =>
    drillsCachesFromDr(d.config)
      ? [
          req(
            'ssm:GetParameter',
            `arn:${d.partition}:ssm:${d.config.dr.region}:${d.account}:parameter${drCacheNetworkParameter(d.config.stage)}`,
            {},
            'GetParameter (DR cache drill network)',
          ),
        ]
      : [],
  // A drill from the DR copy relays verify to the DR stack's cache verifier (shared/aws/cache-verifier.ts).
  'LambdaClient:Invoke': (_c, d) =>
    drillsCachesFromDr(d.config)
      ? [
          req(
            'lambda:InvokeFunction',
            `arn:${d.partition}:lambda:${d.config.dr.region}:${d.account}:function:${drCacheVerifierName(d.config.stage)}`,
            {},
            'Invoke (DR cache verifier)',
          ),
        ]
      : [],
  'SSMClient:GetCommandInvocation': (_c, d, role) =>
    (role === 'drill' ? verifierNetworkOf(d, role) : consistentPolicies(d.config).length)
      ? [req('ssm:GetCommandInvocation', '*', {}, 'GetCommandInvocation')]
      : [],
  'S3Client:PutObjectTagging': (c, d) => {
    const [bucket, key] = [str(c, 'Bucket') ?? '', str(c, 'Key') ?? ''];
    if (!dumpLocations(d.config).some((l) => l.bucket === bucket && key.startsWith(l.prefix))) return [];
    const tags = tagRecord((input(c).Tagging as { TagSet?: { Key?: string; Value?: string }[] })?.TagSet);
    const context: Context = { 's3:RequestObjectTagKeys': Object.keys(tags) };
    for (const [k, v] of Object.entries(tags)) context[`s3:RequestObjectTag/${k}`] = v;
    return [
      req(
        's3:PutObjectTagging',
        `arn:${d.partition}:s3:::${str(c, 'Bucket')}/${str(c, 'Key')}`,
        context,
        'PutObjectTagging (a dump object)',
      ),
    ];
  },
  'SFNClient:SendTaskSuccess': () => [req('states:SendTaskSuccess', '*', {}, 'SendTaskSuccess')],
  'SFNClient:SendTaskFailure': () => [req('states:SendTaskFailure', '*', {}, 'SendTaskFailure')],
  // The database verifier reads its targets' secrets; a cache's AUTH token is read by the drill function
  // (the restore sets it on the copy) and, with an RBAC user's login, by the cache verifier.
  'SecretsManagerClient:GetSecretValue': (_c, d, role) => {
    const a = arns(d);
    const decrypt = req(
      'kms:Decrypt',
      a.key(d.region),
      { 'kms:ViaService': `secretsmanager.${d.region}.amazonaws.com`, 'kms:CallerAccount': d.account },
      'GetSecretValue → kms:Decrypt (secret encrypted with a customer managed key)',
    );
    if (role === 'drill' || role === 'drill-verify-cache') {
      const auths = role === 'drill' ? ['token'] : ['token', 'user'];
      return Object.entries(d.config.drill.caches)
        .filter(([, c]) => auths.includes(c.auth) && c.secretArn)
        .flatMap(([name, c]) => [
          req(
            'secretsmanager:GetSecretValue',
            c.secretArn!,
            resourceTags(c.secretArn!, {}),
            `GetSecretValue (${name} ${c.auth === 'token' ? 'AUTH token' : 'RBAC login'})`,
          ),
          decrypt,
        ]);
    }
    const targets = [...drillTargets(d, 'rds-instance'), ...drillTargets(d, 'aurora-cluster')];
    return targets
      .filter((t) => t.target.auth === 'secret')
      .flatMap((t) => {
        const secret = t.target.secretArn
          ? { arn: t.target.secretArn, tags: {} as Tags }
          : masterSecret(d, t.db, t.target.kind);
        return [
          req(
            'secretsmanager:GetSecretValue',
            secret.arn,
            resourceTags(secret.arn, secret.tags),
            `GetSecretValue (${t.db} ${t.target.secretArn ? 'configured secret' : 'RDS-managed master secret'})`,
          ),
          decrypt,
        ];
      });
  },
  // A token signed locally; logging in with it is rds-db:connect as that user on the restored copy, whose
  // resource id (db-…/cluster-…) RDS assigns at restore.
  'Signer:connect': (_c, d) =>
    [...drillTargets(d, 'rds-instance'), ...drillTargets(d, 'aurora-cluster')]
      .filter((t) => t.target.auth === 'iam')
      .map((t) =>
        req(
          'rds-db:connect',
          dbUser(d, t.target.kind, t.target.iamUser),
          {},
          `connect (${t.db} as ${t.target.iamUser}, IAM database authentication)`,
        ),
      ),

  // ------------------------------------------------------------------ Events: alarms, maintenance, drill ends
  // The side of an anomaly band: the comparison operator of one rule's alarm (a prefix rule: any of its alarms).
  'CloudWatchClient:DescribeAlarms': (_c, d) =>
    d.config.scaling.enabled
      ? namedRules(d.config.scaling).map((r) =>
          req(
            'cloudwatch:DescribeAlarms',
            `arn:${d.partition}:cloudwatch:${d.region}:${d.account}:alarm:${'name' in r.alarm ? r.alarm.name : `${r.alarm.prefix}example`}`,
            {},
            `DescribeAlarms (alarm of rule ${r.name})`,
          ),
        )
      : [],
  // A pre-maintenance snapshot: a one-time schedule in the stage's group, passing the function's invoker role.
  'SchedulerClient:CreateSchedule': (c, d) => {
    const env = d.functions.get('backup')?.environment ?? {};
    const group = env.MAINTENANCE_SCHEDULE_GROUP;
    const role = env.MAINTENANCE_ROLE_ARN;
    if (!group || !role) return [];
    const prefix = `steward-${d.config.stage}-pre-`;
    const name = str(c, 'Name')?.replace(/^steward-[a-z0-9-]+?-pre-/, prefix) ?? `${prefix}0123456789abcdef`;
    return [
      req(
        'scheduler:CreateSchedule',
        `arn:${d.partition}:scheduler:${d.region}:${d.account}:schedule/${group}/${name}`,
        {},
        'CreateSchedule (pre-maintenance snapshot)',
      ),
      req(
        'iam:PassRole',
        role,
        { 'iam:PassedToService': 'scheduler.amazonaws.com' },
        'CreateSchedule → iam:PassRole (Target.RoleArn)',
      ),
    ];
  },
  // ------------------------------------------------------------------ per-drill endpoints (infra/drill-endpoints.ts)
  // CreateVpcEndpoint is authorized on the new endpoint (request tags, ec2:VpceServiceName), the VPC, and each
  // subnet and security group it names; tag on create as ec2:CreateTags with ec2:CreateAction.
  'EC2Client:CreateVpcEndpoint': (c, d, role) => {
    const spec = drillEndpointsOf(d, role);
    if (!spec) return [];
    const a = arns(d);
    const service = str(c, 'ServiceName') ?? '';
    const placement = Object.values(spec.endpoints).find((p) =>
      p.serviceName.endsWith(service.split('.').pop()!),
    );
    if (!placement) return [];
    const specs = list(input(c).TagSpecifications as { Tags?: { Key?: string; Value?: string }[] }[]);
    const tags = tagRecord(specs.flatMap((t) => t.Tags ?? []));
    const endpoint = a.ec2('vpc-endpoint', 'vpce-0a1b2c3d4e5f60718');
    const context = { ...requestTags(tags), 'ec2:VpceServiceName': placement.serviceName };
    return [
      req('ec2:CreateVpcEndpoint', endpoint, context, 'CreateVpcEndpoint (new endpoint)'),
      req('ec2:CreateVpcEndpoint', a.ec2('vpc', spec.vpcId), {}, 'CreateVpcEndpoint (drill VPC)'),
      ...placement.subnetIds.map((id) =>
        req('ec2:CreateVpcEndpoint', a.ec2('subnet', id), {}, 'CreateVpcEndpoint (drill subnet)'),
      ),
      ...placement.securityGroupIds.map((id) =>
        req('ec2:CreateVpcEndpoint', a.ec2('security-group', id), {}, 'CreateVpcEndpoint (endpoint group)'),
      ),
      req(
        'ec2:CreateTags',
        endpoint,
        { ...requestTags(tags), 'ec2:CreateAction': 'CreateVpcEndpoint' },
        'CreateVpcEndpoint → ec2:CreateTags (tag on create)',
      ),
    ];
  },
  'EC2Client:DeleteVpcEndpoints': (c, d, role) => {
    const spec = drillEndpointsOf(d, role);
    if (!spec) return [];
    // The adapter deletes only endpoints tagged as a drill's (it refuses others): one of the stage's services.
    const [key, placement] = Object.entries(spec.endpoints)[0]!;
    const service = placement!.serviceName;
    return list(input(c).VpcEndpointIds as string[] | undefined).map((id) => {
      const endpoint = arns(d).ec2('vpc-endpoint', id);
      return req(
        'ec2:DeleteVpcEndpoints',
        endpoint,
        {
          ...resourceTags(endpoint, { [Tag.managed]: 'true', [Tag.drillEndpoint]: key }),
          'ec2:VpceServiceName': service,
        },
        'DeleteVpcEndpoints (a drill endpoint)',
      );
    });
  },
  'EC2Client:DescribeVpcEndpoints': (_c, d, role) =>
    drillEndpointsOf(d, role)
      ? [req('ec2:DescribeVpcEndpoints', '*', { 'aws:RequestedRegion': d.region }, 'DescribeVpcEndpoints')]
      : [],
  'SFNClient:ListExecutions': (_c, d, role) =>
    drillEndpointsOf(d, role)
      ? [
          req(
            'states:ListExecutions',
            `arn:${d.partition}:states:${d.region}:${d.account}:stateMachine:steward-${d.config.stage}-drill`,
            {},
            'ListExecutions (running drills keep the endpoints)',
          ),
        ]
      : [],
  'SFNClient:DescribeExecution': (_c, d) =>
    d.config.drill.enabled
      ? [
          req(
            'states:DescribeExecution',
            `arn:${d.partition}:states:${d.region}:${d.account}:execution:steward-${d.config.stage}-drill:exec-1`,
            {},
            'DescribeExecution (why a drill execution failed)',
          ),
        ]
      : [],

  // ------------------------------------------------------------------ Scaling
  'RDSClient:ModifyDBInstance': (c, d) =>
    rulesOf(d, 'rds.scaleUp').flatMap((r) => {
      const db = arns(d).rds(d.region, 'db', r.resource);
      const action = r.action as Extract<NamedRule['action'], { type: 'rds.scaleUp' }>;
      return ladderFor(action.ladder, action.max).map((cls) =>
        req(
          'rds:ModifyDBInstance',
          db,
          str(c, 'DBInstanceClass') ? { 'rds:DatabaseClass': cls } : {},
          `ModifyDBInstance (${r.resource} → ${cls})`,
        ),
      );
    }),
  'RDSClient:CreateDBInstanceReadReplica': (c, d) =>
    rulesOf(d, 'rds.addReadReplica', 'rds-instance').flatMap((r) => {
      const a = arns(d);
      const tags = tagsOf(c);
      const replica = a.rds(d.region, 'db', nextReplicaId(r.resource, [], 'replica'));
      const source = a.rds(d.region, 'db', r.resource);
      const action = 'rds:CreateDBInstanceReadReplica';
      const ctx = requestTags(tags);
      const label = `CreateDBInstanceReadReplica (${r.resource})`;
      // The replica inherits the source's option, parameter and subnet groups; RDS authorizes each.
      return [
        req(action, replica, ctx, `${label} new replica`),
        req(action, source, ctx, `${label} source db`),
        req(action, a.rds(d.region, 'og', STAND_IN.optionGroup), ctx, `${label} option group`),
        req(action, a.rds(d.region, 'pg', STAND_IN.parameterGroup), ctx, `${label} parameter group`),
        req(action, a.rds(d.region, 'subgrp', STAND_IN.sourceSubnetGroup), ctx, `${label} subnet group`),
        ...tagOnCreate(replica, tags, label),
        ...rdsKeyUse(d, d.region, a.key(d.region), label),
      ];
    }),
  'RDSClient:RebootDBInstance': (_c, d) =>
    rulesOf(d, 'rds.failover', 'rds-instance').map((r) =>
      req(
        'rds:RebootDBInstance',
        arns(d).rds(d.region, 'db', r.resource),
        {},
        `RebootDBInstance (${r.resource}, failover)`,
      ),
    ),
  'RDSClient:FailoverDBCluster': (_c, d) =>
    rulesOf(d, 'rds.failover', 'aurora-cluster').map((r) =>
      req(
        'rds:FailoverDBCluster',
        arns(d).rds(d.region, 'cluster', r.resource),
        {},
        `FailoverDBCluster (${r.resource})`,
      ),
    ),
  'ElastiCacheClient:ModifyReplicationGroupShardConfiguration': (c, d) =>
    rulesOf(d, 'elasticache.addShard').map((r) =>
      req(
        'elasticache:ModifyReplicationGroupShardConfiguration',
        arns(d).cache(d.region, 'replicationgroup', r.resource),
        { 'elasticache:NumNodeGroups': String(input(c).NodeGroupCount ?? '') },
        `ModifyReplicationGroupShardConfiguration (${r.resource})`,
      ),
    ),
  'ElastiCacheClient:IncreaseReplicaCount': (_c, d) =>
    rulesOf(d, 'elasticache.addReplica').map((r) =>
      req(
        'elasticache:IncreaseReplicaCount',
        arns(d).cache(d.region, 'replicationgroup', r.resource),
        {},
        `IncreaseReplicaCount (${r.resource})`,
      ),
    ),
  'ElastiCacheClient:DecreaseReplicaCount': (_c, d) =>
    rulesOf(d, 'elasticache.addReplica', undefined, true).map((r) =>
      req(
        'elasticache:DecreaseReplicaCount',
        arns(d).cache(d.region, 'replicationgroup', r.resource),
        {},
        `DecreaseReplicaCount (${r.resource})`,
      ),
    ),
  'ElastiCacheClient:TestFailover': (_c, d) =>
    rulesOf(d, 'elasticache.failover').map((r) =>
      req(
        'elasticache:TestFailover',
        arns(d).cache(d.region, 'replicationgroup', r.resource),
        {},
        `TestFailover (${r.resource})`,
      ),
    ),

  // ------------------------------------------------------------------ Cost
  'CostExplorerClient:GetCostAndUsage': () => [
    req('ce:GetCostAndUsage', '*', { 'aws:RequestedRegion': COST_EXPLORER_REGION }, 'GetCostAndUsage'),
  ],
  'CostExplorerClient:GetCostForecast': () => [
    req('ce:GetCostForecast', '*', { 'aws:RequestedRegion': COST_EXPLORER_REGION }, 'GetCostForecast'),
  ],
  // No MonitorArn: every anomaly monitor of the account.
  'CostExplorerClient:GetAnomalies': (_c, d) => [
    req(
      'ce:GetAnomalies',
      `arn:${d.partition}:ce::${d.account}:anomalymonitor/${ANY}`,
      { 'aws:RequestedRegion': COST_EXPLORER_REGION },
      'GetAnomalies (every monitor)',
    ),
  ],

  // The fan-out's listing of OU targets' accounts (shared/aws/organizations.ts): only a hub with OU targets
  // lists, the OUs (or root) of its own organization. Organizations ARNs name the management account: here
  // the hub is it (same account, its IAM policy decides). A delegated administrator's hub is also allowed by
  // the organization's delegation policy, which the management account writes, not steward.
  'OrganizationsClient:ListAccountsForParent': (c, d, role) => listOrganization(c, d, role),
  'OrganizationsClient:ListChildren': (c, d, role) => listOrganization(c, d, role),
  'OrganizationsClient:DescribeOrganization': (_c, d, role) =>
    hasSpokeRole(d, role) && organizationalUnitTargets(d.config).length
      ? [req('organizations:DescribeOrganization', '*', {}, 'DescribeOrganization')]
      : [],

  // ------------------------------------------------------------------ Every function
  // The pager route: only a stage with PagerDuty configured sends pager events (on the default bus).
  'EventBridgeClient:PutEvents': (c, d) => {
    if (!d.config.notifications.pagerDuty) return [];
    // One request per call: source and detail-type are multivalued keys, one value per entry.
    const entries = (input(c).Entries ?? []) as {
      Source?: string;
      DetailType?: string;
      EventBusName?: string;
    }[];
    const buses = [...new Set(entries.map((e) => e.EventBusName ?? 'default'))];
    return buses.map((bus) =>
      req(
        'events:PutEvents',
        `arn:${d.partition}:events:${d.region}:${d.account}:event-bus/${bus}`,
        {
          'events:source': entries.map((e) => e.Source ?? ''),
          'events:detail-type': entries.map((e) => e.DetailType ?? ''),
        },
        `PutEvents (${entries.length} entries)`,
      ),
    );
  },
  // A fleet role assumes a target's spoke role (shared/aws/target-credentials.ts): the spoke's trust policy
  // decides, with the external id when the fleet uses one.
  // The role names accounts the test made up: the deployment's own spoke roles of the function's capability
  // stand for it (fanOutTargets, what the state machine hands the children). A stage without spokes sends none.
  // Cross-account, so the spoke role's trust (the spoke template's, in the target's account) decides too.
  // The hub's backup role assumes the vault copy role (functions/backup/handler.ts), the retention role the
  // vault retention role, by the names the vault stack gives them, in every vault region.
  'STSClient:AssumeRole': (c, d, role) =>
    /:role\/steward-[^/]+-vault-(copy|retention)-/.test(str(c, 'RoleArn') ?? '')
      ? assumeVaultRole(d, role)
      : /:role\/steward-[^/]+-vault-drill-/.test(str(c, 'RoleArn') ?? '')
        ? assumeVaultDrillRole(d, role)
        : hasSpokes(d.config) && hasSpokeRole(d, role) && str(c, 'RoleArn')
          ? fanOutTargets(d.config, role, d.partition).flatMap((t) =>
              t.roleArn
                ? [
                    assumeRole(
                      t.roleArn,
                      t.externalId,
                      spokeTrust(d, role, t.account, t.region),
                      `AssumeRole (target ${t.account} ${t.region})`,
                      d.config.fleet?.organizationId
                        ? { 'aws:PrincipalOrgID': d.config.fleet.organizationId }
                        : {},
                    ),
                  ]
                : [],
            )
          : [],
  'SNSClient:Publish': (c, d) => {
    const severity = /(critical|warning|info)$/.exec(str(c, 'TopicArn') ?? '')?.[1] ?? 'warning';
    const topic = `arn:${d.partition}:sns:${d.region}:${d.account}:steward-${d.config.stage}-${severity}`;
    const via = { 'kms:ViaService': `sns.${d.region}.amazonaws.com`, 'kms:CallerAccount': d.account };
    return [
      req('sns:Publish', topic, {}, `Publish (${severity})`),
      // SSE-KMS topic: SNS asks KMS for a data key with the publisher's credentials.
      req('kms:GenerateDataKey', d.topicKeyArn, via, 'Publish → kms:GenerateDataKey (encrypted topic)'),
      req('kms:Decrypt', d.topicKeyArn, via, 'Publish → kms:Decrypt (encrypted topic)'),
    ];
  },
};

const rulesWithResources = (d: Deployment, kind: NamedRule['kind']) =>
  d.config.scaling.enabled
    ? [
        ...new Set(
          namedRules(d.config.scaling)
            .filter((r) => r.kind === kind && r.action.type !== 'notify')
            .map((r) => r.resource),
        ),
      ]
    : [];

/** A drill database's tags, as the restore set them. */
const drillTags = (db: string): Tags => ({
  [Tag.managed]: 'true',
  [Tag.drill]: 'exec-1',
  [Tag.source]: db,
  [Tag.createdBy]: 'drill',
});
/** A replica's tags, as scaling set them at creation. */
const replicaTags = (source: string, rule: string): Tags => ({
  [Tag.managed]: 'true',
  [Tag.source]: source,
  [Tag.createdBy]: 'scaling',
  [Tag.reason]: `scaling:${rule}`,
});
const managedSnapshotTags = (id: string): Tags => ({
  [Tag.managed]: 'true',
  [Tag.source]: id.split('-')[1] ?? 'db',
  [Tag.policy]: 'daily',
});
/** An id with steward's shape, else one the code would generate. */
const steward = (id: string | undefined) =>
  id?.startsWith('steward-') ? id : snapshotId('orders-db', STAND_IN.snapshotTime, 'sched');

/**
 * One AssumeRole request: the role assumed, with the fleet's external id when it has one (and any other key
 * the call supplies), judged by the assumed role's trust policy too (the role is in another account).
 */
const assumeRole = (
  roleArn: string,
  externalId: string | undefined,
  trust: PolicyDocument,
  label: string,
  keys: Record<string, string> = {},
): IamRequest => ({
  ...req(
    'sts:AssumeRole',
    roleArn,
    { ...(externalId ? { 'sts:ExternalId': externalId } : {}), ...keys },
    label,
  ),
  resourcePolicy: trust,
});

/**
 * The trust policy steward gives a role that one hub role assumes (the vault roles, the vault drill role): the
 * hub account, that exact role, and the fleet's external id when it has one.
 */
const trustingHubRole = (d: Deployment, hubRoleArn: string): PolicyDocument => {
  const externalId = d.config.fleet?.externalId;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:${d.partition}:iam::${d.account}:root` },
        Action: 'sts:AssumeRole',
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': hubRoleArn },
          ...(externalId ? { StringEquals: { 'sts:ExternalId': externalId } } : {}),
        },
      } as PolicyDocument['Statement'][number],
    ],
  };
};

/** AssumeRole of the function's vault role in each vault region, with the fleet's external id. */
const assumeVaultRole = (d: Deployment, role: string): IamRequest[] => {
  const vault = vaultOf(d.config);
  const mine = VAULT_ROLES.find((r) => VAULT_ROLE_HUB[r] === role);
  if (!vault || !mine) return [];
  const externalId = d.config.fleet?.externalId;
  // Another account's role: its trust policy (infra/vault.ts, VaultRoleConstruct) must allow the hub role too.
  const trust = trustingHubRole(d, vaultTrustedHubRoleArn(d.config, mine, d.partition));
  return vault.regions.map((r) =>
    assumeRole(
      vaultRoleArn(d.config, mine, r, d.partition),
      externalId,
      trust,
      `AssumeRole (vault ${mine} role, ${r})`,
    ),
  );
};

// ------------------------------------------------------------------ Drills from the vault (shared/drill/vault-tasks.ts)

/** A call of the drill's own copies of vault copies (shared/aws/vault-drill.ts, with the drill role). */
const fromVaultDrill = (c: RecordedCall) => c.frames.some((f) => f.startsWith('shared/aws/vault-drill.ts'));

/** The vault's snapshot ARN of a drill from the vault: steward's vault copy, in the vault account. */
const vaultCopyArn = (d: Deployment, type: string, arn: string | undefined) => {
  const vault = vaultOf(d.config)!;
  const id = arn?.split(':').at(-1);
  return `arn:${d.partition}:rds:${d.region}:${vault.account}:${type}:${id?.startsWith('steward-') ? id : 'steward-orders-db-202601310300-sched-1a2b3c4d'}`;
};

/**
 * A vault copy shared with the hub for a drill: RDS's `restore` attribute authorizes the hub account on the
 * copy, which the simulator models as the copy's resource policy (the role's own policy must still allow it).
 */
const sharedWithHub = (d: Deployment, action: string, arn: string): PolicyDocument => ({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:${d.partition}:iam::${d.account}:root` },
      Action: action,
      Resource: arn,
    } as PolicyDocument['Statement'][number],
  ],
});

/** The drill copies a shared vault copy into a tagged steward-drill-* snapshot of its own account. */
const copyVaultCopyForDrill = (c: RecordedCall, d: Deployment): IamRequest[] => {
  if (!hasVaultDrills(d.config)) return [];
  const target = arns(d).rds(d.region, 'snapshot', drillId(c, 'TargetDBSnapshotIdentifier', 'orders-db'));
  const tags = tagsOf(c);
  const label = 'CopyDBSnapshot (drill copy of a vault copy)';
  const source = vaultCopyArn(d, 'snapshot', str(c, 'SourceDBSnapshotIdentifier'));
  return [
    {
      ...req('rds:CopyDBSnapshot', source, requestTags(tags), `${label} source`),
      resourcePolicy: sharedWithHub(d, 'rds:CopyDBSnapshot', source),
    },
    req('rds:CopyDBSnapshot', target, requestTags(tags), `${label} target`),
    ...tagOnCreate(target, tags, label),
  ];
};

/** Cleanup deletes the drill's own copy: steward-drill-*, tagged by the drill. */
const deleteDrillCopy = (c: RecordedCall, d: Deployment): IamRequest[] => {
  if (!hasVaultDrills(d.config)) return [];
  const arn = arns(d).rds(d.region, 'snapshot', drillId(c, 'DBSnapshotIdentifier', 'orders-db'));
  return [
    req(
      'rds:DeleteDBSnapshot',
      arn,
      resourceTags(arn, drillTags('orders-db')),
      'DeleteDBSnapshot (drill copy of a vault copy)',
    ),
  ];
};

/** Restore from the drill's own copy (an instance) or from the shared vault copy by ARN (a cluster). */
const restoreFromVault = (
  c: RecordedCall,
  d: Deployment,
  kind: 'rds-instance' | 'aurora-cluster',
): IamRequest[] => {
  if (!hasVaultDrills(d.config)) return [];
  const a = arns(d);
  const cluster = kind === 'aurora-cluster';
  const action = cluster ? 'rds:RestoreDBClusterFromSnapshot' : 'rds:RestoreDBInstanceFromDBSnapshot';
  const target = cluster
    ? a.rds(d.region, 'cluster', drillId(c, 'DBClusterIdentifier', 'ledger'))
    : a.rds(d.region, 'db', drillId(c, 'DBInstanceIdentifier', 'orders-db'));
  const source = cluster
    ? vaultCopyArn(d, 'cluster-snapshot', str(c, 'SnapshotIdentifier'))
    : a.rds(d.region, 'snapshot', drillId(c, 'DBSnapshotIdentifier', 'orders-db'));
  const tags = tagsOf(c);
  const label = `${action.split(':')[1]} (drill from the vault)`;
  return [
    req(action, target, requestTags(tags), `${label} new ${cluster ? 'cluster' : 'db'}`),
    {
      ...req(action, source, requestTags(tags), `${label} source snapshot`),
      ...(cluster ? { resourcePolicy: sharedWithHub(d, action, source) } : {}),
    },
    ...restoreGroups(d, c, action, requestTags(tags), label, cluster),
    ...tagOnCreate(target, tags, label),
  ];
};

/** AssumeRole of the vault drill role by the hub's drill role, with the fleet's external id. */
const assumeVaultDrillRole = (d: Deployment, role: string): IamRequest[] => {
  if (role !== 'drill' || !hasVaultDrills(d.config)) return [];
  return [
    assumeRole(
      vaultDrillRoleArn(d.config, d.region, d.partition),
      d.config.fleet?.externalId,
      trustingHubRole(d, hubDrillRoleArn(d.config, d.partition)),
      'AssumeRole (vault drill role)',
    ),
  ];
};

/** Share (or unshare) one of steward's snapshots with the backup vault: the source account's own snapshot, tagged ours. */
const shareWithVault = (
  c: RecordedCall,
  d: Deployment,
  type: string,
  key: string,
  action: string,
): IamRequest[] => {
  // Only a stage with a vault shares (functions/backup/handler.ts wires it from config fleet.vault).
  if (!hasVault(d.config)) return [];
  const arn = arns(d).rds(d.region, type, steward(str(c, key)));
  const tags = { [Tag.managed]: 'true', [Tag.policy]: 'daily', [Tag.source]: 'orders-db' };
  return [req(action, arn, resourceTags(arn, tags), `${action.split(':')[1]} (vault share)`)];
};

/**
 * Sharing a part of one of steward's EBS sets with the vault account, or taking it back (shared/aws/ebs-vault.ts):
 * the account added or removed is a condition key of its own (ec2:Add/userId, ec2:Remove/userId).
 */
const shareSetPartWithVault = (c: RecordedCall, d: Deployment): IamRequest[] => {
  const vault = vaultOf(d.config);
  if (!vault || !backsUp(d, 'ebs')) return [];
  const arn = arns(d).ebsSnapshot(d.region, str(c, 'SnapshotId') ?? 'snap-0a1b2c3d4e5f60718');
  const add = str(c, 'OperationType') === 'add';
  const tags = { [Tag.managed]: 'true', [Tag.policy]: 'daily', [Tag.source]: 'i-0a1b2c3d4e5f60718' };
  return [
    req(
      'ec2:ModifySnapshotAttribute',
      arn,
      { ...resourceTags(arn, tags), [add ? 'ec2:Add/userId' : 'ec2:Remove/userId']: vault.account },
      `ModifySnapshotAttribute (vault ${add ? 'share' : 'unshare'})`,
    ),
  ];
};

/**
 * Reading who may restore a vault copy, or create volumes from a vault part, before a drill shares it
 * (shared/aws/vault-drill.ts, shared/aws/ebs-vault-drill.ts). Sent only with the vault drill role's credentials
 * (ASSUMED in attribution.ts), whose grants test/iam/vault-drill.test.ts and vault-ebs-drill.test.ts simulate:
 * the request is the vault copy's, tagged as the vault copy role tags it.
 */
const readVaultCopyShares = (
  c: RecordedCall,
  d: Deployment,
  type: 'snapshot' | 'cluster-snapshot' | 'ebs',
  key: string,
  action: string,
): IamRequest[] => {
  if (!hasVaultDrills(d.config)) return [];
  const arn =
    type === 'ebs'
      ? arns(d).ebsSnapshot(d.region, str(c, key) ?? 'snap-0a1b2c3d4e5f60718')
      : arns(d).rds(d.region, type, steward(str(c, key)));
  const tags = { [Tag.managed]: 'true', [VaultTag.vault]: 'true', [Tag.createdBy]: 'vault' };
  return [req(action, arn, resourceTags(arn, tags), `${action.split(':')[1]} (vault drill)`)];
};

/** A call the vault's source side sent (rdsVaultShares): the share, the re-encryption and its clean-up. */
const fromVaultShares = (c: RecordedCall) => c.frames.some((f) => f.startsWith('shared/aws/vault.ts'));

/** The share key the stack makes for the vault (infra/fleet.ts allowShareWithVault): its ARN and key policy. */
const shareKey = (d: Deployment): { arn: string; policy: PolicyDocument } | undefined => {
  for (const [arn, policy] of d.keyPolicies)
    if (JSON.stringify(policy).includes('VaultAccountReadsThroughRds')) return { arn, policy };
  return undefined;
};

/** Tags of steward's re-encrypted copy of an aws/rds-key snapshot (shared/fleet/vault.ts reencryptedTags). */
const reencryptedCopyTags = (d: Deployment, id: string): Tags => ({
  [Tag.managed]: 'true',
  [Tag.source]: 'orders-db',
  [VaultTag.reencryptedFrom]: arns(d).rds(d.region, 'snapshot', id),
});

/**
 * Re-encrypting an aws/rds-key snapshot for the vault: a copy within the region (source and target are both
 * authorized), tagged on create, encrypted with the stack's share key through RDS. Reading the source's
 * aws/rds key is granted by that AWS managed key's own policy (any principal of the account, through RDS).
 */
const reencryptForVault = (c: RecordedCall, d: Deployment, type: string, action: string): IamRequest[] => {
  if (!hasVault(d.config)) return [];
  const a = arns(d);
  const cluster = type === 'cluster-snapshot';
  const source = a.rds(
    d.region,
    type,
    steward(str(c, cluster ? 'SourceDBClusterSnapshotIdentifier' : 'SourceDBSnapshotIdentifier')),
  );
  const target = a.rds(
    d.region,
    type,
    steward(str(c, cluster ? 'TargetDBClusterSnapshotIdentifier' : 'TargetDBSnapshotIdentifier')),
  );
  const tags = tagsOf(c);
  const name = action.split(':')[1]!;
  const key = shareKey(d);
  return [
    req(action, target, requestTags(tags), `${name} (re-encrypted copy for the vault)`),
    req(
      action,
      source,
      { ...requestTags(tags), ...resourceTags(source, managedSnapshotTags(steward(undefined))) },
      `${name} (aws/rds-key source)`,
    ),
    ...tagOnCreate(target, tags, name),
    ...(key ? rdsKeyUse(d, d.region, key.arn, `${name} (share key)`, key.policy) : []),
  ];
};

/** Deleting steward's re-encrypted copy once the vault holds its copy. */
const dropReencrypted = (c: RecordedCall, d: Deployment, type: string, action: string, key: string) => {
  if (!hasVault(d.config)) return [];
  const id = steward(str(c, key));
  const arn = arns(d).rds(d.region, type, id);
  return [
    req(
      action,
      arn,
      resourceTags(arn, reencryptedCopyTags(d, id)),
      `${action.split(':')[1]} (re-encrypted copy)`,
    ),
  ];
};

const deletes = (c: RecordedCall, d: Deployment, role: string, type: string, action: string, key: string) =>
  // Deletes go only to the regions retention sweeps, never to a DR region it only reads.
  (role === 'retention' ? retentionRegions(d.config) : roleRegions(d, role)).map((r) => {
    const id = steward(str(c, key));
    const arn = arns(d).rds(r, type, id);
    // Retention deletes only available manual snapshots tagged steward:managed=true and not held.
    return req(
      action,
      arn,
      resourceTags(arn, managedSnapshotTags(id)),
      `${action.split(':')[1]} (expired, managed, ${r === d.region ? 'primary' : 'DR'})`,
    );
  });

/** The tags of an EC2 create or copy request (TagSpecifications for the new snapshot). */
const ebsTagsOf = (c: RecordedCall): Tags =>
  tagRecord(
    (
      (input(c).TagSpecifications ?? []) as {
        ResourceType?: string;
        Tags?: { Key?: string; Value?: string }[];
      }[]
    )
      .filter((t) => t.ResourceType === 'snapshot')
      .flatMap((t) => t.Tags ?? []),
  );

/** EC2 tag on create: ec2:CreateTags on the new snapshot, with the action that creates it. */
const ebsTagOnCreate = (snap: string, tags: Tags, action: string): IamRequest =>
  req(
    'ec2:CreateTags',
    snap,
    { ...requestTags(tags), 'ec2:CreateAction': action },
    `${action} → ec2:CreateTags (tag on create)`,
  );

/** A cross-region copy: requested in the DR region, authorized there and (presigned) in the source region. */
/** Whether a backup policy of the deployment backs up (or, `copies`, copies to DR) this kind. */
/** Whether the deployment drills EBS (`drill.volumes`): only then does the drill role restore volumes. */
const drillsEbs = (d: Deployment) => Object.keys(d.config.drill.volumes).length > 0;
/** The regions EBS drills restore in: the stage's, and the DR region when a target drills `from: dr`. */
const ebsDrillRegions = (d: Deployment): string[] =>
  !drillsEbs(d) ? [] : drillsVolumesFromDr(d.config) ? [d.region, d.config.dr.region] : [d.region];

/**
 * The EBS verifier's network as the drill function of a synthesized stack sees it (its environment: the
 * first drill subnet, the verifier group, the instance profile's role), undefined when the stack deploys none
 * (no target with `verify`): the verifier's calls then belong to no role. A deployment of the verifier's own
 * test (no functions) names its network in the recorded calls: `as-recorded`.
 */
/** The drill function's per-drill endpoint placements (DRILL_ENDPOINTS), undefined when the stage has none. */
export const drillEndpointSpec = (d: Deployment): EndpointSpec | undefined => {
  if (!(d.functions as Deployment['functions'] | undefined)) return undefined;
  const text = d.functions.get('drill')?.environment?.DRILL_ENDPOINTS;
  return text ? (JSON.parse(text) as EndpointSpec) : undefined;
};

/** The placements where the stack lets `role` create drill endpoints: the drill function's, nobody else's. */
const drillEndpointsOf = (d: Deployment, role?: string): EndpointSpec | undefined =>
  role === 'drill' ? drillEndpointSpec(d) : undefined;

const verifierNetworkOf = (
  d: Deployment,
  role?: string,
): { subnet: string; securityGroup: string; role: string } | 'as-recorded' | undefined => {
  if (role !== 'drill') return undefined;
  if (!(d.functions as Deployment['functions'] | undefined)) return 'as-recorded';
  const env = d.functions.get('drill')?.environment;
  const subnets = env?.DRILL_VERIFIER_SUBNETS;
  const profileName = env?.DRILL_VERIFIER_INSTANCE_PROFILE?.split('/').pop();
  if (!env || !subnets || !env.DRILL_VERIFIER_SECURITY_GROUP || !profileName) return undefined;
  // The profile's role: the template's instance profile of that (generated, lower-cased) name.
  const resources = d.template.Resources;
  const [, profile] =
    Object.entries(resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::InstanceProfile' && id.toLowerCase() === profileName,
    ) ?? [];
  const roleId = (profile?.Properties?.Roles as { Ref?: string }[] | undefined)?.[0]?.Ref ?? '';
  const roleName = (resources[roleId]?.Properties?.RoleName as string | undefined) ?? roleId.toLowerCase();
  return {
    subnet: subnets.split(',')[0]!.split('=')[1]!,
    securityGroup: env.DRILL_VERIFIER_SECURITY_GROUP,
    role: roleName,
  };
};

const backsUp = (d: Deployment, kind: string, copies = false) =>
  Object.values(d.config.backup.policies).some(
    (p) => p.kinds.includes(kind as never) && (!copies || p.copyToDr),
  );

const copy = (
  c: RecordedCall,
  d: Deployment,
  type: string,
  action: string,
  drKeyPolicy?: PolicyDocument,
): IamRequest[] => {
  if (!backsUp(d, type === 'snapshot' ? 'rds-instance' : 'aurora-cluster', true)) return [];
  const a = arns(d);
  const dr = d.config.dr.region;
  const sourceKey = type === 'snapshot' ? 'SourceDBSnapshotIdentifier' : 'SourceDBClusterSnapshotIdentifier';
  const targetKey = type === 'snapshot' ? 'TargetDBSnapshotIdentifier' : 'TargetDBClusterSnapshotIdentifier';
  const sourceId = (str(c, sourceKey) ?? '').split(':').slice(6).join(':');
  const source = a.rds(d.region, type, steward(sourceId));
  const target = a.rds(dr, type, steward(str(c, targetKey)));
  const tags = tagsOf(c);
  const { [Tag.copiedFrom]: _from, ...sourceTags } = tags;
  const name = action.split(':')[1]!;
  const key = drKey(d);
  return [
    req(action, target, requestTags(tags), `${name} (new copy, DR region)`),
    req(
      action,
      source,
      { ...resourceTags(source, sourceTags), 'aws:RequestedRegion': d.region },
      `${name} (source snapshot, presigned in the source region)`,
    ),
    ...tagOnCreate(target, tags, name),
    // CopyTags: the source's own tags are inherited, authorized as tags not from the request.
    ...(input(c).CopyTags
      ? [
          req(
            'rds:AddTagsToResource',
            target,
            { ...requestTags(sourceTags), 'rds:TagsFromRequest': 'false' },
            `${name} → rds:AddTagsToResource (CopyTags)`,
          ),
        ]
      : []),
    ...(str(c, 'KmsKeyId') && key
      ? rdsKeyUse(d, dr, key.arn, `${name} (DR key)`, drKeyPolicy).map((r) => ({
          ...r,
          context: { ...r.context, ...(key.aliases.length ? { 'kms:ResourceAliases': key.aliases } : {}) },
        }))
      : []),
    ...passRoles(c),
  ];
};

const restoreGroups = (
  d: Deployment,
  c: RecordedCall,
  action: string,
  ctx: Context,
  label: string,
  aurora: boolean,
) => {
  const a = arns(d);
  const subnetGroup = `steward-${d.config.stage}-drill`;
  return [
    req(
      action,
      a.rds(d.region, 'og', aurora ? STAND_IN.auroraOptionGroup : STAND_IN.optionGroup),
      ctx,
      `${label} option group`,
    ),
    aurora
      ? req(
          action,
          a.rds(d.region, 'cluster-pg', STAND_IN.clusterParameterGroup),
          ctx,
          `${label} cluster parameter group`,
        )
      : req(action, a.rds(d.region, 'pg', STAND_IN.parameterGroup), ctx, `${label} parameter group`),
    ...(str(c, 'DBSubnetGroupName')
      ? [req(action, a.rds(d.region, 'subgrp', subnetGroup), ctx, `${label} drill subnet group`)]
      : []),
  ];
};

const stateTable = (d: Deployment) => `steward-${d.config.stage}-state`;

/** Redis DR's buckets as one function's environment names them (none: the call does not happen there). */
const redisBuckets = (d: Deployment, role: string): { export?: string; dr?: string } => {
  const env = d.functions.get(role)?.environment ?? {};
  return {
    ...(env.REDIS_EXPORT_BUCKET ? { export: env.REDIS_EXPORT_BUCKET } : {}),
    ...(env.REDIS_DR_BUCKET ? { dr: env.REDIS_DR_BUCKET } : {}),
  };
};
/**
 * A Redis DR key or prefix as the deployment's own role sees it. A spoke target's copies live under its
 * region's prefix (`elasticache-<region>/`, spokeRdbPrefix) and are written by the spoke roles, which carry the
 * hub roles' Redis DR statements pointed at that prefix (infra/spoke.ts; simulated on the spoke roles
 * themselves, negatives included, in fleet-redis-dr.test.ts). A recorded spoke call stands here for the same
 * call under the deployment's own prefix, `elasticache/`, as spoke RDS calls stand for the hub role's.
 */
const rdbKey = (c: RecordedCall, field: 'Key' | 'Prefix') =>
  str(c, field)?.replace(/^elasticache-[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}\//, DR_RDB_PREFIX);
const isDumpCall = (c: RecordedCall) => adapterOf(c)?.startsWith('shared/aws/dump-objects.ts#') === true;
/** The deployment's dump location a recorded call stands for: the one with the call's prefix, else the first. */
const dumpLocationOf = (c: RecordedCall, d: Deployment) => {
  const all = dumpLocations(d.config);
  const prefix = str(c, 'Prefix');
  return all.find((l) => prefix !== undefined && l.prefix === prefix) ?? all[0];
};
/** A recorded dump object's ARN in the deployment: `<prefix><policy>/<instance>/<set>.dump` under its location. */
const dumpObjectOf = (c: RecordedCall, d: Deployment) => {
  const l = dumpLocationOf(c, d);
  if (!l) return undefined;
  const name = (str(c, 'Key') ?? '').split('/').slice(-3).join('/');
  return objectArnOf(d, l.bucket, `${l.prefix}${name}`);
};
const bucketArnOf = (d: Deployment, bucket: string) => `arn:${d.partition}:s3:::${bucket}`;
const objectArnOf = (d: Deployment, bucket: string, key: string | undefined) =>
  `${bucketArnOf(d, bucket)}/${key ?? ''}`;
const inAccount = (d: Deployment): Context => ({ 's3:ResourceAccount': d.account });
/** The export a copy reads (`CopySource` is `<bucket>/<url-encoded key>`), in the export bucket. */
const copySourceArn = (d: Deployment, c: RecordedCall) => {
  const source = str(c, 'CopySource') ?? '';
  const key = decodeURIComponent(source.slice(source.indexOf('/') + 1));
  return objectArnOf(d, redisBuckets(d, 'backup').export ?? '', key);
};
/** An object's tags on a request (`Tagging`, URL-encoded) as `s3:RequestObjectTag/<key>` context. */
const objectTags = (tagging: string | undefined): Context =>
  Object.fromEntries(
    [...new URLSearchParams(tagging ?? '')].map(([k, v]) => [`s3:RequestObjectTag/${k}`, v]),
  );
/** S3 using the DR key on the role's behalf for a Redis DR copy, in the DR region. */
const drKeyViaS3 = (
  d: Deployment,
  actions: string[],
  label: string,
  policy?: PolicyDocument,
): IamRequest[] => {
  const key = drKey(d);
  if (!key) return [];
  return actions.map((action) => ({
    ...req(
      action,
      key.arn,
      {
        'kms:ViaService': `s3.${d.config.dr.region}.amazonaws.com`,
        'kms:CallerAccount': d.account,
        ...(key.aliases.length ? { 'kms:ResourceAliases': key.aliases } : {}),
      },
      `${label} → ${action} (DR key, through S3)`,
    ),
    ...(policy ? { resourcePolicy: policy } : {}),
  }));
};
const reportBucket = (d: Deployment) =>
  [...d.functions.values()].find((f) => f.environment.REPORT_BUCKET)?.environment.REPORT_BUCKET ??
  'no-report-bucket';

const dynamo = (_c: RecordedCall, d: Deployment, action: string, pk: string | undefined): IamRequest[] =>
  // The DR copy queue exists only where a policy copies (the backup function sends nothing to it otherwise);
  // drills record shares of vault copies only where a target is drilled from the vault.
  (pk?.startsWith(COPY_QUEUE_PREFIX) && !Object.values(d.config.backup.policies).some((p) => p.copyToDr)) ||
  (pk?.startsWith(VAULT_SHARES_PREFIX) && !hasVaultDrills(d.config)) ||
  // and record fast snapshot restores only where the stage has EBS drills.
  (pk?.startsWith(FAST_RESTORES_KEY) && !Object.keys(d.config.drill.volumes).length)
    ? []
    : [
        req(
          action,
          arns(d).table(stateTable(d)),
          pk ? { 'dynamodb:LeadingKeys': [pk] } : {},
          `${action.split(':')[1]} (${pk?.split('#')[0] ?? '?'}#…)`,
        ),
      ];

/** The RDS-managed master secret of a database: tagged by RDS with the database's ARN (aws:rds:*). */
export const masterSecret = (d: Deployment, db: string, kind: 'rds-instance' | 'aurora-cluster') => {
  const a = arns(d);
  const [type, tag] =
    kind === 'aurora-cluster'
      ? ['cluster', 'aws:rds:primaryDBClusterArn']
      : ['db', 'aws:rds:primaryDBInstanceArn'];
  return {
    arn: a.secret(`rds!${type}-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9-${STAND_IN.secretSuffix}`),
    tags: { [tag]: a.rds(d.region, type, db) } as Tags,
  };
};

/** A database user of a restored drill copy, as `rds-db:connect` names it (the copy's resource id is RDS's). */
export const dbUser = (d: Deployment, kind: 'rds-instance' | 'aurora-cluster', user: string) =>
  `arn:${d.partition}:rds-db:${d.region}:${d.account}:dbuser:${kind === 'aurora-cluster' ? 'cluster-' : 'db-'}ABCDEFGHIJKLMNOPQRSTUVWXY2/${user}`;

/** The binder of a recorded call, or undefined when the suite does not know the command. */
export const binderFor = (c: RecordedCall): Binder | undefined => BINDERS[`${c.client}:${c.command}`];

/** Commands the suite can map (for the coverage report). */
export const mappedCommands = (): string[] => Object.keys(BINDERS);

/** The IAM requests of one recorded call for one role in one deployment. */
export const requestsFor = (
  c: RecordedCall,
  d: Deployment,
  role: string,
  drKeyPolicy?: PolicyDocument,
): IamRequest[] => {
  const bind = binderFor(c);
  if (!bind) throw new Error(`no IAM mapping for ${c.client} ${c.command}`);
  // AssumeRole's RoleArn is the role assumed, not one passed to a service.
  const passes = c.command.startsWith('Copy') || c.command === 'AssumeRole' ? [] : passRoles(c);
  return [...bind(c, d, role, drKeyPolicy), ...passes];
};

/**
 * What Lambda does with a function's role, from the template: write its logs, send traces, park failed
 * async invocations in its queue, and (in a VPC) manage its network interfaces.
 */
export const platformRequests = (d: Deployment, role: string): IamRequest[] => {
  const f = d.functions.get(role);
  if (!f) return [];
  const a = arns(d);
  const logStream = `arn:${d.partition}:logs:${d.region}:${d.account}:log-group:${f.logGroup}:log-stream:2026/01/15/[$LATEST]0a1b`;
  const out = [
    req('logs:CreateLogStream', logStream, {}, 'Lambda → logs:CreateLogStream'),
    req('logs:PutLogEvents', logStream, {}, 'Lambda → logs:PutLogEvents'),
    ...(f.tracing
      ? [
          req('xray:PutTraceSegments', '*', {}, 'Lambda → xray:PutTraceSegments'),
          req('xray:PutTelemetryRecords', '*', {}, 'Lambda → xray:PutTelemetryRecords'),
        ]
      : []),
    ...(f.failureQueueArn
      ? [req('sqs:SendMessage', f.failureQueueArn, {}, 'Lambda → sqs:SendMessage (on-failure destination)')]
      : []),
  ];
  if (f.vpc) {
    const { vpcArn, subnetIds, securityGroupIds } = f.vpc;
    const eni = a.ec2('network-interface', 'eni-0a1b2c3d4e5f60718');
    const inVpc = { 'ec2:Vpc': vpcArn, 'ec2:Region': d.region };
    out.push(
      req('ec2:DescribeNetworkInterfaces', '*', {}, 'Lambda (VPC) → ec2:DescribeNetworkInterfaces'),
      req('ec2:DescribeSubnets', '*', {}, 'Lambda (VPC) → ec2:DescribeSubnets'),
      // A new interface: the network-interface resource carries no ec2:Vpc; its subnet and groups do.
      req(
        'ec2:CreateNetworkInterface',
        a.ec2('network-interface', '*'),
        { 'ec2:Region': d.region },
        'Lambda (VPC) → ec2:CreateNetworkInterface (new interface)',
      ),
      ...subnetIds.map((s) =>
        req(
          'ec2:CreateNetworkInterface',
          a.ec2('subnet', s),
          { ...inVpc, 'ec2:SubnetID': s },
          'Lambda (VPC) → ec2:CreateNetworkInterface (subnet)',
        ),
      ),
      ...securityGroupIds.map((g) =>
        req(
          'ec2:CreateNetworkInterface',
          a.ec2('security-group', g),
          { ...inVpc, 'ec2:SecurityGroupID': g },
          'Lambda (VPC) → ec2:CreateNetworkInterface (security group)',
        ),
      ),
      ...['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'].map(
        (action) =>
          req(
            action,
            eni,
            { ...inVpc, 'ec2:Subnet': a.ec2('subnet', subnetIds[0]!) },
            `Lambda (VPC) → ${action}`,
          ),
      ),
    );
  }
  return out;
};

/**
 * What AWS services do with steward's other roles, from the template: EventBridge Scheduler invokes its
 * target and parks undeliverable events, Step Functions invokes the Task functions of the definition,
 * VPC Flow Logs writes to its log group.
 */
export const serviceRoleRequests = (
  d: Deployment,
  role: { logicalId: string; trust: PolicyDocument },
): IamRequest[] => {
  const { resolve } = resolver(d.template, d.account, d.region);
  const principals = role.trust.Statement.flatMap((st) =>
    list((st as { Principal?: { Service?: string | string[] } }).Principal?.Service),
  );
  const ours = (x: unknown) =>
    (x as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0] === role.logicalId;
  const resources = Object.values(d.template.Resources);
  const out: IamRequest[] = [];
  if (principals.includes('scheduler.amazonaws.com')) {
    for (const sch of resources.filter((x) => x.Type === 'AWS::Scheduler::Schedule')) {
      const t = sch.Properties?.Target as {
        Arn: unknown;
        RoleArn: unknown;
        DeadLetterConfig?: { Arn: unknown };
      };
      if (!ours(t.RoleArn)) continue;
      const target = String(resolve(t.Arn));
      out.push(
        target.includes(':states:')
          ? req('states:StartExecution', target, {}, 'Scheduler → states:StartExecution')
          : req('lambda:InvokeFunction', target, {}, 'Scheduler → lambda:InvokeFunction'),
      );
      if (t.DeadLetterConfig)
        out.push(
          req(
            'sqs:SendMessage',
            String(resolve(t.DeadLetterConfig.Arn)),
            {},
            'Scheduler → sqs:SendMessage (dead-letter queue)',
          ),
        );
    }
  }
  if (principals.includes('states.amazonaws.com')) {
    for (const sm of resources.filter(
      (x) => x.Type === 'AWS::StepFunctions::StateMachine' && ours(x.Properties?.RoleArn),
    )) {
      const definition = String(resolve(sm.Properties?.DefinitionString));
      for (const fn of new Set(definition.match(/arn:[a-z-]+:lambda:[^"]+/g) ?? [])) {
        out.push(
          req(
            'lambda:InvokeFunction',
            fn,
            {},
            `State machine → lambda:InvokeFunction (${fn.split(':').pop()})`,
          ),
        );
      }
      if ((sm.Properties?.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled) {
        out.push(req('xray:PutTraceSegments', '*', {}, 'State machine → xray:PutTraceSegments'));
      }
    }
  }
  if (principals.includes('vpc-flow-logs.amazonaws.com')) {
    for (const fl of resources.filter(
      (x) => x.Type === 'AWS::EC2::FlowLog' && ours(x.Properties?.DeliverLogsPermissionArn),
    )) {
      const group = String(resolve(fl.Properties?.LogGroupName));
      const stream = `arn:${d.partition}:logs:${d.region}:${d.account}:log-group:${group}:log-stream:eni-0a1b2c3d4e5f60718-all`;
      out.push(
        req('logs:CreateLogStream', stream, {}, 'Flow logs → logs:CreateLogStream'),
        req('logs:PutLogEvents', stream, {}, 'Flow logs → logs:PutLogEvents'),
      );
    }
  }
  return out;
};
