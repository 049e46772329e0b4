import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import scaleInEvent from '../../../events/scaling/scale-in-check.json' with { type: 'json' };
import { fleetWiring, handle } from '../../../functions/scaling/handler.js';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import type { EveryTargetRun } from '../../../shared/fleet/child.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { metrics } from '../../../shared/observability.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import type { ScalingResult } from '../../../shared/scaling/service.js';
import { SCALING_FLEET_CONFIG } from '../../support/fleet.js';
import { assumedRole, mockOrganization, sentBy } from '../../support/fleet-mocks.js';

// The scheduled scale-in check of a stage with spokes, through the scaling handler with the SDK mocked: it
// runs in the hub and then in every spoke target (account targets and the OU's listed account), each with its
// spoke scaling role and the target's overrides; one target that fails is named once and never stops the others.
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const doc = mockClient(DynamoDBDocumentClient);
const org = mockClient(OrganizationsClient);

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
const env = () => ({ STATE_TABLE: 'steward-prod-state' });
const check = { ...scaleInEvent, partition: 'aws' };

/** Account-regions whose billing-cpu-high alarm has been OK since 11:00 (the hub's key has no place). */
const okIn = (places: string[]) =>
  doc
    .on(GetCommand)
    .callsFake((i: { Key: { pk: string } }) =>
      places.some((p) => i.Key.pk === `scaling-${p ? `${p}#` : ''}alarm#billing-cpu-high`)
        ? { Item: { pk: i.Key.pk, state: 'OK', since: '2026-01-15T11:00:00.000Z' } }
        : {},
    );

let n = 0;
beforeEach(() => {
  for (const m of [sts, rds, doc, org]) m.reset();
  sts
    .on(AssumeRoleCommand)
    .callsFake((i: { RoleArn: string }) => assumedRole(`${i.RoleArn.split(':')[4]}${++n}`));
  mockOrganization(org, ['444444444444']);
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
  doc.on(GetCommand).resolves({});
  doc.on(PutCommand).resolves({});
  doc.on(UpdateCommand).resolves({});
});

describe('the scale-in check of a stage with spokes', () => {
  it("scales in a spoke's database with its spoke scaling role, and checks every target", async () => {
    // Prepare
    okIn(['222222222222/eu-central-1']);
    const notifier = memoryNotifier();

    // Act
    const r = (await handle(
      check,
      CONTEXT,
      fleetWiring(() => base(notifier), env),
    )) as EveryTargetRun<ScalingResult>;

    // Assert: the hub, then 222 (two regions), 333, and the OU's 444 (two regions)
    expect(r.hub?.decisions).toEqual([]);
    expect(r.targets.map((t) => `${t.target.account}/${t.target.region}`)).toEqual([
      '222222222222/eu-west-1',
      '222222222222/eu-central-1',
      '333333333333/eu-west-1',
      '444444444444/eu-west-1',
      '444444444444/eu-central-1',
    ]);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-central-1',
      ExternalId: 'steward-prod-fleet',
      RoleSessionName: 'steward-prod-scaling',
    });
    expect(rds).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 1);
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: 'billing',
      DBInstanceClass: 'db.r6g.large',
    });
    expect(await sentBy(rds, ModifyDBInstanceCommand)).toEqual({
      key: expect.stringMatching(/^AKIA222222222222/),
      region: 'eu-central-1',
    });
    const [done] = r.targets[1]!.result.decisions;
    expect(done).toMatchObject({ rule: 'billing-cpu', status: 'done' });
    // The spoke's own message names where it acted.
    expect(notifier.sent).toHaveLength(1);
    expect(notifier.sent[0]!.place).toMatchObject({ account: '222222222222', region: 'eu-central-1' });
  });

  it("applies each target's overrides: the dryRun account only plans its scale-in", async () => {
    // Prepare
    okIn(['', '333333333333/eu-west-1']);

    // Act
    const r = (await handle(
      check,
      CONTEXT,
      fleetWiring(() => base(), env),
    )) as EveryTargetRun<ScalingResult>;

    // Assert: the hub scales in, 333333333333 only plans
    expect(r.hub?.decisions.map((d) => d.status)).toEqual(['done']);
    const dry = r.targets.find((t) => t.target.account === '333333333333')!;
    expect(dry.result.decisions.map((d) => [d.mode, d.status])).toEqual([['dryRun', 'planned']]);
    expect(rds).toHaveReceivedCommandTimes(ModifyDBInstanceCommand, 1);
  });

  it('names a target that refuses its role in one notification, and the others still run', async () => {
    // Prepare: 222222222222's spoke is not deployed in eu-west-1; 444444444444 has an alarm OK long enough
    okIn(['444444444444/eu-central-1']);
    sts
      .on(AssumeRoleCommand, {
        RoleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-west-1',
      })
      .rejects(
        Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }),
      );
    const notifier = memoryNotifier();

    // Act
    const act = handle(
      check,
      CONTEXT,
      fleetWiring(() => base(notifier), env),
    );

    // Assert
    await expect(act).rejects.toThrow(/1 of 6 account-regions|failed in 1/);
    await expect(act).rejects.toThrow(/222222222222 eu-west-1/);
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, { DBInstanceIdentifier: 'billing' });
    const fleet = notifier.sent.find((m) => m.subject.startsWith('Fleet'))!;
    expect(fleet).toMatchObject({
      severity: 'warning',
      subject: 'Fleet scaling scale-in-check: 1 of 6 account-regions failed',
    });
    expect(fleet.lines.join('\n')).toMatch(/222222222222 eu-west-1: Target .*access denied/);
  });

  it('without spokes runs exactly the hub check', async () => {
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
