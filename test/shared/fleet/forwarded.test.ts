import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import { EventShapeError, PartialFailureError } from '../../../shared/errors.js';
import { type FleetWiring, runFleetEvent } from '../../../shared/fleet/child.js';
import type { FanOutTarget } from '../../../shared/fleet/fan-out.js';
import { forwardedTargets } from '../../../shared/fleet/forwarded.js';
import { FLEET_CONFIG } from '../../support/fleet.js';

// A hub in 111111111111 eu-west-1; 222222222222 in eu-west-1 and eu-central-1; 333333333333 in eu-west-1;
// the OU ou-ab12-cd34ef56 in both regions. DR region us-west-2.
const config = parseConfig(FLEET_CONFIG, 'fleet');
// An RDS snapshot event as EventBridge delivers it (RDS User Guide, "Amazon RDS event categories and event
// messages": RDS-EVENT-0042, a manual snapshot was created), forwarded from a spoke.
const snapshotEvent = (account: string, region: string, id = 'RDS-EVENT-0042') => ({
  version: '0',
  id: '9f1c2b7e-3d4a-4c5b-8e6f-7a8b9c0d1e2f',
  'detail-type': 'RDS DB Snapshot Event',
  source: 'aws.rds',
  account,
  time: '2026-11-30T03:12:00Z',
  region,
  resources: [`arn:aws:rds:${region}:${account}:snapshot:steward-orders-202611300300-sched`],
  detail: {
    EventCategories: ['creation'],
    SourceType: 'SNAPSHOT',
    SourceArn: `arn:aws:rds:${region}:${account}:snapshot:steward-orders-202611300300-sched`,
    Date: '2026-11-30T03:12:00.000Z',
    SourceIdentifier: 'steward-orders-202611300300-sched',
    Message: 'Manual snapshot created',
    EventID: id,
  },
});
const forwarded = (account: string, region: string, id?: string) => ({
  action: 'forwarded',
  partition: 'aws',
  event: snapshotEvent(account, region, id),
});
const places = (ts: FanOutTarget[]) => ts.map((t) => `${t.account} ${t.region}`);

describe('forwardedTargets', () => {
  it.each([
    ['222222222222', 'eu-central-1', ['222222222222 eu-central-1']],
    // A DR copy finished in us-west-2: every target region of the account may have copied there.
    ['222222222222', 'us-west-2', ['222222222222 eu-west-1', '222222222222 eu-central-1']],
    ['333333333333', 'eu-central-1', []], // not a target region of that account
    ['999999999999', 'eu-west-1', []], // not a target
  ])('an event of %s %s acts in %j', (account, region, want) => {
    expect(places(forwardedTargets(config, 'backup', { account, region }))).toEqual(want);
  });

  it('finds an OU account among the listed accounts, with its spoke role', () => {
    const t = forwardedTargets(
      config,
      'backup',
      { account: '444444444444', region: 'eu-west-1' },
      { accountsOf: new Map([['ou-ab12-cd34ef56', ['444444444444']]]) },
    );
    expect(t).toEqual([
      expect.objectContaining({
        account: '444444444444',
        roleArn: 'arn:aws:iam::444444444444:role/steward-prod-spoke-backup-eu-west-1',
      }),
    ]);
  });
});

describe('a forwarded event in the handler', () => {
  const wiring = (o: { ous?: Record<string, string[]>; refuse?: string[] } = {}) => {
    const ran: { event: unknown; at: string }[] = [];
    const asked: string[] = [];
    const w: FleetWiring<string> = {
      hub: () => {
        throw new Error('a forwarded event never runs as the hub');
      },
      target: async (t) => {
        if (o.refuse?.includes(`${t.account} ${t.region}`))
          throw Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
            name: 'AccessDenied',
          });
        return `${t.account} ${t.region}`;
      },
      summary: () => {
        throw new Error('no summary');
      },
      listing: () => ({
        config,
        capability: 'backup',
        directory: {
          accountsUnder: async (ou) => (asked.push(ou), o.ous?.[ou] ?? []),
          managementAccount: async () => '555555555555',
        },
      }),
    };
    const run = async (event: unknown, at: string) => (ran.push({ event, at }), 'ok');
    return { w, run, ran, asked };
  };

  it("runs today's code on the spoke's own event, with that target's deps, without listing", async () => {
    // Prepare
    const { w, run, ran, asked } = wiring();
    // Act
    const r = await runFleetEvent(forwarded('222222222222', 'eu-central-1'), w, run);
    // Assert
    expect(ran).toEqual([
      { event: snapshotEvent('222222222222', 'eu-central-1'), at: '222222222222 eu-central-1' },
    ]);
    expect(r).toMatchObject({ from: { account: '222222222222', region: 'eu-central-1' } });
    expect(asked).toEqual([]);
  });

  it('lists the OUs for an account no account target names, and ignores one of no target', async () => {
    // Prepare
    const { w, run, ran, asked } = wiring({ ous: { 'ou-ab12-cd34ef56': ['444444444444'] } });
    // Act
    await runFleetEvent(forwarded('444444444444', 'eu-central-1'), w, run);
    const ignored = await runFleetEvent(forwarded('777777777777', 'eu-west-1'), w, run);
    // Assert
    expect(ran.map((r) => r.at)).toEqual(['444444444444 eu-central-1']);
    expect(asked).toEqual(['ou-ab12-cd34ef56', 'ou-ab12-cd34ef56']);
    expect(ignored).toEqual({ from: { account: '777777777777', region: 'eu-west-1' }, ran: [] });
  });

  it('runs every target of a DR-region event and throws once naming the one that failed', async () => {
    // Prepare
    const { w, run, ran } = wiring({ refuse: ['222222222222 eu-west-1'] });
    // Act
    const e = await runFleetEvent(forwarded('222222222222', 'us-west-2', 'RDS-EVENT-0060'), w, run).catch(
      (x: unknown) => x,
    );
    // Assert
    expect(ran.map((r) => r.at)).toEqual(['222222222222 eu-central-1']);
    expect(e).toBeInstanceOf(PartialFailureError);
    expect((e as Error).message).toMatch(/222222222222 eu-west-1.*access denied/);
  });

  it('rejects a forwarded event without account, naming the field', async () => {
    const { w, run } = wiring();
    const bad = structuredClone(forwarded('222222222222', 'eu-west-1')) as { event: Record<string, unknown> };
    delete bad.event.account;
    await expect(runFleetEvent(bad, w, run)).rejects.toThrow(EventShapeError);
  });
});
