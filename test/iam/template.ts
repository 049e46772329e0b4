import { App } from 'aws-cdk-lib';
import { StewardStack } from '../../infra/stack.js';
import type { StewardConfig, StewardConfigInput } from '../../shared/config/schema.js';
import { cdkContext } from '../infra/iam.js';

/** An IAM policy document as it reaches IAM: every intrinsic resolved to a concrete string. */
export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** One IAM role of a synthesized stage, with its effective identity policy. */
export interface RoleUnderTest {
  /** `backup`, `drill-verify`, …  for a function's role; the logical id otherwise. */
  name: string;
  logicalId: string;
  arn: string;
  policy: PolicyDocument;
  trust: PolicyDocument;
}

/** What the template says about one function (resolved): what Lambda itself does with its role. */
export interface FunctionFacts {
  name: string;
  role: string;
  environment: Record<string, string>;
  logGroup: string;
  tracing: boolean;
  failureQueueArn?: string;
  vpc?: { vpcArn: string; subnetIds: string[]; securityGroupIds: string[] };
}

/** One synthesized stage: where it deploys and every role in it. */
export interface Deployment {
  name: string;
  config: StewardConfig;
  account: string;
  region: string;
  partition: string;
  roles: Map<string, RoleUnderTest>;
  /** By role name (`backup`, `drill-verify`, …). */
  functions: Map<string, FunctionFacts>;
  /** The notification topics' KMS key. */
  topicKeyArn: string;
  /** Key policies of the KMS keys the stack creates, by key ARN. */
  keyPolicies: Map<string, PolicyDocument>;
  template: Template;
}

interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** The account an account-agnostic stack is simulated in (its DR key in the prod config lives elsewhere). */
export const DEFAULT_ACCOUNT = '123456789012';
export const PARTITION = 'aws';

type Json = unknown;

/**
 * Resolve CloudFormation intrinsics to the strings CloudFormation would produce at deploy time, for a
 * concrete account, region and partition. Physical names that CloudFormation generates are stable
 * stand-ins (`<logical id lowercased>`); every unknown intrinsic or resource type throws, so a policy
 * is never simulated with a placeholder it does not really have.
 */
export const resolver = (template: Template, account: string, region: string, partition = PARTITION) => {
  const resources = template.Resources;
  const props = (id: string) => {
    const r = resources[id];
    if (!r) throw new Error(`Ref/GetAtt to unknown resource ${id}`);
    return { type: r.Type, p: r.Properties ?? {} };
  };
  const arn = (service: string, rest: string, r = region) =>
    `arn:${partition}:${service}:${r}:${account}:${rest}`;
  const str = (x: Json): string => {
    const v = resolve(x);
    if (typeof v !== 'string') throw new Error(`expected a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const generated = (id: string) => id.toLowerCase();

  const ref = (id: string): string => {
    switch (id) {
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::Partition':
        return partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return 'steward-stack';
    }
    const { type, p } = props(id);
    switch (type) {
      case 'AWS::SNS::Topic':
        return arn('sns', p.TopicName ? str(p.TopicName) : generated(id));
      case 'AWS::KMS::Key':
        return `key-${generated(id)}`;
      case 'AWS::DynamoDB::Table':
        return p.TableName ? str(p.TableName) : generated(id);
      case 'AWS::S3::Bucket':
        return p.BucketName ? str(p.BucketName) : generated(id);
      case 'AWS::Logs::LogGroup':
        return p.LogGroupName ? str(p.LogGroupName) : generated(id);
      case 'AWS::Lambda::Function':
        return p.FunctionName ? str(p.FunctionName) : generated(id);
      case 'AWS::StepFunctions::StateMachine':
        return arn('states', `stateMachine:${p.StateMachineName ? str(p.StateMachineName) : generated(id)}`);
      case 'AWS::IAM::Role':
        return p.RoleName ? str(p.RoleName) : generated(id);
      case 'AWS::IAM::InstanceProfile':
        return p.InstanceProfileName ? str(p.InstanceProfileName) : generated(id);
      case 'AWS::SQS::Queue':
        return `https://sqs.${region}.amazonaws.com/${account}/${generated(id)}`;
      case 'AWS::EC2::VPC':
        return `vpc-${generated(id)}`;
      case 'AWS::EC2::Subnet':
        return `subnet-${generated(id)}`;
      case 'AWS::EC2::SecurityGroup':
        return `sg-${generated(id)}`;
      case 'AWS::RDS::DBSubnetGroup':
        return (p.DBSubnetGroupName ? str(p.DBSubnetGroupName) : generated(id)).toLowerCase();
      case 'AWS::Scheduler::ScheduleGroup':
        return p.Name ? str(p.Name) : generated(id);
      // Ref of the ElastiCache cache subnet group, user group and user: their name / id.
      case 'AWS::ElastiCache::SubnetGroup':
        return (p.CacheSubnetGroupName ? str(p.CacheSubnetGroupName) : generated(id)).toLowerCase();
      case 'AWS::ElastiCache::UserGroup':
        return str(p.UserGroupId);
      case 'AWS::ElastiCache::User':
        return str(p.UserId);
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${partition}:iam::${account}:policy/${p.ManagedPolicyName ? str(p.ManagedPolicyName) : generated(id)}`;
      case 'AWS::Events::Rule':
        return p.Name ? str(p.Name) : generated(id);
    }
    throw new Error(`no Ref rule for ${type} (${id})`);
  };

  const getAtt = (id: string, attribute: string): string => {
    const { type, p } = props(id);
    const key = `${type}.${attribute}`;
    switch (key) {
      case 'AWS::SNS::Topic.TopicArn':
        return ref(id);
      case 'AWS::KMS::Key.Arn':
        return arn('kms', `key/${ref(id)}`);
      case 'AWS::DynamoDB::Table.Arn':
        return arn('dynamodb', `table/${ref(id)}`);
      case 'AWS::S3::Bucket.Arn':
        return `arn:${partition}:s3:::${ref(id)}`;
      case 'AWS::Logs::LogGroup.Arn':
        return arn('logs', `log-group:${ref(id)}:*`);
      case 'AWS::Lambda::Function.Arn':
        return arn('lambda', `function:${ref(id)}`);
      case 'AWS::StepFunctions::StateMachine.Arn':
        return ref(id);
      case 'AWS::StepFunctions::StateMachine.Name':
        return p.StateMachineName ? str(p.StateMachineName) : generated(id);
      case 'AWS::IAM::Role.Arn':
        return `arn:${partition}:iam::${account}:role/${ref(id)}`;
      case 'AWS::IAM::InstanceProfile.Arn':
        return `arn:${partition}:iam::${account}:instance-profile/${ref(id)}`;
      case 'AWS::SQS::Queue.Arn':
        return arn('sqs', generated(id));
      case 'AWS::EC2::SecurityGroup.GroupId':
        return ref(id);
      case 'AWS::Scheduler::ScheduleGroup.Arn':
        return arn('scheduler', `schedule-group/${ref(id)}`);
      case 'AWS::Events::ApiDestination.Arn':
        return arn('events', `api-destination/${p.Name ? str(p.Name) : generated(id)}/${generated(id)}`);
      case 'AWS::Events::Connection.Arn':
        return arn('events', `connection/${p.Name ? str(p.Name) : generated(id)}/${generated(id)}`);
      case 'AWS::Events::Rule.Arn':
        return arn('events', `rule/${ref(id)}`);
      case 'AWS::CloudWatch::Alarm.Arn':
        return arn('cloudwatch', `alarm:${p.AlarmName ? str(p.AlarmName) : generated(id)}`);
    }
    throw new Error(`no GetAtt rule for ${key} (${id})`);
  };

  const resolve = (x: Json): Json => {
    if (Array.isArray(x)) return x.map(resolve);
    if (x === null || typeof x !== 'object') return x;
    const o = x as Record<string, Json>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      const [k] = keys as [string];
      const v = o[k];
      if (k === 'Ref') return ref(v as string);
      if (k === 'Fn::GetAtt') {
        const [id, att] = (typeof v === 'string' ? v.split('.') : v) as [string, string];
        return getAtt(id, att);
      }
      if (k === 'Fn::Join') {
        const [sep, parts] = v as [string, Json[]];
        return (resolve(parts) as Json[]).map((p) => str(p)).join(sep);
      }
      if (k === 'Fn::Sub') {
        const [text, vars] = (typeof v === 'string' ? [v, {}] : v) as [string, Record<string, Json>];
        return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) =>
          name in vars
            ? str(vars[name])
            : name.includes('.')
              ? getAtt(...(name.split('.') as [string, string]))
              : ref(name),
        );
      }
      if (k === 'Fn::Select') {
        const [i, list] = v as [number, Json];
        return (resolve(list) as Json[])[Number(i)];
      }
      if (k === 'Fn::GetAZs') return [`${region}a`, `${region}b`, `${region}c`];
      if (k === 'Fn::Split') {
        const [sep, s] = v as [string, Json];
        return str(s).split(sep);
      }
      if (k.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${k}`);
    }
    return Object.fromEntries(keys.map((k) => [k, resolve(o[k])]));
  };
  return { resolve, ref, getAtt };
};

const list = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);

/**
 * Every role in the template with its effective identity policy: its inline policies plus every
 * AWS::IAM::Policy attached to it. Managed policy ARNs are refused: steward attaches none, and an AWS
 * managed policy would have to be simulated too.
 */
export const rolesOf = (
  template: Template,
  stage: string,
  account: string,
  region: string,
): Map<string, RoleUnderTest> => {
  const { resolve, getAtt } = resolver(template, account, region);
  const byLogical = new Map<string, RoleUnderTest>();
  const entries = Object.entries(template.Resources);
  for (const [id, r] of entries) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const p = r.Properties ?? {};
    if (p.ManagedPolicyArns) throw new Error(`role ${id} has managed policies: simulate them too`);
    const statements = list(p.Policies as { PolicyDocument: PolicyDocument }[] | undefined).flatMap(
      (x) => (resolve(x.PolicyDocument) as PolicyDocument).Statement,
    );
    byLogical.set(id, {
      name: id,
      logicalId: id,
      arn: getAtt(id, 'Arn'),
      policy: { Version: '2012-10-17', Statement: statements },
      trust: resolve(p.AssumeRolePolicyDocument) as PolicyDocument,
    });
  }
  for (const [id, r] of entries) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const p = r.Properties ?? {};
    const doc = resolve(p.PolicyDocument) as PolicyDocument;
    for (const roleRef of list(p.Roles as Json[] | undefined)) {
      const roleId = Object.values(roleRef as Record<string, string>)[0]!;
      const role = byLogical.get(roleId);
      if (!role) throw new Error(`policy ${id} attaches to unknown role ${JSON.stringify(roleRef)}`);
      role.policy.Statement.push(...doc.Statement);
    }
  }
  // Name a function's role after the function (`steward-<stage>-<name>` → `<name>`).
  for (const [, r] of entries) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const p = r.Properties ?? {};
    const roleId = ((p.Role as Record<string, string[]>)['Fn::GetAtt'] ?? [])[0];
    const fn = String(resolve(p.FunctionName));
    const role = roleId && byLogical.get(roleId);
    if (role) role.name = fn.replace(`steward-${stage}-`, '');
  }
  return new Map([...byLogical.values()].map((r) => [r.name, r]));
};

/** The facts of every function of the template, by role name; roles must already carry those names. */
export const functionsOf = (
  template: Template,
  roles: Map<string, RoleUnderTest>,
  account: string,
  region: string,
): Map<string, FunctionFacts> => {
  const { resolve } = resolver(template, account, region);
  const entries = Object.entries(template.Resources);
  const roleByLogical = new Map([...roles.values()].map((r) => [r.logicalId, r.name]));
  const out = new Map<string, FunctionFacts>();
  for (const [id, r] of entries) {
    if (r.Type !== 'AWS::Lambda::Function') continue;
    const p = r.Properties ?? {};
    const role = roleByLogical.get(((p.Role as Record<string, string[]>)['Fn::GetAtt'] ?? [])[0]!)!;
    const invoke = entries.find(
      ([, x]) =>
        x.Type === 'AWS::Lambda::EventInvokeConfig' &&
        (x.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === id,
    )?.[1];
    const vpc = p.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] } | undefined;
    const subnets = vpc ? (resolve(vpc.SubnetIds) as string[]) : [];
    // The VPC of the subnets: each subnet resource names it.
    const subnetVpc = vpc
      ? String(
          resolve(
            entries.find(
              ([sid, x]) => x.Type === 'AWS::EC2::Subnet' && `subnet-${sid.toLowerCase()}` === subnets[0],
            )?.[1].Properties?.VpcId,
          ),
        )
      : '';
    out.set(role, {
      name: String(resolve(p.FunctionName)),
      role,
      environment: (resolve((p.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}) ??
        {}) as Record<string, string>,
      logGroup: String(resolve((p.LoggingConfig as { LogGroup: unknown }).LogGroup)),
      tracing: (p.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
      ...(invoke
        ? {
            failureQueueArn: String(
              resolve(
                (invoke.Properties?.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure
                  .Destination,
              ),
            ),
          }
        : {}),
      ...(vpc
        ? {
            vpc: {
              vpcArn: `arn:${PARTITION}:ec2:${region}:${account}:vpc/${subnetVpc}`,
              subnetIds: subnets,
              securityGroupIds: resolve(vpc.SecurityGroupIds) as string[],
            },
          }
        : {}),
    });
  }
  return out;
};

/** Synthesize one stage without bundling or template validation (IAM only) and extract its roles. */
export const synthesize = (
  name: string,
  input: StewardConfigInput,
  account = DEFAULT_ACCOUNT,
): Deployment => {
  const app = new App({
    builtinCloudFormationValidation: false,
    context: { ...cdkContext, 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new StewardStack(app, `Steward-${name}`, { config: input });
  const template = app.synth().getStackByName(stack.stackName).template as Template;
  const acct = stack.config.account ?? account;
  const region = stack.config.region;
  const roles = rolesOf(template, stack.config.stage, acct, region);
  const topic = Object.values(template.Resources).find((r) => r.Type === 'AWS::SNS::Topic');
  const { resolve, getAtt } = resolver(template, acct, region);
  const keyPolicies = new Map(
    Object.entries(template.Resources)
      .filter(([, r]) => r.Type === 'AWS::KMS::Key')
      .map(([id, r]) => [getAtt(id, 'Arn'), resolve(r.Properties?.KeyPolicy) as PolicyDocument]),
  );
  return {
    name,
    config: stack.config,
    account: acct,
    region,
    partition: PARTITION,
    roles,
    functions: functionsOf(template, roles, acct, region),
    topicKeyArn: String(resolve(topic?.Properties?.KmsMasterKeyId)),
    keyPolicies,
    template,
  };
};
