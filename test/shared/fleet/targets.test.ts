import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { fanOutTargets, planFanOut, targetConfig } from '../../../shared/fleet/fan-out.js';
import {
  copySourceRegions,
  expandTargets,
  hasSpokes,
  spokeRegions,
  spokeRoleName,
  spokeTargets,
  targetPolicies,
  targetRoleArn,
} from '../../../shared/fleet/targets.js';

const HUB = '111122223333';
const fleet = (targets: StewardConfigInput['targets'], extra: Partial<StewardConfigInput> = {}) =>
  parseConfig(
    {
      stage: 'prod',
      region: 'eu-west-1',
      account: HUB,
      fleet: { organizationId: 'o-a1b2c3d4e5' },
      retention: { policies: { standard: {}, short: { daily: 7 } } },
      targets,
      ...extra,
    },
    'test',
  );

describe('expandTargets', () => {
  it('is the stage’s own account and region by default, with no spokes', () => {
    // Prepare
    const c = parseConfig({ stage: 'prod', region: 'eu-west-1' }, 'test');
    // Act, Assert
    expect(expandTargets(c)).toEqual([{ index: 0, region: 'eu-west-1' }]);
    expect(spokeTargets(c)).toEqual([]);
    expect(hasSpokes(c)).toBe(false);
  });

  it('crosses accounts and OUs with their regions, in config order, and leaves the hub out of the spokes', () => {
    // Prepare
    const c = fleet([
      {},
      { account: '222233334444', regions: ['eu-west-1', 'us-east-1'] },
      { organizationalUnit: 'ou-ab12-cd34ef56', role: 'steward-ops' },
    ]);
    // Act
    const all = expandTargets(c);
    // Assert
    expect(all).toEqual([
      { index: 0, account: HUB, region: 'eu-west-1' },
      { index: 1, account: '222233334444', region: 'eu-west-1' },
      { index: 1, account: '222233334444', region: 'us-east-1' },
      { index: 2, organizationalUnit: 'ou-ab12-cd34ef56', region: 'eu-west-1', role: 'steward-ops' },
    ]);
    expect(spokeTargets(c)).toEqual(all.slice(1));
    expect(spokeRegions(c)).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('has no spokes without a fleet section (other regions of this account stay validated only)', () => {
    const c = parseConfig(
      { stage: 'prod', region: 'eu-west-1', targets: [{}, { regions: ['eu-central-1'] }] },
      'test',
    );
    expect(spokeTargets(c)).toEqual([]);
  });
});

describe('copySourceRegions: the regions one account copies to the DR region from', () => {
  const SPOKE = '222233334444';
  const DR = { dr: { region: 'us-west-2' } };

  it("counts a target that names no account as the stage's, also in a spoke child's config", () => {
    // Prepare: the stage's own account in two regions, a spoke account in one
    const c = fleet([{ regions: ['eu-west-1', 'eu-central-1'] }, { account: SPOKE }], DR);
    const children = fanOutTargets(c, 'backup');
    const spoke = children.find((t) => t.account === SPOKE)!;
    const hubElsewhere = children.find((t) => t.account === HUB && t.region === 'eu-central-1')!;
    // Act, Assert: each child's config (the account becomes the target's) still tells the two accounts apart
    expect(copySourceRegions(targetConfig(c, spoke), SPOKE)).toEqual(['eu-west-1']);
    expect(copySourceRegions(targetConfig(c, hubElsewhere), HUB)).toEqual(['eu-west-1', 'eu-central-1']);
    expect(copySourceRegions(c, HUB)).toEqual(['eu-west-1', 'eu-central-1']);
    expect(copySourceRegions(c, SPOKE)).toEqual(['eu-west-1']);
  });

  const OU = 'ou-ab12-cd34ef56';
  const MEMBER = '555566667777';
  /** The backup children of `c` when the OU holds MEMBER only, by account and region. */
  const childOf = (c: ReturnType<typeof fleet>, account: string, region = 'eu-west-1') =>
    planFanOut(c, 'backup', { accountsOf: new Map([[OU, [MEMBER]]]) }).targets.find(
      (t) => t.account === account && t.region === region,
    )!;

  it('in a child, leaves out the OU targets of its own region that do not hold its account', () => {
    // Prepare: a spoke account target in eu-west-1; an OU in eu-west-1 and eu-central-1 that does not hold it
    const c = fleet(
      [{}, { account: SPOKE }, { organizationalUnit: OU, regions: ['eu-west-1', 'eu-central-1'] }],
      DR,
    );
    const spoke = childOf(c, SPOKE);
    const member = childOf(c, MEMBER);
    // Act, Assert: the child's own region lists who is in the OU (its `index` and `inherits` say)
    expect(copySourceRegions(targetConfig(c, spoke), SPOKE, spoke)).toEqual(['eu-west-1']);
    expect(copySourceRegions(targetConfig(c, member), MEMBER, member)).toEqual(['eu-west-1', 'eu-central-1']);
    // A run that does not know where it was reached (the hub's own events): any OU may hold the account.
    expect(copySourceRegions(c, SPOKE)).toEqual(['eu-west-1', 'eu-central-1']);
  });

  it("still counts an OU target of another region, unless the same OU is one of its own region's", () => {
    // Prepare: the OU only in us-east-1, whose accounts the eu-west-1 child does not know
    const elsewhere = fleet([{}, { account: SPOKE }, { organizationalUnit: OU, regions: ['us-east-1'] }], DR);
    // The same OU also in eu-west-1: its listing there (without SPOKE) tells for us-east-1 too
    const both = fleet(
      [
        {},
        { account: SPOKE },
        { organizationalUnit: OU },
        { organizationalUnit: OU, regions: ['us-east-1'] },
      ],
      DR,
    );
    // Act, Assert
    const a = childOf(elsewhere, SPOKE);
    expect(copySourceRegions(targetConfig(elsewhere, a), SPOKE, a)).toEqual(['eu-west-1', 'us-east-1']);
    const b = childOf(both, SPOKE);
    expect(copySourceRegions(targetConfig(both, b), SPOKE, b)).toEqual(['eu-west-1']);
    const m = childOf(both, MEMBER);
    expect(copySourceRegions(targetConfig(both, m), MEMBER, m)).toEqual(['eu-west-1', 'us-east-1']);
  });
});

describe('targetRoleArn', () => {
  it('is the spoke role of the capability and region, unless the target names its own role', () => {
    const c = fleet([
      { account: '222233334444' },
      { account: '333344445555', role: 'ops-steward' },
      { account: '444455556666', role: 'arn:aws:iam::444455556666:role/path/steward' },
    ]);
    const [a, b, d] = spokeTargets(c) as (ReturnType<typeof spokeTargets>[number] & { account: string })[];
    expect(targetRoleArn(c, a!, 'backup')).toBe(
      'arn:aws:iam::222233334444:role/steward-prod-spoke-backup-eu-west-1',
    );
    expect(targetRoleArn(c, b!, 'retention', 'aws-cn')).toBe('arn:aws-cn:iam::333344445555:role/ops-steward');
    expect(targetRoleArn(c, d!, 'backup')).toBe('arn:aws:iam::444455556666:role/path/steward');
  });

  it('fits IAM’s 64 characters for the longest stage, capability and region', () => {
    expect(spokeRoleName('a'.repeat(16), 'retention', 'ap-southeast-4').length).toBeLessThanOrEqual(64);
  });
});

describe('targetPolicies', () => {
  it('applies only the keys a target overrides, and leaves the stage’s values elsewhere', () => {
    // Prepare
    const c = fleet([
      {},
      {
        account: '222233334444',
        backup: {
          quotaWarnPercent: 60,
          policies: { daily: { retention: 'short', kinds: ['rds-instance'] } },
        },
        retention: { deletions: { safetyCap: 100 }, policies: { standard: { daily: 3, keepAtLeast: 2 } } },
      },
    ]);
    // Act
    const hub = targetPolicies(c, { index: 0 });
    const other = targetPolicies(c, { index: 1 });
    // Assert
    expect(hub.backup.policies).toEqual(c.backup.policies);
    expect(hub.retention).toEqual({ deletions: c.retention.deletions, policies: c.retention.policies });
    expect(other.backup.quotaWarnPercent).toBe(60);
    expect(other.backup.policies.daily).toEqual({
      ...c.backup.policies.daily,
      retention: 'short',
      kinds: ['rds-instance'],
    });
    expect(other.retention.deletions).toEqual({ ...c.retention.deletions, safetyCap: 100 });
    expect(other.retention.policies.standard).toEqual({
      ...c.retention.policies.standard,
      daily: 3,
      keepAtLeast: 2,
    });
    expect(other.retention.policies.short).toEqual(c.retention.policies.short);
  });

  it('never changes a key the target leaves out, whatever it overrides', () => {
    const keys = ['daily', 'weekly', 'monthly', 'yearly', 'keepAtLeast'] as const;
    fc.assert(
      fc.property(
        fc.record(Object.fromEntries(keys.map((k) => [k, fc.integer({ min: 1, max: 100 })])), {
          requiredKeys: [],
        }),
        (over) => {
          const c = fleet([{}, { account: '222233334444', retention: { policies: { standard: over } } }]);
          const got = targetPolicies(c, { index: 1 }).retention.policies.standard!;
          for (const k of keys) expect(got[k]).toBe(over[k] ?? c.retention.policies.standard![k]);
        },
      ),
      { numRuns: 50 },
    );
  });
});
