import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { ssmCacheDrillNetwork, ssmDrEbsVerifierSite } from '../../../shared/aws/drill-network.js';
import { drEbsVerifierParameter } from '../../../shared/drill/ebs-verifier.js';
import { drCacheNetworkParameter } from '../../../shared/drill/cache-tasks.js';
import { AwsCallError, ConfigError } from '../../../shared/errors.js';

const ssm = mockClient(SSMClient);
const NAME = drCacheNetworkParameter('prod');
const lookup = () =>
  ssmCacheDrillNetwork(new SSMClient({ region: 'us-west-2' }), NAME, 'us-west-2', 'Steward-prod-dr');
const value = (v: unknown) => ({ Parameter: { Name: NAME, Value: JSON.stringify(v) } });

beforeEach(() => ssm.reset());

describe('ssmCacheDrillNetwork', () => {
  it('reads the DR stack’s network from its parameter once per container', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves(
      value({
        cacheSubnetGroupName: 'steward-prod-drill',
        securityGroupIds: ['sg-0d0cac4e'],
        userGroupId: 'steward-prod-drill',
      }),
    );
    const network = lookup();

    // Act
    const first = await network();
    const second = await network();

    // Assert
    expect(first).toEqual({
      cacheSubnetGroupName: 'steward-prod-drill',
      securityGroupIds: ['sg-0d0cac4e'],
      userGroupId: 'steward-prod-drill',
    });
    expect(second).toBe(first);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: '/steward/prod/drill/dr-cache-network',
    });
  });

  it('names the parameter and the stack to deploy when the parameter does not exist, and asks again next time', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(new ParameterNotFound({ message: 'not found', $metadata: {} }))
      .resolves(value({ cacheSubnetGroupName: 'steward-prod-drill', securityGroupIds: ['sg-0d0cac4e'] }));
    const network = lookup();

    // Act
    const missing = await network().catch((e: unknown) => e);
    const later = await network();

    // Assert
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).issues.join('\n')).toMatch(
      /\/steward\/prod\/drill\/dr-cache-network: parameter not found; deploy Steward-prod-dr/,
    );
    expect(later).toEqual({ cacheSubnetGroupName: 'steward-prod-drill', securityGroupIds: ['sg-0d0cac4e'] });
  });

  it.each([
    ['not JSON', { Parameter: { Name: NAME, Value: 'steward-prod-drill' } }, /not JSON/],
    [
      'no security group',
      value({ cacheSubnetGroupName: 'steward-prod-drill', securityGroupIds: [] }),
      /not a cache drill network/,
    ],
    [
      'a bad security group id',
      value({ cacheSubnetGroupName: 'x', securityGroupIds: ['default'] }),
      /not a cache drill network/,
    ],
  ])('refuses a parameter that is %s, naming it', async (_, answer, why) => {
    // Prepare
    ssm.on(GetParameterCommand).resolves(answer);

    // Act
    const e = await lookup()().catch((x: unknown) => x);

    // Assert
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).issues[0]).toMatch(why);
  });

  it('keeps any other failure an AWS call error with its cause', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    // Act
    const e = await lookup()().catch((x: unknown) => x);

    // Assert
    expect(e).toBeInstanceOf(AwsCallError);
    expect((e as Error).message).toMatch(/GetParameter.*dr-cache-network in us-west-2/);
  });
});

describe('ssmDrEbsVerifierSite', () => {
  const EBS = drEbsVerifierParameter('prod');
  const site = () =>
    ssmDrEbsVerifierSite(new SSMClient({ region: 'us-west-2' }), EBS, 'us-west-2', 'Steward-prod-dr');
  const published = {
    vpcId: 'vpc-0d0e1',
    subnets: 'us-west-2b=subnet-0d0b,us-west-2a=subnet-0d0a',
    securityGroupId: 'sg-0d0e1f',
    instanceProfileArn: 'arn:aws:iam::111122223333:instance-profile/steward-prod-ebs-verifier',
    documentName: 'steward-prod-consistency',
    endpoints: {
      ssm: {
        serviceName: 'com.amazonaws.us-west-2.ssm',
        subnetIds: ['subnet-0d0b'],
        securityGroupIds: ['sg-0e0f'],
      },
    },
  };

  it('reads the DR verifier network once: subnets by zone, the first subnet’s zone, the document and the endpoints', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves(value(published));
    const read = site();

    // Act
    const first = await read();
    await read();

    // Assert
    expect(first).toEqual({
      network: {
        subnets: { 'us-west-2b': 'subnet-0d0b', 'us-west-2a': 'subnet-0d0a' },
        securityGroupId: 'sg-0d0e1f',
        instanceProfileArn: published.instanceProfileArn,
      },
      availabilityZone: 'us-west-2b',
      documentName: 'steward-prod-consistency',
      endpoints: { vpcId: 'vpc-0d0e1', endpoints: published.endpoints },
    });
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: '/steward/prod/drill/dr-ebs-verifier',
    });
  });

  it('has no endpoints when the stack deploys them always on', async () => {
    // Prepare
    const { endpoints: _e, ...alwaysOn } = published;
    ssm.on(GetParameterCommand).resolves(value(alwaysOn));

    // Act
    const read = await site()();

    // Assert
    expect(read.endpoints).toBeUndefined();
  });

  it.each([
    ['missing', undefined, 'parameter not found'],
    ['not JSON', '{', 'not JSON'],
    ['malformed', { ...published, securityGroupId: 'open' }, 'securityGroupId'],
    ['without subnets', { ...published, subnets: 'nonsense' }, 'names no subnet'],
  ])('names the parameter and the stack when it is %s, and asks again next time', async (_, v, why) => {
    // Prepare
    const first =
      v === undefined
        ? ssm
            .on(GetParameterCommand)
            .rejectsOnce(new ParameterNotFound({ message: 'not found', $metadata: {} }))
        : ssm
            .on(GetParameterCommand)
            .resolvesOnce({ Parameter: { Name: EBS, Value: typeof v === 'string' ? v : JSON.stringify(v) } });
    first.resolves(value(published));
    const read = site();

    // Act
    const failed = await read().catch((e: unknown) => e);
    const again = await read();

    // Assert
    expect(failed).toBeInstanceOf(ConfigError);
    expect((failed as ConfigError).message).toContain('No EBS verifier network in us-west-2');
    expect((failed as ConfigError).message).toContain(why);
    expect((failed as ConfigError).message).toContain(`${EBS}:`);
    expect((failed as ConfigError).message).toContain('deploy Steward-prod-dr');
    expect(again.documentName).toBe('steward-prod-consistency');
  });
});
