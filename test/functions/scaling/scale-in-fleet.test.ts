import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import scaleInEvent from '../../../events/scaling/scale-in-check.json' with { type: 'json' };
import { fleetWiring, handle } from '../../../functions/scaling/handler.js';
import { fanOutStateMachineName } from '../../../infra/fan-out.js';
import { type AslDefinition, type CfnTemplate, definitionFromTemplate } from '../../../infra/local-drill.js';
import { runFanOutLocally } from '../../../infra/local-fan-out.js';
import { stackId, StewardStack } from '../../../infra/stack.js';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { metrics } from '../../../shared/observability.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import type { ScalingResult } from '../../../shared/scaling/service.js';
import { unbundledContext } from '../../infra/iam.js';
import { SCALING_FLEET_CONFIG } from '../../support/fleet.js';
import { answerAlarms, answerItems } from '../../support/scaling-wiring.js';

// The scheduled scale-in check of a stage with spokes: the Distributed Map synth renders
// (steward-prod-scaling-fleet) run locally with aws-local-stepfunctions (infra/local-fan-out.ts emulates
// ResultWriter, ToleratedFailurePercentage and a child failing alone), every Lambda task the scaling handler's
// deployed entry point with its real wiring and the SDK mocked: the OU's accounts are listed, one child per
// account-region checks its target with its spoke scaling role and overrides, one target that fails is named
// by the summary, read back from the Map Run's export through S3, and never stops the others.
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const doc = mockClient(DynamoDBDocumentClient);
const org = mockClient(OrganizationsClient);
const s3 = mockClient(S3Client);
const cw = mockClient(CloudWatchClient);

// billing-cpu scales in too (the ladder's bottom is its floor); 333333333333 answers it in dryRun.
const input: StewardConfigInput = structuredClone(SCALING_FLEET_CONFIG);
input.scaling!.rules!['billing-cpu']!.scaleIn = { enabled: true, afterOkMinutes: 60 };
input.targets = input.targets!.map((t) =>
  t.account === '333333333333' ? { ...t, scaling: { rules: { 'billing-cpu': { mode: 'dryRun' } } } } : t,
);
const config = parseConfig(input, 'fleet');
const NOW = new Date('2026-01-15T12:45:00Z');
const CONTEXT = { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:steward-prod-scaling' };
const base = (notifier = memoryNotifier()): BaseDeps => ({ config, dryRun: false, notifier, now: () => NOW });
const env = () => ({ STATE_TABLE: 'steward-prod-state', REPORT_BUCKET: 'steward-prod-reports' });

/** Account-regions whose billing-cpu-high alarm has been OK since 11:00 (the hub's key has no place). */
const okIn = (places: string[]) =>
  answerItems(doc, (pk) =>
    places.some((p) => pk === `scaling-${p ? `${p}#` : ''}alarm#billing-cpu-high`)
      ? { pk, state: 'OK', since: '2026-01-15T11:00:00.000Z' }
      : undefined,
  );

let definition: AslDefinition;
beforeAll(() => {
  const stack = new StewardStack(new App({ context: unbundledContext }), stackId(config.stage), { config });
  definition = definitionFromTemplate(
    Template.fromStack(stack).toJSON() as CfnTemplate,
    fanOutStateMachineName('prod', 'scaling'),
  );
});

/** One scheduled cycle: the definition run locally, each task the handler through the real wiring. */
const cycle = async (notifier = memoryNotifier()) => {
  const objects = new Map<string, string>();
  s3.on(GetObjectCommand).callsFake((i: { Bucket: string; Key: string }) => {
    const text = objects.get(`${i.Bucket}/${i.Key}`);
    if (text === undefined)
      throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => text } };
  });
  const wiring = fleetWiring(() => base(notifier), env);
  const children: { target: string; result?: ScalingResult }[] = [];
  const execution = await runFanOutLocally({
    definition,
    input: { ...scaleInEvent },
    objects,
    invoke: async ({ payload }) => {
      const r = await handle(payload, CONTEXT, wiring);
      const t = (payload as { target?: { account: string; region: string } }).target;
      if (t) children.push({ target: `${t.account}/${t.region}`, result: r as ScalingResult });
      return r;
    },
  });
  return { execution, notifier, children, objects };
};

const child = <C extends { target: string }>(list: C[], target: string): C =>
  list.find((c) => c.target === target)!;

// This file shares its process with the CDK tests (vitest project `cdk`): leave no SDK client mocked.
afterAll(() => {
  for (const m of [sts, rds, doc, org, s3, cw]) m.restore();
});

let n = 0;
beforeEach(() => {
  for (const m of [sts, rds, doc, org, s3, cw]) m.reset();
  answerAlarms(cw);
  sts.on(AssumeRoleCommand).callsFake((i: { RoleArn: string }) => ({
    Credentials: {
      AccessKeyId: `AKIA${i.RoleArn.split(':')[4]}${++n}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + 3600_000),
    },
  }));
  org.on(ListAccountsForParentCommand).resolves({ Accounts: [{ Id: '444444444444', Status: 'ACTIVE' }] });
  org.on(ListChildrenCommand).resolves({ Children: [] });
  org.on(DescribeOrganizationCommand).resolves({ Organization: { MasterAccountId: '555555555555' } });
  rds.on(DescribeDBInstancesCommand).callsFake(async (_: unknown, client: () => RDSClient) => {
    const region = await client().config.region();
    return {
      DBInstances: [
        {
          DBInstanceIdentifier: 'billing',
          DBInstanceArn: `arn:aws:rds:${region}:000000000000:db:billing`,
          DBInstanceStatus: 'available',
          DBInstanceClass: 'db.r6g.xlarge',
          Engine: 'postgres',
        },
      ],
    };
  });
  rds.on(ModifyDBInstanceCommand).resolves({});
  answerItems(doc, () => undefined);
  doc.on(PutCommand).resolves({});
  doc.on(UpdateCommand).resolves({});
});

describe('the scale-in check of a stage with spokes, on its Distributed Map', () => {
  it('renders one child per account-region at the fleet concurrency, its results in the report bucket', () => {
    expect(definition.States.Targets).toMatchObject({
      Type: 'Task',
      Parameters: { action: 'fan-out-targets', capability: 'scaling', partition: 'aws' },
    });
    expect(definition.States.EachTarget).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 10,
      ToleratedFailurePercentage: 50,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' } },
      ResultWriter: { Parameters: { Prefix: 'fleet/scaling/' } },
    });
  });

  it("scales in a spoke's database with its spoke scaling role, and checks every target", async () => {
    // Prepare
    okIn(['222222222222/eu-central-1']);

    // Act
    const { execution, notifier, children } = await cycle();

    // Assert: the hub, 222 (two regions), 333, and the OU's 444 (two regions), one child each (at once)
    expect(execution.status).toBe('SUCCEEDED');
    expect(children.map((c) => c.target).sort()).toEqual([
      '111111111111/eu-west-1',
      '222222222222/eu-central-1',
      '222222222222/eu-west-1',
      '333333333333/eu-west-1',
      '444444444444/eu-central-1',
      '444444444444/eu-west-1',
    ]);
    expect(child(children, '111111111111/eu-west-1').result?.decisions).toEqual([]);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-central-1',
      ExternalId: 'steward-prod-fleet',
      RoleSessionName: 'steward-prod-scaling',
    });
    // Every role the children assumed is a spoke scaling role; the hub's own child assumes none.
    expect(
      sts
        .commandCalls(AssumeRoleCommand)
        .every((c) => /:role\/steward-prod-spoke-scaling-/.test(c.args[0].input.RoleArn!)),
    ).toBe(true);
    expect(rds).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 1);
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: 'billing',
      DBInstanceClass: 'db.r6g.large',
    });
    const client = rds.commandCalls(ModifyDBInstanceCommand)[0]!.thisValue as RDSClient;
    expect(await client.config.region()).toBe('eu-central-1');
    expect((await client.config.credentials()).accessKeyId).toMatch(/^AKIA222222222222/);
    const [done] = child(children, '222222222222/eu-central-1').result!.decisions;
    expect(done).toMatchObject({ rule: 'billing-cpu', status: 'done' });
    // The spoke's own message names where it acted; a cycle where every target succeeded sends no summary.
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.place).toMatchObject({ account: '222222222222', region: 'eu-central-1' });
  });

  it("applies each target's overrides: the dryRun account only plans its scale-in", async () => {
    // Prepare
    okIn(['', '333333333333/eu-west-1']);

    // Act
    const { execution, children } = await cycle();

    // Assert: the hub scales in, 333333333333 only plans
    expect(execution.status).toBe('SUCCEEDED');
    expect(child(children, '111111111111/eu-west-1').result?.decisions.map((d) => d.status)).toEqual([
      'done',
    ]);
    const dry = child(children, '333333333333/eu-west-1');
    expect(dry.result?.decisions.map((d) => [d.mode, d.status])).toEqual([['dryRun', 'planned']]);
    expect(rds).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 1);
  });

  it('names a target that refuses its role in the summary, and the others still run', async () => {
    // Prepare: 222222222222's spoke is not deployed in eu-west-1; 444444444444 has an alarm OK long enough
    okIn(['444444444444/eu-central-1']);
    sts
      .on(AssumeRoleCommand, {
        RoleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-west-1',
      })
      .rejects(
        Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }),
      );

    // Act
    const { execution, notifier, children, objects } = await cycle();

    // Assert: five children ran, 444's database scaled in; the failed child is exported with its error
    expect(children.map((c) => c.target)).not.toContain('222222222222/eu-west-1');
    expect(children).toHaveLength(5);
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'billing' });
    const failed = [...objects].find(([k]) => /fleet\/scaling\/.*FAILED_0\.json$/.test(k))!;
    expect(JSON.parse(failed[1])).toEqual([
      expect.objectContaining({ Status: 'FAILED', Error: 'TargetFailedError' }),
    ]);
    // The summary read the export through S3 and named the target; told, the cycle ends SUCCEEDED with the
    // failure in its output (a FAILED cycle is one that told nobody, for the ExecutionsFailed alarm).
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Key: expect.stringMatching(/^fleet\/scaling\//),
    });
    const fleet = notifier.sent.find((m) => m.subject.startsWith('Fleet'))!;
    expect(fleet).toMatchObject({
      severity: 'warning',
      subject: 'Fleet scaling scale-in check: 1 of 6 targets failed',
    });
    expect(fleet.lines[0]).toMatch(
      /^222222222222 eu-west-1 \(targets\[1\]\): TargetFailedError: Target 222222222222 eu-west-1 \(targets\[1\]\): access denied/,
    );
    expect(execution.status).toBe('SUCCEEDED');
    expect(execution.output).toMatchObject({
      cycle: 'FAILED',
      outcome: 'notified by the summary',
      error: { Error: 'FleetCycleFailedError' },
    });
    // It notified: nothing parked in the failure queue.
    expect(execution.messages).toEqual([]);
  });

  it('without spokes the schedule invokes the function, which runs exactly the hub check', async () => {
    // Prepare
    const single = parseConfig({ ...input, fleet: undefined, targets: undefined }, 'single');
    okIn(['']);

    // Act
    const r = (await handle(
      scaleInEvent,
      CONTEXT,
      fleetWiring(() => ({ ...base(), config: single }), env),
    )) as ScalingResult;

    // Assert
    expect(r.action).toBe('scale-in-check');
    expect(r.decisions.map((d) => d.status)).toEqual(['done']);
    expect(sts.calls()).toEqual([]);
  });
});

describe('a forwarded alarm through the handler', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    metrics.setScope(undefined);
  });

  it("places its notification and metrics in the spoke's account and region", async () => {
    // Prepare
    const event = structuredClone(alarmEvent);
    Object.assign(event, { account: '222222222222', region: 'eu-central-1' });
    event.detail.alarmName = 'billing-cpu-high';
    const notifier = memoryNotifier();
    const scope = vi.spyOn(metrics, 'setScope');

    // Act
    await handle(
      { action: 'forwarded', partition: 'aws', event },
      CONTEXT,
      fleetWiring(() => base(notifier), env),
    );

    // Assert
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.place).toMatchObject({ account: '222222222222', region: 'eu-central-1' });
    // The run's metrics carry the spoke's Account and Region (its config's, not the hub's).
    expect(scope).toHaveBeenLastCalledWith({ Account: '222222222222', Region: 'eu-central-1' });
  });
});
