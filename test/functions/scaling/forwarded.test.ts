import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  DescribeOrganizationCommand,
  ListAccountsForParentCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import failoverEvent from '../../../events/rds/aws-instance-failover.json' with { type: 'json' };
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import { fleetWiring, run, type ScalingResult } from '../../../functions/scaling/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { runFleetEvent, type ForwardedRun } from '../../../shared/fleet/child.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import type { BaseDeps } from '../../../shared/runtime.js';
import { SCALING_FLEET_CONFIG } from '../../support/fleet.js';
import { assumedRole, mockOrganization, sentBy } from '../../support/fleet-mocks.js';
import { answerItems, keysRead } from '../../support/scaling-wiring.js';

// A spoke's alarm forwarded to the hub, through the scaling handler's fleet wiring with the SDK mocked: the
// spoke scaling role is assumed, the change is made with its credentials in the spoke's region, the target's
// overrides apply, and every scaling key in the hub's table names the account and region.
const sts = mockClient(STSClient);
const rds = mockClient(RDSClient);
const doc = mockClient(DynamoDBDocumentClient);
const org = mockClient(OrganizationsClient);

const config = parseConfig(SCALING_FLEET_CONFIG, 'fleet');
const NOW = new Date('2026-01-15T10:21:00Z');
const base = (notifier = memoryNotifier()): BaseDeps => ({ config, dryRun: false, notifier, now: () => NOW });
const env = () => ({ STATE_TABLE: 'steward-prod-state' });

/** The fixture alarm, renamed to a rule's alarm, as a spoke in `account` `region` forwards it. */
const forwarded = (account: string, region: string, alarmName: string) => {
  const event = structuredClone(alarmEvent);
  Object.assign(event, { account, region });
  event.detail.alarmName = alarmName;
  return { action: 'forwarded', partition: 'aws', event };
};

const instance = (id: string, cls: string, account: string, region: string) => ({
  DBInstanceIdentifier: id,
  DBInstanceArn: `arn:aws:rds:${region}:${account}:db:${id}`,
  DBInstanceStatus: 'available',
  DBInstanceClass: cls,
  Engine: 'postgres',
});

let n = 0;
beforeEach(() => {
  sts.reset();
  rds.reset();
  doc.reset();
  org.reset();
  // A distinct session per test: SDK clients are cached per container and identity, as in a Lambda.
  sts.on(AssumeRoleCommand).callsFake(() => assumedRole(`SPOKE${++n}`));
  answerItems(doc, () => undefined);
  doc.on(PutCommand).resolves({});
  doc.on(UpdateCommand).resolves({});
});

describe('a forwarded alarm in the scaling handler', () => {
  it("scales the spoke's database with the spoke scaling role, keyed by its account and region", async () => {
    // Prepare
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [instance('billing', 'db.r6g.large', '222222222222', 'eu-central-1')] });
    rds.on(ModifyDBInstanceCommand).resolves({});
    const notifier = memoryNotifier();

    // Act
    const r = (await runFleetEvent(
      forwarded('222222222222', 'eu-central-1', 'billing-cpu-high'),
      fleetWiring(() => base(notifier), env),
      run,
    )) as ForwardedRun<ScalingResult>;

    // Assert
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-central-1',
      ExternalId: 'steward-prod-fleet',
      RoleSessionName: 'steward-prod-scaling',
    });
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: 'billing',
      DBInstanceClass: 'db.r6g.xlarge',
    });
    expect(await sentBy(rds, ModifyDBInstanceCommand)).toEqual({
      key: expect.stringMatching(/^AKIASPOKE/),
      region: 'eu-central-1',
    });
    expect(r.ran.map((x) => x.result.decisions.map((d) => d.status))).toEqual([['done']]);
    const keys = [
      ...doc.commandCalls(PutCommand).map((c) => c.args[0].input.Item!.pk as string),
      ...keysRead(doc),
    ];
    expect(keys.length).toBeGreaterThan(2);
    for (const k of keys) expect(k).toMatch(/^scaling-222222222222\/eu-central-1#/);
    expect(notifier.sent.map((m) => m.subject)).toEqual([expect.stringContaining('billing-cpu')]);
  });

  it("applies the target's overrides: a rule in dryRun there only plans", async () => {
    // Prepare
    rds
      .on(DescribeDBInstancesCommand)
      .resolves({ DBInstances: [instance('orders', 'db.r6g.large', '333333333333', 'eu-west-1')] });

    // Act
    const r = (await runFleetEvent(
      forwarded('333333333333', 'eu-west-1', 'orders-cpu-high'),
      fleetWiring(() => base(), env),
      run,
    )) as ForwardedRun<ScalingResult>;

    // Assert
    const [d] = r.ran[0]!.result.decisions;
    expect(d).toMatchObject({ rule: 'orders-cpu', mode: 'dryRun', status: 'planned' });
    expect(rds.commandCalls(ModifyDBInstanceCommand)).toEqual([]);
  });

  // A spoke forwards its databases' events to the fleet bus (infra/spoke.ts, ForwardDatabaseEvents); the hub's
  // FleetFailoverRule hands a failover to scaling wrapped as `forwarded`. The cooldown it restarts is the spoke
  // database's, keyed by the spoke's account and region, with that target's overrides.
  const failedOver = (account: string, region: string, id: string) => {
    const event = JSON.parse(
      JSON.stringify(failoverEvent)
        .replaceAll('my-db-instance', id)
        .replaceAll(':us-east-1:123456789012:', `:${region}:${account}:`),
    ) as Record<string, unknown>;
    Object.assign(event, { account, region });
    return { action: 'forwarded', partition: 'aws', event };
  };

  it("restarts the cooldown of a spoke's database that failed over, keyed by its account and region", async () => {
    // Act: the documented Multi-AZ failover (RDS-EVENT-0049) of `orders` in 222222222222 eu-central-1
    const r = (await runFleetEvent(
      failedOver('222222222222', 'eu-central-1', 'orders'),
      fleetWiring(() => base(), env),
      run,
    )) as ForwardedRun<ScalingResult>;

    // Assert: one cooldown, the spoke's, restarted from the failover; nothing changed in RDS
    expect(r.from).toEqual({ account: '222222222222', region: 'eu-central-1' });
    expect(r.ran.map((x) => x.result)).toEqual([
      expect.objectContaining({ action: 'failover', summary: expect.stringContaining('orders failed over') }),
    ]);
    const updates = doc.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.Key!.pk).toMatch(/^scaling-222222222222\/eu-central-1#/);
    expect(JSON.stringify(updates[0]!.Key)).toContain('orders');
    expect(updates[0]!.ExpressionAttributeValues![':r']).toBe(
      'failover RDS-EVENT-0049 at 2018-09-27T22:36:43.292Z',
    );
    expect(rds.calls()).toEqual([]);
  });

  it("restarts it for the target's own cooldown (its overrides)", async () => {
    // Act: 333333333333 answers orders-cpu with a 120-minute cooldown
    const r = (await runFleetEvent(
      failedOver('333333333333', 'eu-west-1', 'orders'),
      fleetWiring(() => base(), env),
      run,
    )) as ForwardedRun<ScalingResult>;
    // Assert
    expect(r.ran[0]!.result.summary).toContain('cooldown restarts until 2018-09-28T00:36:43.292Z');
  });

  // The cooldown a failover restarts is kept in the hub's table: the spoke's scaling role is not needed for it.
  // It used to be assumed first, so a spoke half deployed or a role renamed failed the event (retried, then
  // parked) and the cooldown never restarted: scaling could then act on a database that had just failed over.
  const refused = (roleArn: string) =>
    Object.assign(new Error(`User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`), {
      name: 'AccessDenied',
    });
  const SPOKE_ROLE = 'arn:aws:iam::222222222222:role/steward-prod-spoke-scaling-eu-central-1';

  it("restarts a spoke failover's cooldown in the hub's table first, even when the spoke scaling role refuses", async () => {
    // Prepare: the spoke's scaling role refuses every AssumeRole; the order of the hub's and STS's calls is kept
    const order: string[] = [];
    sts.on(AssumeRoleCommand).callsFake(() => {
      order.push('AssumeRole');
      throw refused(SPOKE_ROLE);
    });
    doc.on(UpdateCommand).callsFake(() => (order.push('UpdateItem'), {}));

    // Act
    const r = (await runFleetEvent(
      failedOver('222222222222', 'eu-central-1', 'orders'),
      fleetWiring(() => base(), env),
      run,
    )) as ForwardedRun<ScalingResult>;

    // Assert: the cooldown restarted, keyed by the spoke's account and region; nothing needed the spoke's role
    expect(r.ran.map((x) => x.result.summary)).toEqual([expect.stringContaining('orders failed over')]);
    expect(order).toEqual(['UpdateItem']);
    expect(doc.commandCalls(UpdateCommand)[0]!.args[0].input.Key!.pk).toMatch(
      /^scaling-222222222222\/eu-central-1#/,
    );
  });

  it('a forwarded alarm whose spoke scaling role refuses fails naming the role, the account and the region', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).rejects(refused(SPOKE_ROLE));

    // Act
    const failure = await runFleetEvent(
      forwarded('222222222222', 'eu-central-1', 'billing-cpu-high'),
      fleetWiring(() => base(), env),
      run,
    ).catch((e: unknown) => e);

    // Assert: what refused is named (the event is retried, then parked with this message); nothing was changed
    expect((failure as Error).message).toContain('222222222222 eu-central-1');
    expect((failure as Error).message).toContain(`AssumeRole failed for ${SPOKE_ROLE}`);
    expect((failure as Error).message).toContain('access denied (is the spoke deployed there');
    expect(rds.calls()).toEqual([]);
  });

  it('ignores an alarm of an account-region that is no target, assuming nothing', async () => {
    // Prepare: the OU target lists no such account
    mockOrganization(org, []);
    // Act
    const r = await runFleetEvent(
      forwarded('777777777777', 'eu-west-1', 'billing-cpu-high'),
      fleetWiring(() => base(), env),
      run,
    );
    // Assert
    expect(r).toEqual({ from: { account: '777777777777', region: 'eu-west-1' }, ran: [] });
    expect(sts.calls()).toEqual([]);
  });

  it("lists the OU once for a storm of an OU account's alarms, and again once the listing is 5 minutes old", async () => {
    // Prepare: 444444444444 is in the OU target only, and has no database the alarm's rule scales
    mockOrganization(org, ['444444444444']);
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    let at = NOW.getTime();
    const wiring = fleetWiring(() => ({ ...base(), now: () => new Date(at) }), env);
    const storm = () =>
      Promise.all(
        Array.from({ length: 6 }, () =>
          runFleetEvent(forwarded('444444444444', 'eu-west-1', 'billing-cpu-high'), wiring, run),
        ),
      );

    // Act: six alarms at once, then four more one after another within the 5 minutes
    const first = (await storm()) as ForwardedRun<ScalingResult>[];
    for (const minutes of [1, 2, 3, 4.9]) {
      at = NOW.getTime() + minutes * 60_000;
      await runFleetEvent(forwarded('444444444444', 'eu-west-1', 'billing-cpu-high'), wiring, run);
    }
    const listed = org.commandCalls(ListAccountsForParentCommand).length;
    at = NOW.getTime() + 5 * 60_000;
    await runFleetEvent(forwarded('444444444444', 'eu-west-1', 'billing-cpu-high'), wiring, run);

    // Assert: every alarm ran in the OU account; one listing (and one DescribeOrganization) until it expired
    expect(first.map((r) => r.ran.map((x) => x.target.account))).toEqual(Array(6).fill(['444444444444']));
    expect(listed).toBe(1);
    expect(org.commandCalls(ListAccountsForParentCommand)).toHaveLength(2);
    expect(org.commandCalls(DescribeOrganizationCommand)).toHaveLength(2);
  });

  it('lists the OU again after a listing that failed, instead of keeping the failure', async () => {
    // Prepare: Organizations throttles the first listing
    mockOrganization(org, ['444444444444']);
    org
      .on(ListAccountsForParentCommand)
      .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }))
      .resolves({ Accounts: [{ Id: '444444444444', Status: 'ACTIVE' }] });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    const wiring = fleetWiring(() => base(), env);
    const alarm = () =>
      runFleetEvent(forwarded('444444444444', 'eu-west-1', 'billing-cpu-high'), wiring, run);

    // Act
    const failed = await alarm().catch((e: unknown) => e);
    const r = (await alarm()) as ForwardedRun<ScalingResult>;

    // Assert
    expect(failed).toBeInstanceOf(Error);
    expect(r.ran.map((x) => x.target.account)).toEqual(['444444444444']);
    expect(org.commandCalls(ListAccountsForParentCommand)).toHaveLength(2);
  });
});
