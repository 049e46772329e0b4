import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/schema.js';
import { AwsCallError, PartialFailureError } from '../../../shared/errors.js';
import {
  type ChildExecution,
  fanOutTargets,
  splitTarget,
  summariseFanOut,
  targetConfig,
  TargetFailedError,
  targetFailureKind,
} from '../../../shared/fleet/fan-out.js';
import { runFanOutSummary } from '../../../shared/fleet/summary.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { FLEET_CONFIG } from '../../support/fleet.js';

const config = parseConfig(FLEET_CONFIG, 'fleet');
const HUB = { index: 0, account: '111111111111', region: 'eu-west-1' };
const B = { index: 1, account: '222222222222', region: 'eu-central-1' };

describe('fanOutTargets', () => {
  it('lists every account-region in config order, the hub without a role, spokes with their role and external id, OUs left out', () => {
    // Act
    const targets = fanOutTargets(config, 'retention');
    // Assert
    expect(targets).toEqual([
      HUB,
      {
        index: 1,
        account: '222222222222',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-retention-eu-west-1',
        externalId: 'steward-prod-fleet',
      },
      {
        ...B,
        roleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-retention-eu-central-1',
        externalId: 'steward-prod-fleet',
      },
      {
        index: 2,
        account: '333333333333',
        region: 'eu-west-1',
        roleArn: 'arn:aws:iam::333333333333:role/steward-prod-spoke-retention-eu-west-1',
        externalId: 'steward-prod-fleet',
      },
    ]);
  });

  it("uses a target's own role instead of the spoke's", () => {
    // Prepare
    const c = parseConfig(
      {
        ...FLEET_CONFIG,
        targets: [{}, { account: '444444444444', role: 'ops-steward' }],
      },
      'fleet',
    );
    // Act / Assert
    expect(fanOutTargets(c, 'backup')[1]!.roleArn).toBe('arn:aws:iam::444444444444:role/ops-steward');
  });
});

describe('targetConfig', () => {
  it("moves the config to the target's account and region and applies its overrides only", () => {
    // Act
    const c = targetConfig(config, { index: 2, account: '333333333333', region: 'eu-west-1' });
    // Assert
    expect(c).toMatchObject({ account: '333333333333', region: 'eu-west-1' });
    expect(c.retention.policies.standard!.daily).toBe(14);
    expect(c.retention.policies.short).toEqual(config.retention.policies.short);
    expect(targetConfig(config, HUB).retention).toEqual(config.retention);
  });

  it.each([
    ['another account', { index: 2, account: '333333333333', region: 'eu-west-1' }, '333333333333'],
    [
      "the hub's account in another region",
      { index: 1, account: '111111111111', region: 'eu-central-1' },
      '111111111111',
    ],
  ])("copies to DR with the spoke DR key of %s, in the role's partition", (_, t, account) => {
    // Act
    const c = targetConfig(config, {
      ...t,
      roleArn: `arn:aws-cn:iam::${account}:role/steward-prod-spoke-backup-x`,
    });
    // Assert
    expect(c.dr).toEqual({
      ...config.dr,
      kmsKeyArn: `arn:aws-cn:kms:us-west-2:${account}:alias/steward-prod-spoke-dr`,
    });
  });

  it("keeps the stage's DR key in the hub's own account and region", () => {
    expect(targetConfig(config, HUB).dr).toEqual(config.dr);
  });
});

describe('splitTarget', () => {
  it('returns an event without target as it came, and splits one with a target', () => {
    const event = { action: 'retention' };
    expect(splitTarget(event)).toEqual({ event });
    expect(splitTarget({ ...event, target: B })).toEqual({ event, target: B });
  });

  it.each([
    [{ ...B, account: 222222222222 }, 'target.account'],
    [{ ...B, region: 'mars-1' }, 'target.region'],
    [{ ...B, index: -1 }, 'target.index'],
    [{ ...B, roleArn: 'steward' }, 'target.roleArn'],
    [{ ...B, extra: true }, 'target'],
  ])('refuses a malformed target %#, naming the field', (target, field) => {
    expect(() => splitTarget({ action: 'retention', target })).toThrow(field);
  });
});

describe('targetFailureKind', () => {
  const aws = (name: string) =>
    new AwsCallError('AssumeRole', 'role', Object.assign(new Error('no'), { name }));
  it.each([
    [aws('AccessDenied'), 'access-denied'],
    [aws('RegionDisabledException'), 'region-disabled'],
    [aws('OptInRequired'), 'region-disabled'],
    [aws('Throttling'), 'throttled'],
    [new Error('boom'), 'failed'],
  ])('classifies %s', (e, kind) => {
    expect(targetFailureKind(e)).toBe(kind);
    expect(new TargetFailedError({ ...B }, e).message).toMatch(
      /^Target 222222222222 eu-central-1 \(targets\[1\]\): /,
    );
  });

  // What a region the account has not enabled answers a call signed with valid credentials (AssumeRole went
  // to the hub region's STS, so its session token is valid in every region: IAM User Guide, "Manage AWS STS
  // in an AWS Region"): the query-protocol services (RDS, STS, IAM) InvalidClientTokenId, HTTP 403; the JSON
  // ones UnrecognizedClientException, HTTP 400; both "The security token included in the request is invalid"
  // (ekristen/aws-nuke#774, ap-east-1: RDS InvalidClientTokenId, Kinesis UnrecognizedClientException;
  // remotion-dev/github-unwrapped-2022#34, eu-south-1: GetCallerIdentity InvalidClientTokenId;
  // aws/aws-sdk-ruby#2850, eu-south-1 with an assumed role). Wrong or revoked credentials answer exactly the
  // same (barnybug/cli53#278), so the message names both and never says "access denied".
  const refused = (operation: string, name: string, status: number) =>
    new AwsCallError(
      operation,
      'orders-db',
      Object.assign(new Error('The security token included in the request is invalid.'), {
        name,
        $metadata: { httpStatusCode: status },
      }),
    );
  it.each([
    ['DescribeDBInstances', 'InvalidClientTokenId', 403],
    ['DescribeCacheClusters', 'InvalidClientTokenId', 403],
    ['GetResources', 'UnrecognizedClientException', 400],
  ])('says a %s refused with %s may be a region not enabled, or invalid credentials', (op, name, status) => {
    // Act
    const e = refused(op, name, status);
    const message = new TargetFailedError({ ...B }, e).message;
    // Assert
    expect(targetFailureKind(e)).toBe('credentials-refused');
    expect(message).not.toMatch(/access denied/);
    expect(message).toMatch(
      /^Target 222222222222 eu-central-1 \(targets\[1\]\): eu-central-1 refused the credentials: the region is not enabled for account 222222222222 \(an opt-in region answers so\), or the credentials are invalid; .* cannot tell which: /,
    );
    expect(message).toContain(`${name}: ${op} failed for orders-db`);
  });

  it('says STS is not activated, for the account, in the region AssumeRole went to (RegionDisabledException)', () => {
    // STS API Reference, AssumeRole: RegionDisabledException, "STS is not activated in the requested region for
    // the account that is being asked to generate credentials" (the role's account).
    const e = new AwsCallError(
      'AssumeRole',
      'arn:aws:iam::222222222222:role/steward-prod-spoke-retention-eu-central-1 (target 222222222222 eu-central-1)',
      Object.assign(new Error('STS is not activated in this region for account:222222222222.'), {
        name: 'RegionDisabledException',
      }),
    );
    expect(targetFailureKind(e)).toBe('region-disabled');
    expect(new TargetFailedError({ ...B }, e).message).toMatch(
      /: STS is not activated for account 222222222222 in the region the hub assumes its role from \(IAM account settings\), or the region is not enabled: /,
    );
  });
});

const child = (target: object, status: string, extra: Partial<ChildExecution> = {}): ChildExecution => ({
  ExecutionArn: 'arn:aws:states:eu-west-1:111111111111:execution:x:1',
  Input: JSON.stringify({ event: { action: 'retention' }, item: { target } }),
  Status: status,
  ...extra,
});
const failedChild = child({ ...B }, 'FAILED', {
  Error: 'TargetFailedError',
  Cause: JSON.stringify({
    errorType: 'TargetFailedError',
    errorMessage: 'Target 222222222222 eu-central-1 (targets[1]): access denied: AccessDenied: no',
  }),
});

describe('summariseFanOut', () => {
  it('names each target by account and region, failed ones with their error', () => {
    // Act
    const s = summariseFanOut('retention', 2, {
      succeeded: [child(HUB, 'SUCCEEDED')],
      failed: [failedChild],
      pending: [],
    });
    // Assert
    expect(s.succeeded).toEqual([{ ...HUB, status: 'succeeded' }]);
    expect(s.failed).toEqual([
      {
        ...B,
        status: 'failed',
        error:
          'TargetFailedError: Target 222222222222 eu-central-1 (targets[1]): access denied: AccessDenied: no',
      },
    ]);
  });
});

describe('runFanOutSummary', () => {
  const results = (children: { succeeded: ChildExecution[]; failed: ChildExecution[] }) => ({
    read: async () => ({ ...children, pending: [] }),
  });
  const event = {
    action: 'fan-out-summary' as const,
    capability: 'retention' as const,
    targets: 2,
    results: { ResultWriterDetails: { Bucket: 'b', Key: 'fleet/retention/run/manifest.json' } },
  };

  it('sends nothing more when every target succeeded', async () => {
    // Prepare
    const notifier = memoryNotifier();
    // Act
    const s = await runFanOutSummary(event, {
      notifier,
      results: results({ succeeded: [child(HUB, 'SUCCEEDED')], failed: [] }),
    });
    // Assert
    expect(s.failed).toEqual([]);
    expect(notifier.sent).toEqual([]);
  });

  it('names the failed targets in one notification, then fails the execution', async () => {
    // Prepare
    const notifier = memoryNotifier();
    // Act
    const failure = await runFanOutSummary(event, {
      notifier,
      results: results({ succeeded: [child(HUB, 'SUCCEEDED')], failed: [failedChild] }),
    }).catch((e: unknown) => e);
    // Assert
    expect(failure).toBeInstanceOf(PartialFailureError);
    expect((failure as Error).message).toContain('222222222222 eu-central-1');
    expect(notifier.sent).toHaveLength(1);
    const n = notifier.sent[0]!;
    expect(n.subject).toBe('Fleet retention: 1 of 2 targets failed');
    expect(n.severity).toBe('critical');
    expect(n.lines[0]).toContain(
      '222222222222 eu-central-1 (targets[1]): TargetFailedError: Target 222222222222',
    );
    expect(n.lines).toContain("Every child's result: s3://b/fleet/retention/run/manifest.json");
  });

  it('reports a Map Run that failed as a whole with its error', async () => {
    // Prepare
    const notifier = memoryNotifier();
    // Act
    const failure = await runFanOutSummary(
      {
        action: 'fan-out-summary',
        capability: 'backup',
        targets: 4,
        event: { policy: 'daily' },
        error: { Error: 'States.ExceedToleratedFailureThreshold', Cause: 'too many failed' },
      },
      { notifier, results: results({ succeeded: [], failed: [] }) },
    ).catch((e: unknown) => e);
    // Assert
    expect(failure).toBeInstanceOf(PartialFailureError);
    expect(notifier.sent[0]!.subject).toBe('Fleet backup "daily": the cycle failed over 4 targets');
    expect(notifier.sent[0]!.lines[0]).toBe(
      'The Map Run failed: States.ExceedToleratedFailureThreshold: too many failed',
    );
  });
});
