import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { RDSClient, DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { targetCredentials, type TargetRole } from '../../../shared/aws/target-credentials.js';
import { AwsCallError } from '../../../shared/errors.js';

const sts = mockClient(STSClient);
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);
const prod: TargetRole = {
  account: '222222222222',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::222222222222:role/steward-prod-spoke-backup-eu-west-1',
  externalId: 'steward-fleet-7f3a',
};
const staging: TargetRole = {
  account: '333333333333',
  region: 'eu-west-1',
  roleArn: 'arn:aws:iam::333333333333:role/steward-prod-spoke-backup-eu-west-1',
};

let n = 0;
const session = (expiresAt: number) => {
  n += 1;
  return {
    Credentials: {
      AccessKeyId: `ASIA${n}`,
      SecretAccessKey: `secret-${n}`,
      SessionToken: `token-${n}`,
      Expiration: new Date(expiresAt),
    },
  };
};

beforeEach(() => {
  sts.reset();
  n = 0;
});

describe('targetCredentials', () => {
  it('assumes the target role with its external id, a named session and the lifetime asked for', async () => {
    // Prepare
    sts.on(AssumeRoleCommand).resolves(session(T0 + 3600_000));
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 'steward-prod-backup',
      durationSeconds: 900,
      now: () => T0,
    });

    // Act
    const c = await creds.forTarget(prod)();

    // Assert
    expect(sts).toReceiveCommandWith(AssumeRoleCommand, {
      RoleArn: prod.roleArn,
      RoleSessionName: 'steward-prod-backup',
      DurationSeconds: 900,
      ExternalId: 'steward-fleet-7f3a',
    });
    expect(c).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 'secret-1',
      sessionToken: 'token-1',
      expiration: new Date(T0 + 3600_000),
      accountId: '222222222222',
    });
  });

  it('sends no external id when the target has none', async () => {
    sts.on(AssumeRoleCommand).resolves(session(T0 + 3600_000));
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 's',
      now: () => T0,
    });

    await creds.forTarget(staging)();

    const input = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
    expect(input).not.toHaveProperty('ExternalId');
    expect(input.DurationSeconds).toBe(3600);
  });

  it('caches one session per target until it is within the refresh margin of expiry', async () => {
    // Prepare
    let clock = T0;
    sts.on(AssumeRoleCommand).callsFake(() => session(clock + 3600_000));
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 's',
      refreshBeforeMs: 5 * 60_000,
      now: () => clock,
    });
    const forProd = creds.forTarget(prod);

    // Act
    const first = await forProd();
    clock = T0 + 54 * 60_000; // 6 minutes left: still fresh
    const again = await creds.forTarget(prod)();
    clock = T0 + 55 * 60_000 + 1; // inside the 5-minute margin: replaced
    const renewed = await forProd();

    // Assert
    expect(again).toBe(first);
    expect(renewed.accessKeyId).toBe('ASIA2');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('keeps targets apart: each account has its own session', async () => {
    sts.on(AssumeRoleCommand).callsFake(() => session(T0 + 3600_000));
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 's',
      now: () => T0,
    });

    const [a, b] = [await creds.forTarget(prod)(), await creds.forTarget(staging)()];

    expect(a.accountId).toBe('222222222222');
    expect(b.accountId).toBe('333333333333');
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([
      prod.roleArn,
      staging.roleArn,
    ]);
  });

  it('shares one AssumeRole between callers that ask at once', async () => {
    let release: () => void = () => undefined;
    sts.on(AssumeRoleCommand).callsFake(
      () =>
        new Promise((resolve) => {
          release = () => resolve(session(T0 + 3600_000));
        }),
    );
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 's',
      now: () => T0,
    });

    const waiting = [creds.forTarget(prod)(), creds.forTarget(prod)(), creds.forTarget(prod)()];
    await new Promise((r) => setImmediate(r));
    release();
    const got = await Promise.all(waiting);

    expect(new Set(got).size).toBe(1);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it('reports a refused AssumeRole naming the role and target, caches nothing, and tries again next time', async () => {
    // Prepare
    const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
      name: 'AccessDenied',
    });
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(denied)
      .resolves(session(T0 + 3600_000));
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 's',
      now: () => T0,
    });

    // Act
    const failure = await creds
      .forTarget(prod)()
      .catch((e: unknown) => e);
    const retried = await creds.forTarget(prod)();

    // Assert
    expect(failure).toBeInstanceOf(AwsCallError);
    expect((failure as AwsCallError).code).toBe('AccessDenied');
    expect((failure as Error).message).toContain(prod.roleArn);
    expect((failure as Error).message).toContain('222222222222 eu-west-1');
    expect(retried.accessKeyId).toBe('ASIA1');
  });

  it('refuses an answer without complete credentials', async () => {
    sts.on(AssumeRoleCommand).resolves({ Credentials: undefined });
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), { sessionName: 's' });

    await expect(creds.forTarget(prod)()).rejects.toThrow(/without complete credentials/);
  });

  it('forget drops a session so the next call assumes the role again', async () => {
    sts.on(AssumeRoleCommand).callsFake(() => session(T0 + 3600_000));
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 's',
      now: () => T0,
    });

    await creds.forTarget(prod)();
    creds.forget(prod);
    const next = await creds.forTarget(prod)();

    expect(next.accessKeyId).toBe('ASIA2');
  });

  it('signs a target client with the assumed session', async () => {
    // Prepare: the provider plugs into any SDK client of the target
    sts.on(AssumeRoleCommand).resolves(session(T0 + 3600_000));
    const rds = mockClient(RDSClient);
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [] });
    const creds = targetCredentials(new STSClient({ region: 'eu-west-1' }), {
      sessionName: 's',
      now: () => T0,
    });
    const client = new RDSClient({ region: prod.region, credentials: creds.forTarget(prod) });

    // Act
    const resolved = await client.config.credentials();

    // Assert
    expect(resolved.accessKeyId).toBe('ASIA1');
    rds.restore();
  });
});
