import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { stackId, StewardStack } from '../../infra/stack.js';
import { firstInvoke } from '../../bench/cold-start.js';
import { type DeployedFunction, deployedFunctions } from '../../bench/cold/deployed.js';
import { startFakeEndpoint } from '../../bench/cold/fake-endpoint.js';
import type { StewardConfigInput } from '../../shared/config/schema.js';
import { exampleInput, type ExampleStage, exampleStages, loadExample } from '../support/examples.js';
import { ConfigError } from '../../shared/errors.js';
import {
  allowing,
  cdkContext as context,
  list,
  statements,
  unconditionedWildcardWrites,
  unguardedDestructive,
} from './iam.js';

const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

const logicalId = (t: Template, type: string, props: Record<string, unknown>): string => {
  const ids = Object.keys(t.findResources(type, { Properties: props }));
  expect(ids).toHaveLength(1);
  return ids[0]!;
};

let app: App;
const stacks = {} as Record<ExampleStage, StewardStack>;
const templates = {} as Record<ExampleStage, Template>;

beforeAll(() => {
  // Bundles the real handlers with the local esbuild; one app, synthesized once for all three stages.
  app = new App({ context });
  for (const stage of exampleStages) {
    stacks[stage] = new StewardStack(app, stackId(stage), { config: loadExample(stage) });
  }
  for (const stage of exampleStages) templates[stage] = Template.fromStack(stacks[stage]);
  // Bundling every function of three stages took 40 s on a quiet machine and over 120 s (the default hook
  // timeout) on a loaded one; how long it takes is the bench's question, not this file's.
}, 300_000);

describe.each(exampleStages)('Steward-%s', (stage) => {
  it('runs every function on nodejs22.x, arm64, ESM, traced, with the base environment', () => {
    // Prepare
    const t = templates[stage];
    const config = loadExample(stage);

    // Act
    const functions = t.findResources('AWS::Lambda::Function');

    // Assert
    expect(Object.keys(functions)).toHaveLength(stacks[stage].functions.length);
    expect(Object.keys(functions)).toHaveLength(
      (config.drill.enabled ? 4 : 2) +
        (config.scaling.enabled ? 1 : 0) +
        (config.cost.enabled ? 1 : 0) +
        (config.report.enabled ? 1 : 0),
    );
    t.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          DRY_RUN: config.dryRun ? 'true' : 'false',
          CRITICAL_TOPIC_ARN: Match.anyValue(),
          WARNING_TOPIC_ARN: Match.anyValue(),
          INFO_TOPIC_ARN: Match.anyValue(),
          POWERTOOLS_METRICS_NAMESPACE: 'Steward',
          // Source maps ship, but are not parsed at every cold start (shared/stack-traces.ts maps errors).
          NODE_OPTIONS: Match.absent(),
        }),
      },
    });
    for (const f of stacks[stage].functions) {
      t.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `steward-${stage}-${f.shortName}`,
        Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: f.capability }) },
      });
    }
  });

  it('schedules every backup policy with its expression, time zone and scheduled-time input', () => {
    // Prepare
    const t = templates[stage];
    const { backup } = loadExample(stage);

    // Act (drill, cost and report schedules are asserted in drill.test.ts, cost.test.ts and report.test.ts)
    const schedules = Object.values(t.findResources('AWS::Scheduler::Schedule')).filter(
      (r) =>
        !String(r.Properties.Name).startsWith(`steward-${stage}-drill`) &&
        ![`steward-${stage}-cost`, `steward-${stage}-status-check`, `steward-${stage}-evidence`].includes(
          r.Properties.Name,
        ),
    );

    // Assert
    for (const [name, policy] of Object.entries(backup.policies)) {
      t.hasResourceProperties('AWS::Scheduler::Schedule', {
        Name: `steward-${stage}-backup-${name}`,
        GroupName: Match.anyValue(),
        ScheduleExpression: policy.schedule,
        ScheduleExpressionTimezone: policy.timezone,
        Target: {
          Arn: Match.anyValue(),
          RoleArn: Match.anyValue(),
          Input: Match.serializedJson({
            action: 'scheduled-backup',
            policy: name,
            scheduledTime: SCHEDULED_TIME,
          }),
          RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        },
      });
    }
    const copies = Object.values(backup.policies).some((p) => p.copyToDr);
    expect(schedules).toHaveLength(Object.keys(backup.policies).length + 1 + (copies ? 1 : 0));
  });

  it('schedules retention with its expression and scheduled-time input', () => {
    templates[stage].hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: `steward-${stage}-retention`,
      ScheduleExpression: loadExample(stage).retention.schedule,
      Target: { Input: Match.serializedJson({ action: 'retention', scheduledTime: SCHEDULED_TIME }) },
    });
  });

  it('runs backup and retention one at a time: retries and overlapping triggers queue, never multiply', () => {
    for (const fn of ['backup', 'retention']) {
      templates[stage].hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `steward-${stage}-${fn}`,
        ReservedConcurrentExecutions: 1,
      });
    }
  });

  it("keeps the day's retention budget in the stage's state table, which every stage has", () => {
    // Prepare
    const t = templates[stage];

    // Act
    const tables = t.findResources('AWS::DynamoDB::Table');
    const tableId = logicalId(t, 'AWS::DynamoDB::Table', { TableName: `steward-${stage}-state` });
    const budget = statements(t).filter((s) => s.Sid === 'RetentionBudget');

    // Assert
    expect(Object.keys(tables)).toHaveLength(1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `steward-${stage}-retention`,
      Environment: { Variables: Match.objectLike({ STATE_TABLE: { Ref: tableId } }) },
    });
    expect(budget).toHaveLength(1);
    expect(list(budget[0]!.Action).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(budget[0]!.Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
  });

  it('allows snapshot deletes only on steward-managed snapshots, and denies them on held ones', () => {
    // Prepare
    const t = templates[stage];
    const cases = [
      ['rds:DeleteDBSnapshot', 'rds:snapshot-tag'],
      ['rds:DeleteDBClusterSnapshot', 'rds:cluster-snapshot-tag'],
      ['elasticache:DeleteSnapshot', 'aws:ResourceTag'],
    ] as const;

    for (const [action, key] of cases) {
      // Act
      const allows = allowing(t, action);
      const denies = statements(t).filter((s) => s.Effect === 'Deny' && list(s.Action).includes(action));

      // Assert
      expect(allows, action).toHaveLength(1);
      expect(allows[0]!.Condition).toEqual({ StringEquals: { [`${key}/steward:managed`]: 'true' } });
      expect(denies, action).toHaveLength(1);
      expect(denies[0]!.Condition).toEqual({ Null: { [`${key}/steward:hold`]: 'false' } });
    }
  });

  it('never allows a destructive action on a wildcard resource without a condition', () => {
    // Act
    const offenders = unguardedDestructive(templates[stage]);

    // Assert
    expect(offenders).toEqual([]);
  });

  it('keeps unconditioned Resource "*" statements read-only (plus X-Ray and Step Functions log delivery)', () => {
    // Act
    const writes = unconditionedWildcardWrites(templates[stage]);

    // Assert
    expect(writes).toEqual([]);
  });

  it('gives every function a log group kept for three months', () => {
    // Prepare
    const t = templates[stage];

    // Act
    const groups = t.findResources('AWS::Logs::LogGroup', {
      Properties: { LogGroupName: Match.stringLikeRegexp('^/aws/lambda/') },
    });

    // Assert
    expect(Object.keys(groups)).toHaveLength(stacks[stage].functions.length);
    t.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    for (const id of Object.keys(groups)) {
      t.hasResourceProperties('AWS::Lambda::Function', { LoggingConfig: { LogGroup: { Ref: id } } });
    }
    if (stage === 'prod') t.allResources('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  it("has one alarm for every function, on the stage's failure queue, to the warning topic", () => {
    // Prepare
    const t = templates[stage];
    const warning = logicalId(t, 'AWS::SNS::Topic', { TopicName: `steward-${stage}-warning` });
    const scalingAlarms = Object.values(loadExample(stage).scaling.rules).flatMap((r) =>
      'name' in r.alarm && r.alarm.create ? [r.alarm.name] : [],
    );

    // Act (scaling's config alarms act through EventBridge: scaling.test.ts)
    const all = Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter(
      (a) => !scalingAlarms.includes(String(a.Properties.AlarmName)),
    );
    // One DR-lag alarm per copying policy (dr-copies.test.ts), also to the warning topic.
    const drLag = all.filter((a) => String(a.Properties.AlarmName).startsWith(`steward-${stage}-dr-lag-`));
    const copying = Object.values(stacks[stage].config.backup.policies).filter((p) => p.copyToDr);
    const failures = all.filter((a) => !drLag.includes(a));

    // Assert: no per-function Errors alarm (CloudWatch bills each alarm metric): a failure that outlives
    // Lambda's retries, or a trigger that cannot run the function, parks in the one queue.
    expect(drLag).toHaveLength(copying.length);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.Properties).toMatchObject({
      AlarmName: `steward-${stage}-failures`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: warning }],
      OKActions: [{ Ref: warning }],
    });
    for (const a of drLag) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: warning }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: warning }]);
    }
  });

  it('encrypts the three topics with a rotating customer key and refuses non-TLS publishing', () => {
    // Prepare
    const t = templates[stage];
    const key = logicalId(t, 'AWS::KMS::Key', { EnableKeyRotation: true });

    // Act
    const topics = Object.keys(t.findResources('AWS::SNS::Topic'));

    // Assert
    expect(topics).toHaveLength(3);
    t.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
    for (const topic of topics) {
      t.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topic }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': Match.anyValue() } }),
          }),
        ]),
      },
    });
  });

  it('deploys no dashboard unless the config asks for one ($3 a month beyond the free three)', () => {
    templates[stage].resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  it('parks failed invocations in an encrypted, TLS-only failure queue', () => {
    // Prepare
    const t = templates[stage];

    // Act
    const queues = Object.keys(t.findResources('AWS::SQS::Queue'));

    // Assert: one queue for the stage; every function's on-failure destination is that queue.
    expect(queues).toHaveLength(1);
    t.allResourcesProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queues[0], 'Arn'] } } },
    });
    // Every rule parks there through one statement (a queue policy holds at most 20 statements, 8 KB).
    const rules = Object.keys(t.findResources('AWS::Events::Rule'));
    const [policy] = Object.values(t.findResources('AWS::SQS::QueuePolicy'));
    const statements = policy!.Properties.PolicyDocument.Statement as {
      Principal?: { Service?: string };
      Condition?: { ArnEquals?: { 'aws:SourceArn': { 'Fn::GetAtt': [string, string] }[] } };
    }[];
    const fromRules = statements.filter((x) => x.Principal?.Service === 'events.amazonaws.com');
    expect(statements.length).toBeLessThanOrEqual(3);
    expect(fromRules).toHaveLength(rules.length ? 1 : 0);
    if (rules.length) {
      const arns = fromRules[0]!.Condition!.ArnEquals!['aws:SourceArn'].map((a) => a['Fn::GetAtt'][0]);
      expect(arns.sort()).toEqual(rules.sort());
    }
    t.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', stacks[stage].functions.length);
    t.allResourcesProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    for (const queue of queues) {
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queue }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('ships an ESM bundle split into chunks, each with a source map and the require shim where it names require, the AWS SDK inside', () => {
    for (const { fn, build } of stacks[stage].functions) {
      // Prepare
      const asset = fn.node.findChild('Code') as Asset;
      const dir = join(app.outdir, asset.assetPath);

      // Act
      const files = readdirSync(dir);
      const chunks = files.filter((f) => f.endsWith('.mjs'));

      // Assert: the entry and its chunks (the SDK's credential providers Lambda never reaches, at least),
      // exactly the build's JavaScript outputs, nothing else but their maps.
      expect(chunks).toContain('index.mjs');
      expect(chunks.length).toBeGreaterThan(2);
      expect(chunks.sort()).toEqual(
        Object.keys(build.metafile!.outputs)
          .filter((f) => f.endsWith('.mjs'))
          .sort(),
      );
      expect(files.sort()).toEqual([...chunks, ...chunks.map((c) => `${c}.map`)].sort());
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toMatch(/export\s*\{[^}]*\bhandler\b/);
      for (const chunk of chunks) {
        const code = readFileSync(join(dir, chunk), 'utf8');
        // The require shim, or its line left blank where the chunk never names `require` (infra/bundling.ts).
        expect(
          code.startsWith("import { createRequire } from 'module'; const require = createRequire(") ||
            code.startsWith('\n'),
          chunk,
        ).toBe(true);
        expect(code, chunk).not.toMatch(/from\s*["']@aws-sdk\//);
      }
    }
  });

  it('links and evaluates every chunk of every bundle: the chunks a trigger imports later are valid ESM too', () => {
    // Prepare: every file of every function (a chunk only an `await import()` reaches is otherwise first
    // parsed and linked in production, when that trigger comes).
    const files = stacks[stage].functions.flatMap(({ fn }) => {
      const dir = join(app.outdir, (fn.node.findChild('Code') as Asset).assetPath);
      return readdirSync(dir)
        .filter((f) => f.endsWith('.mjs'))
        .map((f) => pathToFileURL(join(dir, f)).href);
    });
    const run = `for (const f of ${JSON.stringify(files)}) await import(f); process.stdout.write('imported ' + ${files.length});`;

    // Act
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', run], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });

    // Assert
    expect(out).toBe(`imported ${files.length}`);
  });

  it('maps the stack of an error leaving a deployed bundle to the TypeScript source, without --enable-source-maps', () => {
    // Prepare: the first function's asset as deployed; no environment, so its wiring throws a ConfigError.
    const { fn } = stacks[stage].functions[0]!;
    const asset = fn.node.findChild('Code') as Asset;
    const bundle = pathToFileURL(join(app.outdir, asset.assetPath, 'index.mjs')).href;
    const run = `import(${JSON.stringify(bundle)}).then((m) => m.handler({}, {})).catch((e) => process.stdout.write(e.stack))`;

    // Act
    const stack = execFileSync(process.execPath, ['--input-type=module', '-e', run], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });

    // Assert
    expect(stack).toMatch(/^ConfigError: Invalid function environment/);
    expect(stack).toMatch(/\(shared\/config\/env\.ts:\d+:\d+\)/);
    expect(stack).not.toMatch(/index\.mjs:\d+:\d+/);
  });

  it("embeds its own stage's resolved config in every bundle, once, and no other stage's", () => {
    // Prepare
    const own = JSON.stringify(stacks[stage].config);
    const others = exampleStages.filter((s) => s !== stage).map((s) => JSON.stringify(stacks[s].config));
    expect(stacks[stage].config).toEqual(loadExample(stage));
    for (const { fn } of stacks[stage].functions) {
      const dir = join(app.outdir, (fn.node.findChild('Code') as Asset).assetPath);

      // Act: the whole bundle, every chunk.
      const code = readdirSync(dir)
        .filter((f) => f.endsWith('.mjs'))
        .map((f) => readFileSync(join(dir, f), 'utf8'))
        .join('\n');

      // Assert (esbuild quotes the JSON string with ' or `, so the document appears verbatim)
      expect(code.split(own).length - 1).toBe(1);
      for (const other of others) expect(code.includes(other)).toBe(false);
    }
  });

  it('tags the stack with its stage', () => {
    expect(stacks[stage].tags.tagValues()).toEqual({ 'steward:stage': stage });
  });
});

/** The prod stage's function `name` as synthesized: its asset directory, metafile and environment. */
const deployedProd = (name: string): DeployedFunction =>
  deployedFunctions(app, stacks.prod).find((f) => f.name === name)!;

/** The files of `fn`'s asset that are chunks named `name` (`<name>-<hash>.mjs`). */
const chunksNamed = (fn: DeployedFunction, name: string): string[] =>
  readdirSync(fn.dir).filter((f) => new RegExp(`^${name}-\\w+\\.mjs$`).test(f));

/**
 * The bench's first invoke of `fn` (bench/cold-start.ts): its event, from the synthesized asset's index.mjs
 * in this process's Node, against the bench's fake AWS endpoint; the endpoint and the event's directory are
 * gone when it returns.
 */
const firstInvokeAsDeployed = async (fn: DeployedFunction) => {
  const tmp = mkdtempSync(join(tmpdir(), `steward-${fn.name}-first-invoke-`));
  const fake = await startFakeEndpoint();
  try {
    return await firstInvoke(
      fn,
      { path: process.execPath, version: process.version, source: 'this process' },
      fake,
      join(tmp, 'event.json'),
    );
  } finally {
    await fake.close();
    rmSync(tmp, { recursive: true, force: true });
  }
};

describe('Steward-prod drill as deployed: split into chunks', () => {
  it("runs the select task from the synthesized asset's index.mjs, without loading the janitor's chunk", async () => {
    // Prepare: the asset as synthesized; the bench's select event (bench/cold-start.ts).
    const drill = deployedProd('drill');
    const janitor = chunksNamed(drill, 'janitor');
    expect(janitor).toHaveLength(1);

    // Act
    const run = await firstInvokeAsDeployed(drill);

    // Assert: it ran the task (its requests), and loaded the entry and what it imports, not the janitor.
    expect(run.error).toBeUndefined();
    expect(run.requests).toContain('rds:DescribeDBSnapshots@eu-west-1');
    expect(run.files).toContain('index.mjs');
    expect(run.files.length).toBeGreaterThan(1);
    expect(run.files).not.toContain(janitor[0]);
  });
});

describe("Steward-prod scaling as deployed: the bench's alarm acts", () => {
  it('runs a fresh ALARM from the synthesized index.mjs through the planner and the change (not a stale skip)', async () => {
    // Prepare: the asset as synthesized; the bench's alarm (bench/cold-start.ts).
    const scaling = deployedProd('scaling');
    // The planner and the change load together, in one chunk, when the guards let a transition through.
    const acting = chunksNamed(scaling, 'acting');
    expect(acting).toEqual([expect.any(String)]);

    // Act
    const run = await firstInvokeAsDeployed(scaling);

    // Assert: it described the database, claimed, modified it and told; the planner and the change loaded.
    expect(run.error).toBeUndefined();
    expect(run.requests).toEqual(
      expect.arrayContaining([
        'rds:DescribeDBInstances@eu-west-1',
        'rds:ModifyDBInstance@eu-west-1',
        'sns:Publish@eu-west-1',
      ]),
    );
    expect(run.files).toContain(acting[0]);
  });
});

describe("Steward-prod backup as deployed: the bench's scheduled run snapshots", () => {
  it('runs the daily schedule from the synthesized index.mjs and snapshots the database opted in by its tag', async () => {
    // Prepare: the asset as synthesized; the bench's answers (bench/cold-start.ts).
    const backup = deployedProd('backup');

    // Act
    const run = await firstInvokeAsDeployed(backup);

    // Assert: discovered the tagged database, took its snapshot, reported and told.
    expect(run.error).toBeUndefined();
    expect(run.requests).toEqual(
      expect.arrayContaining([
        'rds:DescribeDBInstances@eu-west-1',
        'rds:CreateDBSnapshot@eu-west-1',
        'sns:Publish@eu-west-1',
      ]),
    );
  });
});

describe('Steward-prod (copies to DR)', () => {
  it('follows up copies on a schedule and on RDS "manual snapshot created" events', () => {
    // Prepare
    const t = templates.prod;

    // Assert
    t.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-backup-copies',
      ScheduleExpression: 'rate(1 hour)',
      Target: { Input: Match.serializedJson({ action: 'reconcile-copies' }) },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.rds'],
        'detail-type': ['RDS DB Snapshot Event', 'RDS DB Cluster Snapshot Event'],
        detail: { EventID: ['RDS-EVENT-0042', 'RDS-EVENT-0075'], SourceIdentifier: [{ prefix: 'steward-' }] },
      },
      Targets: [
        Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() }, RetryPolicy: Match.anyValue() }),
      ],
    });
  });

  it('runs the runbook schedules: daily backups at 03:00 UTC, retention at 04:30 UTC', () => {
    templates.prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-backup-daily',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
    });
    templates.prod.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'steward-prod-retention',
      ScheduleExpression: 'cron(30 4 * * ? *)',
    });
  });

  it('copies only tagged steward snapshots into the DR region and uses the DR key only through RDS', () => {
    // Prepare
    const t = templates.prod;

    // Act
    const [copy] = allowing(t, 'rds:CopyDBSnapshot').filter((s) => s.Sid === 'CopyManagedSnapshotsToDr');
    const [grant] = allowing(t, 'kms:CreateGrant').filter((s) => s.Sid === 'GrantDrKeyToRds');
    const [use] = allowing(t, 'kms:Encrypt').filter((s) => s.Sid === 'UseDrKeyViaRds');

    // Assert
    expect(copy?.Condition).toEqual({ StringEquals: { 'aws:RequestTag/steward:managed': 'true' } });
    expect(JSON.stringify(copy?.Resource)).toContain(':rds:us-west-2:');
    // Grants only for an AWS resource (the copy), through RDS in the DR region, on the aliased key.
    expect(grant?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'rds.us-west-2.amazonaws.com' },
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/steward-dr' },
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
    });
    expect(use?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'rds.us-west-2.amazonaws.com' },
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/steward-dr' },
    });
  });

  it('creates snapshots only of opted-in databases, tagged as steward-managed', () => {
    // Prepare
    const t = templates.prod;

    // Act
    const creates = allowing(t, 'rds:CreateDBSnapshot');

    // Assert
    expect(creates.map((s) => s.Condition)).toEqual(
      expect.arrayContaining([
        { Null: { 'rds:db-tag/steward:backup': 'false' } },
        { StringEquals: { 'aws:RequestTag/steward:managed': 'true' } },
      ]),
    );
    // ElastiCache supplies request tags on the snapshot only: opt-in on the group, ownership on the snapshot.
    expect(
      allowing(t, 'elasticache:CreateSnapshot').map((s) => [JSON.stringify(s.Resource), s.Condition]),
    ).toEqual([
      [
        expect.stringMatching(/replicationgroup:\*"/),
        { Null: { 'aws:ResourceTag/steward:backup': 'false' } },
      ],
      [
        expect.stringMatching(/snapshot:steward-\*"/),
        { StringEquals: { 'aws:RequestTag/steward:managed': 'true' } },
      ],
    ]);
  });
});

describe("backup's full run reports", () => {
  it('may only write under runs/backup/ of the report bucket, and learns the bucket, where the stage has one', () => {
    for (const stage of exampleStages) {
      // Prepare
      const t = templates[stage];
      const bucket = stacks[stage].reports;
      const backupPolicies = Object.keys(t.findResources('AWS::IAM::Policy')).filter((id) =>
        id.startsWith('Backup'),
      );

      // Act
      // Redis DR's own S3 statements are checked in test/infra/cache-dr.test.ts.
      const s3 = statements(t).filter(
        (s) =>
          backupPolicies.includes(s.policy) &&
          list(s.Action).some((x) => x.startsWith('s3:')) &&
          !/Redis(Exports|Dr)|ExportNeedsBucketLookups/.test(s.Sid ?? ''),
      );
      const env = JSON.stringify(
        Object.values(t.findResources('AWS::Lambda::Function')).find(
          (f) => f.Properties.FunctionName === `steward-${stage}-backup`,
        )?.Properties.Environment,
      );

      // Assert
      if (!bucket) {
        expect(s3).toEqual([]);
        expect(env).not.toContain('REPORT_BUCKET');
        continue;
      }
      expect(s3.map((s) => [s.Sid, s.Action, JSON.stringify(s.Resource)])).toEqual([
        ['WriteRunReports', 's3:PutObject', expect.stringMatching(/"\/runs\/backup\/\*"\]\]\}$/)],
      ]);
      expect(env).toContain('REPORT_BUCKET');
    }
  });
});

describe('staging (no DR copies)', () => {
  it('has neither a copy schedule, an RDS event rule nor copy permissions', () => {
    // Prepare
    const t = templates.staging;

    // Assert
    // The backup function's other rules (database events, AWS Health maintenance) are there; no snapshot rule.
    const patterns = Object.values(t.findResources('AWS::Events::Rule')).map((r) =>
      JSON.stringify((r as { Properties: { EventPattern: unknown } }).Properties.EventPattern),
    );
    expect(patterns.filter((p) => p.includes('Snapshot Event'))).toEqual([]);
    expect(allowing(t, 'rds:CopyDBSnapshot')).toEqual([]);
    expect(allowing(t, 'kms:CreateGrant')).toEqual([]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged errors or warnings for any stage', () => {
    // Act (after synth, on the same construct tree `cdk synth` validates)
    const report = new AwsSolutionsChecks(app).validateScope(app);

    // Assert
    expect(
      report.violations.map((v) => `${v.ruleName} ${v.violatingResources.map((r) => r.constructPath)}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives every acknowledgement a written reason', () => {
    // Act
    const acks = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));

    // Assert
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) expect(reason.length, id).toBeGreaterThanOrEqual(40);
  });
});

describe('config validation at synth', () => {
  it('fails stack construction when a backup policy names a missing retention policy, naming the field path', () => {
    // Prepare
    const bad = {
      ...exampleInput('staging'),
      backup: { policies: { daily: { retention: 'missing' } } },
    } satisfies StewardConfigInput;

    // Act
    const build = () => new StewardStack(new App({ context }), 'Steward-bad', { config: bad });

    // Assert
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/backup\.policies\.daily\.retention: names retention policy "missing"/);
  });

  it('fails stack construction when a backup policy has an unknown time zone, naming the field path', () => {
    // Prepare
    const bad = {
      ...exampleInput('staging'),
      backup: { policies: { daily: { retention: 'standard', timezone: 'Mars/Olympus_Mons' } } },
    } satisfies StewardConfigInput;

    // Act
    const build = () => new StewardStack(new App({ context }), 'Steward-bad', { config: bad });

    // Assert
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(
      'backup.policies.daily.timezone: must be an IANA time zone such as UTC or Europe/Paris',
    );
  });

  it('fails stack construction when a copying policy has no DR key', () => {
    // Prepare
    const bad = {
      ...exampleInput('staging'),
      backup: { policies: { daily: { retention: 'standard', copyToDr: true } } },
    } satisfies StewardConfigInput;

    // Act
    const build = () => new StewardStack(new App({ context }), 'Steward-bad', { config: bad });

    // Assert
    expect(build).toThrow(/dr\.kmsKeyArn: is required/);
  });
});
