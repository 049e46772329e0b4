import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';
import { checkCredentialsFor, selectTarget, targetedStage } from '../../cli/target.js';
import { configAt } from '../../shared/fleet/place.js';
import { parseConfig } from '../../shared/config/schema.js';
import { FLEET_CONFIG } from '../support/fleet.js';
import { ownTmpDir, removeOwnTmpDir } from '../support/own-tmp.js';

const fleet = parseConfig(FLEET_CONFIG, 'prod');
const single = parseConfig({ stage: 'dev', region: 'eu-west-1' }, 'dev');

describe('selectTarget', () => {
  it.each([
    ['nothing: the stage itself, as before', {}, undefined],
    [
      'an index with one region',
      { target: '0' },
      { account: '111111111111', region: 'eu-west-1', hub: true, index: 0 },
    ],
    [
      'an index and one of its regions',
      { target: '1', region: 'eu-central-1' },
      { account: '222222222222', region: 'eu-central-1', hub: false, index: 1 },
    ],
    [
      'account/region',
      { target: '222222222222/eu-west-1' },
      { account: '222222222222', region: 'eu-west-1', hub: false, index: 1 },
    ],
    [
      'an account alone: the stage region',
      { account: '333333333333' },
      { account: '333333333333', region: 'eu-west-1', hub: false, index: 2 },
    ],
    [
      'a region alone: the stage account',
      { region: 'eu-west-1' },
      { account: '111111111111', region: 'eu-west-1', hub: true, index: 0 },
    ],
    [
      'an account of an OU, in a region the OU covers',
      { account: '444444444444', region: 'eu-central-1' },
      { account: '444444444444', region: 'eu-central-1', hub: false, index: 3 },
    ],
    [
      'an OU index with an account',
      { target: '3', account: '444444444444', region: 'eu-west-1' },
      { account: '444444444444', region: 'eu-west-1', hub: false, index: 3 },
    ],
  ])('%s', (_, flags, want) => {
    // Act
    const t = selectTarget(fleet, flags);
    // Assert
    expect(t && { account: t.account, region: t.region, hub: t.hub, index: t.ref.index }).toEqual(want);
  });

  it.each([
    [
      'an index out of range',
      { target: '7' },
      /--target 7: stage prod has targets 0-3 \(targets\[0\] 111111111111\/eu-west-1, /,
    ],
    [
      'an index with several regions',
      { target: '1' },
      /targets\[1\] \(222222222222\) has regions eu-west-1, eu-central-1: add --region/,
    ],
    [
      'an index without that region',
      { target: '2', region: 'us-east-1' },
      /targets\[2\] has no region us-east-1 \(it has eu-west-1\)/,
    ],
    ['an OU index without an account', { target: '3' }, /every account of ou-ab12-cd34ef56: add --account/],
    ['a malformed target', { target: 'prod' }, /give an index of targets \(0-3\) or <account>\/<region>/],

    ['a malformed account', { account: '1234' }, /must be a 12-digit account id/],
    [
      'an account/region that is no target, with a suggestion',
      { target: '222222222222/eu-west-2' },
      /222222222222\/eu-west-2 is not a target of stage prod \(did you mean 222222222222\/eu-west-1\?\)/,
    ],
    [
      'target and region disagree',
      { target: '222222222222/eu-west-1', region: 'eu-central-1' },
      /name different regions/,
    ],
    [
      'an index and another account',
      { target: '1', region: 'eu-west-1', account: '333333333333' },
      /targets\[1\] is account 222222222222, not 333333333333/,
    ],
    [
      'an unknown account where no OU covers the region',
      { account: '999999999999', region: 'us-east-1' },
      /999999999999\/us-east-1 is not a target/,
    ],
  ])('refuses %s, saying what the targets are', (_, flags, message) => {
    expect(() => selectTarget(fleet, flags)).toThrow(message);
  });

  it('a single-account stage takes its own region only', () => {
    expect(selectTarget(single, { region: 'eu-west-1' })?.hub).toBe(true);
    expect(() => selectTarget(single, { region: 'us-east-1' })).toThrow(
      /this account\/us-east-1 is not a target of stage dev/,
    );
  });

  it('a malformed target is shown an <account>/<region> the flag takes, even for a stage that names no account', () => {
    expect(() => selectTarget(single, { target: 'dev' })).toThrow(
      /<account>\/<region> such as 123456789012\/eu-west-1$/,
    );
    expect(() => selectTarget(fleet, { target: 'prod' })).toThrow(/such as 111111111111\/eu-west-1$/);
  });

  it('a target runs with its own region, account and policy overrides', () => {
    // Act
    const t = selectTarget(fleet, { target: '2' })!;
    const c = configAt(fleet, { index: t.ref.index, region: t.region, account: t.account! });
    // Assert
    expect([c.region, c.account, c.retention.policies.standard?.daily]).toEqual([
      'eu-west-1',
      '333333333333',
      14,
    ]);
    expect(fleet.retention.policies.standard?.daily).not.toBe(14);
  });
});

describe('the credentials must be of the target account', () => {
  const sts = mockClient(STSClient);
  beforeEach(() => sts.reset());

  it('goes on with the right account, refuses another one naming both', async () => {
    // Prepare
    const t = selectTarget(fleet, { target: '222222222222/eu-west-1' });
    sts
      .on(GetCallerIdentityCommand)
      .resolvesOnce({ Account: '222222222222' })
      .resolves({ Account: '111111111111' });
    // Act / Assert
    await expect(checkCredentialsFor(t)).resolves.toBeUndefined();
    await expect(checkCredentialsFor(t)).rejects.toThrow(
      /credentials are for account 111111111111, but the target is 222222222222\/eu-west-1: use a profile of 222222222222/,
    );
  });

  it('asks nothing without a target', async () => {
    await checkCredentialsFor(undefined);
    expect(sts).toReceiveCommandTimes(GetCallerIdentityCommand, 0);
  });
});

describe('steward <command> --target', () => {
  let dir: string;
  const sts = mockClient(STSClient);
  beforeAll(() => {
    dir = ownTmpDir('steward-cli-target');
    writeFileSync(join(dir, 'steward.prod.yaml'), JSON.stringify(FLEET_CONFIG));
  });
  afterAll(() => removeOwnTmpDir(dir));
  beforeEach(() => {
    sts.reset();
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await main([...argv, '--config', dir, '--json'], (s) => out.push(s));
    return {
      code,
      error: (JSON.parse(out.join('\n')) as { error?: { message: string; fields: string[] } }).error,
    };
  };

  it.each([
    [['status', '--target', '9'], /--target 9: stage prod has targets 0-3/, '--target'],
    [
      ['plan', 'retention', '--account', '999999999999', '--region', 'us-east-1'],
      /is not a target of stage prod/,
      '--account',
    ],
    [
      ['drill', 'orders-db', '--target', '1', '--region', 'eu-central-1'],
      /drills restore in the stage's own account-region \(111111111111\/eu-west-1\) only/,
      '--target',
    ],
  ])('%j: a clear usage error, exit 2', async (argv, message, field) => {
    const { code, error } = await cli(...argv);
    expect(code).toBe(2);
    expect(error?.message).toMatch(message);
    expect(error?.fields).toEqual([field]);
  });

  it('a command that lists no databases does not take --target', async () => {
    const { code, error } = await cli('cost', '--target', '1');
    expect([code, error?.message]).toEqual([2, expect.stringMatching(/steward cost does not take --target/)]);
  });

  it("invoke in another account-region: backup and retention only, as a dry run, with that account's credentials", async () => {
    // Prepare
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ action: 'scheduled-backup', policy: 'daily' }));
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111111111111' });
    const at = ['--event', event, '--target', '222222222222/eu-west-1'];
    // Act
    const cost = await cli('invoke', 'cost', ...at);
    const wet = await cli('invoke', 'backup', ...at);
    const wrong = await cli('invoke', 'backup', ...at, '--dry-run');
    // Assert
    expect(cost.error?.message).toMatch(/only backup and retention act in the stage's targets/);
    expect(wet.error?.message).toMatch(/add --dry-run/);
    expect(wrong.error?.message).toMatch(
      /credentials are for account 111111111111, but the target is 222222222222\/eu-west-1/,
    );
    expect([cost.code, wet.code, wrong.code]).toEqual([2, 2, 2]);
  });

  // The stage's config names its account (111111111111): a profile of another account must not run prod's
  // policies there. Without --target the check was skipped, so a local invoke acted in whatever account
  // AWS_PROFILE pointed at (a retention run deleting by prod's policies in dev, a backup tagging dev's
  // snapshots steward:account=111111111111).
  it("invoke without --target checks the credentials against the stage's own account", async () => {
    // Prepare
    const event = join(dir, 'event.json');
    writeFileSync(
      event,
      JSON.stringify({ action: 'scheduled-backup', policy: 'daily', scheduledTime: '2026-12-01T03:00:00Z' }),
    );
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999' });
    const rds = mockClient(RDSClient);
    try {
      // Act
      const run = await cli('invoke', 'backup', '--event', event, '--dry-run');
      // Assert
      expect(run.error?.message).toMatch(
        /credentials are for account 999999999999, but stage prod acts in 111111111111\/eu-west-1: use a profile of 111111111111/,
      );
      expect(run.code).toBe(2);
      expect(rds).toReceiveCommandTimes(DescribeDBInstancesCommand, 0);
    } finally {
      rds.restore();
    }
  });

  it('plan backup --inventory tags what it plans with the target account and region', async () => {
    // Prepare
    const inventory = join(dir, 'databases.json');
    writeFileSync(
      inventory,
      JSON.stringify([
        {
          kind: 'rds-instance',
          id: 'orders',
          arn: 'a',
          region: 'eu-central-1',
          engine: 'postgres',
          status: 'available',
          tags: { 'steward:backup': 'daily' },
        },
      ]),
    );
    const out: string[] = [];
    // Act
    const code = await main(
      [
        'plan',
        'backup',
        '--inventory',
        inventory,
        '--target',
        '1',
        '--region',
        'eu-central-1',
        '--config',
        dir,
        '--json',
      ],
      (s) => out.push(s),
    );
    // Assert
    expect(code).toBe(0);
    const plan = JSON.parse(out.join('\n')) as { actions: { tags: Record<string, string> }[] };
    expect(plan.actions[0]!.tags).toMatchObject({
      'steward:account': '222222222222',
      'steward:region': 'eu-central-1',
    });
    expect(targetedStage({ config: dir, target: '1', region: 'eu-central-1' }).place).toEqual({
      account: '222222222222',
      region: 'eu-central-1',
      fleet: true,
    });
  });
});
