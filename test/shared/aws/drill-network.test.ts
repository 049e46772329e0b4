import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { ssmCacheDrillNetwork } from '../../../shared/aws/drill-network.js';
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
