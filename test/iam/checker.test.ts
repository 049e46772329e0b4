import { describe, expect, it } from 'vitest';
import { drKeyPolicyStatement } from '../../infra/backup.js';
import { stateMachinesLoggingData, unguardedServicePrincipals } from './guards.js';
import { lintPolicy } from './lint.js';
import { type IamRequest, requestTags, resourceTags } from './requests.js';
import { simulate } from './simulate.js';
import type { PolicyDocument, PolicyStatement } from './template.js';

/**
 * The checker itself: every defect issue #9 found in the synthesized roles, as a policy fixture copied
 * from the statement that shipped, must turn the checker red; the statement that replaced it must turn
 * it green. If the checker stopped seeing a defect, these fail.
 */

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/steward-fixture`;
const a = (service: string, rest: string, region = REGION, account = ACCOUNT) =>
  `arn:aws:${service}:${region}:${account}:${rest}`;
const doc = (...Statement: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement });
const request = (
  action: string,
  resource: string,
  context: IamRequest['context'] = {},
  extra: Partial<IamRequest> = {},
): IamRequest => ({
  action,
  resource,
  context,
  label: `${action} on ${resource}`,
  ...extra,
});
const decide = async (policy: PolicyDocument, r: IamRequest) =>
  (await simulate(ROLE, policy, r, ACCOUNT, REGION)).decision;
const findings = async (policy: PolicyDocument) =>
  (await lintPolicy(policy)).map((f) => `${f.problem}: ${f.detail}`);
const defaultKeyPolicy = doc({
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
  Action: 'kms:*',
  Resource: '*',
} as PolicyStatement);
const managed = { 'steward:managed': 'true', 'steward:source': 'orders-db' };

describe('the IAM checker goes red on each defect it found, and green on the fix', () => {
  it('CreateDBInstanceReadReplica without the parameter-group resource: adding a replica is denied', async () => {
    // Prepare
    const shipped = doc({
      Effect: 'Allow',
      Action: 'rds:CreateDBInstanceReadReplica',
      Resource: [
        a('rds', 'db:orders-db'),
        a('rds', 'db:orders-db-replica-*'),
        a('rds', 'og:*'),
        a('rds', 'subgrp:*'),
      ],
      Condition: { StringEquals: { 'aws:RequestTag/steward:managed': 'true' } },
    });
    const fixed = doc({
      ...shipped.Statement[0]!,
      Resource: [...(shipped.Statement[0]!.Resource as string[]), a('rds', 'pg:*')],
    });
    const inherited = request(
      'rds:CreateDBInstanceReadReplica',
      a('rds', 'pg:default.postgres16'),
      requestTags(managed),
    );

    // Act + Assert
    expect(await decide(shipped, inherited)).toBe('ImplicitlyDenied');
    expect(await decide(fixed, inherited)).toBe('Allowed');
  });

  it('ec2:CreateNetworkInterface conditioned on ec2:Vpc for the network-interface resource: attaching to the VPC fails', async () => {
    // Prepare
    const vpc = a('ec2', 'vpc/vpc-0a1b');
    const shipped = doc({
      Sid: 'ManageVpcNetworkInterfaces',
      Effect: 'Allow',
      Action: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface'],
      Resource: [a('ec2', 'network-interface/*'), a('ec2', 'subnet/*'), a('ec2', 'security-group/*')],
      Condition: { ArnEquals: { 'ec2:Vpc': vpc } },
    });
    const fixed = doc(
      { Effect: 'Allow', Action: 'ec2:CreateNetworkInterface', Resource: a('ec2', 'network-interface/*') },
      {
        Effect: 'Allow',
        Action: 'ec2:CreateNetworkInterface',
        Resource: [a('ec2', 'subnet/*'), a('ec2', 'security-group/*')],
        Condition: { ArnEquals: { 'ec2:Vpc': vpc } },
      },
      {
        Effect: 'Allow',
        Action: 'ec2:DeleteNetworkInterface',
        Resource: a('ec2', 'network-interface/*'),
        Condition: { ArnEquals: { 'ec2:Vpc': vpc } },
      },
    );
    const create = request('ec2:CreateNetworkInterface', a('ec2', 'network-interface/*'), { 'ec2:Vpc': vpc });

    // Act + Assert
    expect(await findings(shipped)).toContain(
      'condition-key-never-supplied: ec2:CreateNetworkInterface on network-interface (' +
        a('ec2', 'network-interface/*') +
        ') never carries ec2:Vpc',
    );
    expect(await decide(shipped, create)).toBe('ImplicitlyDenied');
    expect(await findings(fixed)).toEqual([]);
    expect(await decide(fixed, create)).toBe('Allowed');
  });

  it('ElastiCache CreateSnapshot with aws:RequestTag on the replication group: cache backups are denied', async () => {
    // Prepare
    const shipped = doc({
      Effect: 'Allow',
      Action: 'elasticache:CreateSnapshot',
      Resource: [
        a('elasticache', 'replicationgroup:*'),
        a('elasticache', 'cluster:*'),
        a('elasticache', 'snapshot:steward-*'),
      ],
      Condition: { StringEquals: { 'aws:RequestTag/steward:managed': 'true' } },
    });
    const fixed = doc(
      {
        Effect: 'Allow',
        Action: 'elasticache:CreateSnapshot',
        Resource: a('elasticache', 'replicationgroup:*'),
        Condition: { Null: { 'aws:ResourceTag/steward:backup': 'false' } },
      },
      {
        Effect: 'Allow',
        Action: 'elasticache:CreateSnapshot',
        Resource: a('elasticache', 'snapshot:steward-*'),
        Condition: { StringEquals: { 'aws:RequestTag/steward:managed': 'true' } },
      },
    );
    const group = a('elasticache', 'replicationgroup:sessions');
    const backup = request('elasticache:CreateSnapshot', group, {
      ...requestTags(managed),
      ...resourceTags(group, { 'steward:backup': 'daily' }),
    });

    // Act + Assert
    expect((await findings(shipped)).filter((f) => f.includes('replicationgroup'))).toHaveLength(1);
    expect(await decide(shipped, backup)).toBe('ImplicitlyDenied');
    expect(await findings(fixed)).toEqual([]);
    expect(await decide(fixed, backup)).toBe('Allowed');
  });

  it('states:SendTaskSuccess/Failure on the state machine ARN: resuming a drill is denied', async () => {
    // Prepare
    const shipped = doc({
      Effect: 'Allow',
      Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
      Resource: a('states', 'stateMachine:steward-prod-drill'),
    });
    const fixed = doc({ ...shipped.Statement[0]!, Resource: '*' });
    const resume = request('states:SendTaskSuccess', '*');

    // Act + Assert
    expect(await findings(shipped)).toContain(
      'wildcard-only-action-on-arn: states:SendTaskSuccess supports no resource-level permissions: it is only ever allowed on "*"',
    );
    expect(await decide(shipped, resume)).toBe('ImplicitlyDenied');
    expect(await findings(fixed)).toEqual([]);
    expect(await decide(fixed, resume)).toBe('Allowed');
  });

  describe('ownership forged by tagging an existing resource', () => {
    const tagOnCreate = doc({
      Effect: 'Allow',
      Action: 'rds:AddTagsToResource',
      Resource: a('rds', 'snapshot:steward-*'),
      Condition: { StringEquals: { 'aws:RequestTag/steward:managed': 'true' } },
    });
    const guard = (key: string): PolicyStatement => ({
      Effect: 'Deny',
      Action: ['rds:AddTagsToResource', 'elasticache:AddTagsToResource'],
      Resource: '*',
      Condition: { Null: { [`aws:ResourceTag/${key}`]: 'false' } },
    });
    const fixed = doc(...tagOnCreate.Statement, guard('steward:managed'), guard('steward:source'));
    const snapshot = a('rds', 'snapshot:steward-orders-db-202601150300-sched');
    const tag = (existing: Record<string, string>, tags = managed) =>
      request('rds:AddTagsToResource', snapshot, {
        ...requestTags(tags),
        ...resourceTags(snapshot, existing),
      });

    it.each([
      ['adopt a snapshot marked steward:managed=false', { 'steward:managed': 'false' }, managed],
      [
        're-parent a managed snapshot to another source',
        managed,
        { ...managed, 'steward:source': 'other-db' },
      ],
    ])('shipped: a role could %s; fixed: denied', async (_title, existing, tags) => {
      expect(await decide(tagOnCreate, tag(existing, tags))).toBe('Allowed');
      expect(await decide(fixed, tag(existing, tags))).toBe('ExplicitlyDenied');
    });

    it('fixed: tag-on-create of a new snapshot is still allowed', async () => {
      expect(await decide(fixed, tag({}))).toBe('Allowed');
    });
  });

  it('drill restore of any snapshot in the region: a non-target database is restorable', async () => {
    // Prepare
    const shipped = doc({
      Effect: 'Allow',
      Action: 'rds:RestoreDBInstanceFromDBSnapshot',
      Resource: [a('rds', 'db:steward-drill-*'), a('rds', 'snapshot:*')],
      Condition: { StringEquals: { 'aws:RequestTag/steward:managed': 'true' } },
    });
    const fixed = doc({
      ...shipped.Statement[0]!,
      Resource: [
        a('rds', 'db:steward-drill-*'),
        a('rds', 'snapshot:steward-orders-db-????????????-sched'),
        a('rds', 'snapshot:rds:orders-db-????-??-??-??-??'),
      ],
    });
    const restore = (id: string) =>
      request('rds:RestoreDBInstanceFromDBSnapshot', a('rds', `snapshot:${id}`), requestTags(managed));

    // Act + Assert
    expect(await decide(shipped, restore('steward-billing-db-202601150300-sched'))).toBe('Allowed');
    expect(await decide(fixed, restore('steward-billing-db-202601150300-sched'))).toBe('ImplicitlyDenied');
    expect(await decide(fixed, restore('steward-orders-db-202601150300-sched'))).toBe('Allowed');
    expect(await decide(fixed, restore('rds:orders-db-2026-01-15-03-05'))).toBe('Allowed');
  });

  it('verifier reads any RDS-managed master secret: a non-target database secret is readable', async () => {
    // Prepare
    const shipped = doc({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: a('secretsmanager', 'secret:rds!*'),
    });
    const fixed = doc({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: a('secretsmanager', 'secret:rds!db-*'),
      Condition: {
        StringEquals: { 'aws:ResourceTag/aws:rds:primaryDBInstanceArn': [a('rds', 'db:orders-db')] },
      },
    });
    const secret = a('secretsmanager', 'secret:rds!db-0a1b-AbCdEf');
    const read = (db: string) =>
      request(
        'secretsmanager:GetSecretValue',
        secret,
        resourceTags(secret, { 'aws:rds:primaryDBInstanceArn': a('rds', `db:${db}`) }),
      );

    // Act + Assert
    expect(await decide(shipped, read('billing-db'))).toBe('Allowed');
    expect(await decide(fixed, read('billing-db'))).toBe('ImplicitlyDenied');
    expect(await decide(fixed, read('orders-db'))).toBe('Allowed');
  });

  it('ModifyDBInstance unconditioned: any change to the scaled database is allowed', async () => {
    // Prepare
    const shipped = doc({
      Effect: 'Allow',
      Action: 'rds:ModifyDBInstance',
      Resource: a('rds', 'db:orders-db'),
    });
    const fixed = doc({
      ...shipped.Statement[0]!,
      Condition: { StringEquals: { 'rds:DatabaseClass': ['db.r6g.large', 'db.r6g.xlarge'] } },
    });
    const modify = (context: IamRequest['context']) =>
      request('rds:ModifyDBInstance', a('rds', 'db:orders-db'), context);

    // Act + Assert
    expect(await decide(shipped, modify({}))).toBe('Allowed');
    expect(await decide(shipped, modify({ 'rds:DatabaseClass': 'db.x2g.16xlarge' }))).toBe('Allowed');
    expect(await decide(fixed, modify({}))).toBe('ImplicitlyDenied');
    expect(await decide(fixed, modify({ 'rds:DatabaseClass': 'db.x2g.16xlarge' }))).toBe('ImplicitlyDenied');
    expect(await decide(fixed, modify({ 'rds:DatabaseClass': 'db.r6g.xlarge' }))).toBe('Allowed');
  });

  it('kms:CreateGrant without kms:GrantIsForAWSResource: a grant to any principal is allowed', async () => {
    // Prepare
    const key = a('kms', 'key/0a1b2c3d');
    const via = { StringEquals: { 'kms:ViaService': `rds.${REGION}.amazonaws.com` } };
    const shipped = doc({
      Effect: 'Allow',
      Action: ['kms:CreateGrant', 'kms:DescribeKey'],
      Resource: a('kms', 'key/*'),
      Condition: via,
    });
    const fixed = doc({
      Effect: 'Allow',
      Action: 'kms:CreateGrant',
      Resource: a('kms', 'key/*'),
      Condition: { ...via, Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    });
    const grant = (forAws: string) =>
      request(
        'kms:CreateGrant',
        key,
        { 'kms:ViaService': `rds.${REGION}.amazonaws.com`, 'kms:GrantIsForAWSResource': forAws },
        { resourcePolicy: defaultKeyPolicy },
      );

    // Act + Assert
    expect(await decide(shipped, grant('false'))).toBe('Allowed');
    expect(await decide(fixed, grant('false'))).toBe('ImplicitlyDenied');
    expect(await decide(fixed, grant('true'))).toBe('Allowed');
  });

  it('topic key usable outside SNS and by a function that never publishes', async () => {
    // Prepare
    const key = a('kms', 'key/topics');
    const shipped = doc({ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: key });
    const fixed = doc({
      ...shipped.Statement[0]!,
      Condition: { StringEquals: { 'kms:ViaService': `sns.${REGION}.amazonaws.com` } },
    });
    const direct = request('kms:Decrypt', key, {}, { resourcePolicy: defaultKeyPolicy });

    // Act + Assert
    expect(await decide(shipped, direct)).toBe('Allowed');
    expect(await decide(fixed, direct)).toBe('ImplicitlyDenied');
    expect(await decide(doc(), direct)).toBe('ImplicitlyDenied');
  });

  it("one state table without dynamodb:LeadingKeys: each function reads and writes the others' items", async () => {
    // Prepare
    const table = a('dynamodb', 'table/steward-prod-state');
    const shipped = doc({
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:GetItem'],
      Resource: table,
    });
    const fixed = doc({
      ...shipped.Statement[0]!,
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['drill-token#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    });
    const put = (pk: string) => request('dynamodb:PutItem', table, { 'dynamodb:LeadingKeys': [pk] });

    // Act + Assert
    expect(await decide(shipped, put('scaling-approval#x'))).toBe('Allowed');
    expect(await decide(fixed, put('scaling-approval#x'))).toBe('ImplicitlyDenied');
    expect(await decide(fixed, put('drill-token#steward-drill-x'))).toBe('Allowed');
  });

  it('no s3:ListBucket: a missing drill baseline answers 403 instead of 404', async () => {
    const bucket = 'arn:aws:s3:::steward-prod-drill-reports';
    const shipped = doc({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: `${bucket}/baselines/*`,
    });
    const fixed = doc(...shipped.Statement, { Effect: 'Allow', Action: 's3:ListBucket', Resource: bucket });
    expect(await decide(shipped, request('s3:ListBucket', bucket))).toBe('ImplicitlyDenied');
    expect(await decide(fixed, request('s3:ListBucket', bucket))).toBe('Allowed');
  });

  it('the verifier role had no RDS read, so its master-secret fallback could never work', async () => {
    const shipped = doc({
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: a('secretsmanager', 'secret:rds!*'),
    });
    expect(await decide(shipped, request('rds:DescribeDBInstances', a('rds', 'db:orders-db')))).toBe(
      'ImplicitlyDenied',
    );
  });

  it('a DR key in another account refuses the copy until its policy has the printed statement', async () => {
    // Prepare
    const key = 'arn:aws:kms:us-west-2:444455556666:key/0a1b';
    const identity = doc({
      Effect: 'Allow',
      Action: 'kms:CreateGrant',
      Resource: key,
      Condition: {
        StringEquals: { 'kms:ViaService': 'rds.us-west-2.amazonaws.com' },
        Bool: { 'kms:GrantIsForAWSResource': 'true' },
      },
    });
    const grant = (policy: PolicyDocument) =>
      request(
        'kms:CreateGrant',
        key,
        { 'kms:ViaService': 'rds.us-west-2.amazonaws.com', 'kms:GrantIsForAWSResource': 'true' },
        { resourcePolicy: policy },
      );
    const keysOwnAccountOnly = doc({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::444455556666:root' },
      Action: 'kms:*',
      Resource: '*',
    } as PolicyStatement);

    // Act + Assert
    expect(await decide(identity, grant(keysOwnAccountOnly))).not.toBe('Allowed');
    expect(
      await decide(identity, grant(doc(...(drKeyPolicyStatement(ROLE, 'us-west-2') as PolicyStatement[])))),
    ).toBe('Allowed');
  });

  it('service principals without aws:SourceAccount and logs with execution data are reported', () => {
    // Prepare: the shipped flow-log trust, topic key statement and state machine logging.
    const template = {
      Resources: {
        FlowLogRole: {
          Type: 'AWS::IAM::Role',
          Properties: {
            AssumeRolePolicyDocument: doc({
              Effect: 'Allow',
              Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
              Action: 'sts:AssumeRole',
            } as PolicyStatement),
          },
        },
        TopicKey: {
          Type: 'AWS::KMS::Key',
          Properties: {
            KeyPolicy: doc({
              Effect: 'Allow',
              Principal: { Service: ['cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
              Action: ['kms:Decrypt'],
              Resource: '*',
            } as PolicyStatement),
          },
        },
        StateMachine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { LoggingConfiguration: { IncludeExecutionData: true } },
        },
      },
    };

    // Act + Assert
    expect(unguardedServicePrincipals(template)).toHaveLength(2);
    expect(stateMachinesLoggingData(template)).toEqual(['StateMachine']);
  });
});
