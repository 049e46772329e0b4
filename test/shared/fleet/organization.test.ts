import { describe, expect, it } from 'vitest';
import { parseConfig, type StewardConfigInput } from '../../../shared/config/schema.js';
import { AwsCallError, EventShapeError } from '../../../shared/errors.js';
import { planFanOut, targetConfig, targetFailureKind } from '../../../shared/fleet/fan-out.js';
import {
  FanOutTooLargeError,
  OU_LISTING_WAITS_MS,
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

  // One OU's listing failing used to fail the whole listing, and the cycle with it: every target of every
  // other OU, and every account target, skipped. A throttle is retried (with the client's own retries
  // spent, Organizations allows few requests per second per account); a listing that still fails leaves that
  // OU out, named, and the others run.
  const failing = (
    fails: Record<string, { name: string; times: number }>,
  ): OrganizationDirectory & { asked: string[] } => {
    const d = directory(Object.fromEntries(accountsOf));
    const left = new Map(Object.entries(fails).map(([ou, f]) => [ou, f.times]));
    return {
      ...d,
      accountsUnder: async (ou) => {
        const n = left.get(ou) ?? 0;
        if (n > 0) {
          left.set(ou, n - 1);
          d.asked.push(ou);
          throw new AwsCallError(
            'ListAccountsForParent',
            ou,
            Object.assign(new Error('failed'), { name: fails[ou]!.name }),
          );
        }
        return d.accountsUnder(ou);
      },
    };
  };
  const sleeps: number[] = [];
  const deps = (d: OrganizationDirectory) => ({
    config,
    capability: 'backup' as const,
    directory: d,
    sleep: async (ms: number) => void sleeps.push(ms),
  });

  it('retries a throttled OU listing, then lists it', async () => {
    // Prepare: Organizations throttles the child OU's listing twice
    sleeps.length = 0;
    const d = failing({ 'ou-aaaa-child000': { name: 'TooManyRequestsException', times: 2 } });
    // Act
    const items = await runFanOutTargets(event, deps(d));
    // Assert
    expect(d.asked).toEqual(['ou-aaaa-parent00', 'ou-aaaa-child000', 'ou-aaaa-child000', 'ou-aaaa-child000']);
    expect(sleeps).toHaveLength(2);
    expect(items.targets).toHaveLength(3);
    expect(items.unlisted).toEqual([]);
  });

  it.each([
    ['refused', 'AccessDeniedException', 1],
    ['throttled past its retries', 'TooManyRequestsException', 99],
  ])(
    'runs the targets that were listed when one OU listing is %s, and names the OU that was not',
    async (_, name, times) => {
      // Prepare
      const d = failing({ 'ou-aaaa-parent00': { name, times } });
      // Act
      const items = await runFanOutTargets(event, deps(d));
      // Assert: the account targets and the other OU's accounts run
      expect(items.targets.map((i) => i.target.account)).toEqual([
        '111111111111',
        '333333333333',
        '444444444444',
      ]);
      expect(items.unlisted).toEqual([
        {
          organizationalUnit: 'ou-aaaa-parent00',
          targets: [1],
          error: expect.stringContaining(
            `ListAccountsForParent failed for ou-aaaa-parent00: ${name}`,
          ) as unknown,
        },
      ]);
      // A refusal is not retried; a throttle is, a bounded number of times.
      const asked = d.asked.filter((ou) => ou === 'ou-aaaa-parent00').length;
      expect(asked).toBe(name === 'AccessDeniedException' ? 1 : OU_LISTING_WAITS_MS.length + 1);
    },
  );

  // One reading of "throttled" for the repo: the listing retries exactly what a target's failure calls
  // throttled (shared/fleet/fan-out.ts, targetFailureKind), plus Organizations' own ServiceException (a failure
  // on its side). Its own regex used to miss S3's SlowDown and a throttle named only in the message.
  it.each([
    ['ThrottlingException', 'Rate exceeded', true],
    ['TooManyRequestsException', 'Rate exceeded', true],
    ['RequestLimitExceeded', 'Request limit exceeded', true],
    ['SlowDown', 'Please reduce your request rate', true],
    ['Error', 'Throttling: rate of requests exceeded', true],
    ['ServiceException', 'internal failure', true],
    ['AccessDeniedException', 'not authorized', false],
    ['AccessDeniedException', 'Throttling is not the problem: not authorized', false],
    ['ConstraintViolationException', 'failed', false],
  ])(
    'retries a %s (%s) listing exactly when the fleet reads it as throttled',
    async (name, message, retried) => {
      // Prepare: the parent OU's listing fails with it every time
      const asked: string[] = [];
      const error = new AwsCallError(
        'ListAccountsForParent',
        'ou-aaaa-parent00',
        Object.assign(new Error(message), { name }),
      );
      const d: OrganizationDirectory = {
        accountsUnder: async (ou) => {
          asked.push(ou);
          if (ou === 'ou-aaaa-parent00') throw error;
          return accountsOf.get(ou) ?? [];
        },
        managementAccount: async () => '555555555555',
      };
      // Act
      const items = await runFanOutTargets(event, deps(d));
      // Assert
      expect(targetFailureKind(error) === 'throttled' || name === 'ServiceException').toBe(retried);
      expect(asked.filter((ou) => ou === 'ou-aaaa-parent00')).toHaveLength(
        retried ? OU_LISTING_WAITS_MS.length + 1 : 1,
      );
      expect(items.unlisted.map((u) => u.organizationalUnit)).toEqual(['ou-aaaa-parent00']);
    },
  );

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
