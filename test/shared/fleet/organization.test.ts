import { describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { EventShapeError } from '../../../shared/errors.js';
import { planFanOut, targetConfig } from '../../../shared/fleet/fan-out.js';
import {
  FanOutTooLargeError,
  type OrganizationDirectory,
  parseFanOutTargets,
  runFanOutTargets,
} from '../../../shared/fleet/organization.js';

// A hub in 111111111111; two OUs (ou-aaaa-parent nests ou-aaaa-child in Organizations, listed here as the
// directory would answer), an account target 333333333333 inside both.
const INPUT: StewardConfigInput = {
  stage: 'prod',
  account: '111111111111',
  region: 'eu-west-1',
  fleet: { organizationId: 'o-a1b2c3d4e5' },
  retention: { policies: { standard: {} } },
  targets: [
    {},
    {
      organizationalUnit: 'ou-aaaa-parent00',
      retention: { policies: { standard: { daily: 20, weekly: 3 } } },
    },
    { account: '333333333333', retention: { policies: { standard: { daily: 9 } } } },
    {
      organizationalUnit: 'ou-aaaa-child000',
      role: 'ops-steward',
      retention: { policies: { standard: { weekly: 5 } }, deletions: { floor: 7 } },
    },
  ],
};
const config = parseConfig(INPUT, 'org');
const accountsOf = new Map([
  ['ou-aaaa-parent00', ['444444444444', '333333333333', '111111111111', '555555555555']],
  ['ou-aaaa-child000', ['444444444444', '333333333333']],
]);
const spoke = (account: string) => `arn:aws:iam::${account}:role/steward-prod-spoke-retention-eu-west-1`;

describe('planFanOut over listed OUs', () => {
  const plan = planFanOut(config, 'retention', { accountsOf, managementAccount: '555555555555' });

  it("runs each account-region once, in config order, an OU's accounts ascending", () => {
    expect(plan.targets.map((t) => t.account)).toEqual(['111111111111', '333333333333', '444444444444']);
  });

  it.each([
    // account, index (the most specific target), inherits (applied under it, config order), role
    ['111111111111', 0, [1], undefined], // the hub's own account-region: its own credentials
    ['333333333333', 2, [1, 3], spoke('333333333333')], // its account target wins over both OUs
    ['444444444444', 3, [1], 'arn:aws:iam::444444444444:role/ops-steward'], // the later OU's role
  ])('%s runs as targets[%i] inheriting %j', (account, index, inherits, roleArn) => {
    const t = plan.targets.find((x) => x.account === account)!;
    expect(t).toEqual({
      index,
      account,
      region: 'eu-west-1',
      ...(roleArn ? { roleArn } : {}),
      inherits,
    });
  });

  it('merges overrides: stage, then the OUs in config order, then the account target', () => {
    const at = (account: string) =>
      targetConfig(
        config,
        plan.targets.find((x) => x.account === account)!,
      ).retention;
    expect(at('333333333333').policies.standard).toMatchObject({ daily: 9, weekly: 5 });
    expect(at('444444444444').policies.standard).toMatchObject({ daily: 20, weekly: 5 });
    expect(at('444444444444').deletions.floor).toBe(7);
    expect(at('111111111111').policies.standard).toMatchObject({ daily: 20, weekly: 3 });
    expect(at('111111111111').deletions.floor).toBe(config.retention.deletions.floor);
  });

  it('skips the management account (no StackSet spoke there) and says why', () => {
    expect(plan.skipped).toEqual([
      expect.objectContaining({ account: '555555555555', region: 'eu-west-1', index: 1 }),
    ]);
    expect(plan.skipped[0]!.reason).toMatch(/management account/);
  });

  it('without listings (synth) leaves the OUs out', () => {
    expect(planFanOut(config, 'retention').targets.map((t) => t.account)).toEqual([
      '111111111111',
      '333333333333',
    ]);
  });
});

describe('runFanOutTargets', () => {
  const directory = (accounts: Record<string, string[]>): OrganizationDirectory & { asked: string[] } => {
    const asked: string[] = [];
    return {
      asked,
      accountsUnder: async (ou) => (asked.push(ou), accounts[ou] ?? []),
      managementAccount: async () => '555555555555',
    };
  };
  const event = parseFanOutTargets({
    action: 'fan-out-targets',
    capability: 'backup',
    partition: 'aws-cn',
    event: { action: 'scheduled-backup', policy: 'daily' },
  });

  it('lists each OU once and hands the Map the event and one item per child, in the partition', async () => {
    // Prepare
    const d = directory(Object.fromEntries(accountsOf));
    // Act
    const items = await runFanOutTargets(event, { config, capability: 'backup', directory: d });
    // Assert
    expect(d.asked).toEqual(['ou-aaaa-parent00', 'ou-aaaa-child000']);
    expect(items.event).toEqual({ action: 'scheduled-backup', policy: 'daily' });
    expect(items.targets.map((i) => i.target.roleArn)).toEqual([
      undefined,
      'arn:aws-cn:iam::333333333333:role/steward-prod-spoke-backup-eu-west-1',
      'arn:aws-cn:iam::444444444444:role/ops-steward',
    ]);
    expect(items.skipped).toHaveLength(1);
  });

  it('refuses a listing too large for a state, naming the count', async () => {
    // Prepare: 2,000 accounts in one OU
    const many = Array.from({ length: 2000 }, (_, i) => String(400000000000 + i));
    // Act, Assert
    await expect(
      runFanOutTargets(event, {
        config,
        capability: 'backup',
        directory: directory({ 'ou-aaaa-parent00': many }),
      }),
    ).rejects.toThrow(FanOutTooLargeError);
  });

  it('rejects a malformed event naming the field', () => {
    expect(() =>
      parseFanOutTargets({ action: 'fan-out-targets', capability: 'drill', partition: 'aws' }),
    ).toThrow(EventShapeError);
  });
});
