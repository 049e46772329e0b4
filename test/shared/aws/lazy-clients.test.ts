import { DescribeDBInstancesCommand, paginateDescribeDBInstances, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { lazily, memo } from '../../../shared/aws/clients/kit.js';
import { rdsClient } from '../../../shared/aws/clients/rds.js';

const rds = mockClient(RDSClient);
afterEach(() => rds.reset());

describe('clients built on first use', () => {
  it('builds nothing until the client is used, then builds it once', () => {
    // Prepare
    let built = 0;
    const client = lazily(() => {
      built++;
      return new RDSClient({ region: 'eu-west-1' });
    });

    // Act
    const before = built;
    const region = client.config.region;
    void client.middlewareStack;

    // Assert
    expect(before).toBe(0);
    expect(built).toBe(1);
    expect(typeof region).toBe('function');
  });

  it('is one client per service, region, options and identity, whether or not it was used', () => {
    // Prepare
    let built = 0;
    const make = () => {
      built++;
      return new RDSClient({ region: 'eu-central-1' });
    };

    // Act
    const a = memo('lazy-test', 'eu-central-1', undefined, make);
    const b = memo('lazy-test', 'eu-central-1', undefined, make);

    // Assert
    expect(a).toBe(b);
    expect(built).toBe(0);
    expect(a).toBeInstanceOf(RDSClient);
    expect(built).toBe(1);
  });

  it('sends through the client, with the factory client as `this`, and pages (the paginator checks instanceof)', async () => {
    // Prepare
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: 'a' }], Marker: 'm' })
      .resolvesOnce({ DBInstances: [{ DBInstanceIdentifier: 'b' }] });
    const client = rdsClient('ap-southeast-2');

    // Act
    const ids: string[] = [];
    for await (const page of paginateDescribeDBInstances({ client }, {}))
      ids.push(...(page.DBInstances ?? []).map((d) => d.DBInstanceIdentifier!));

    // Assert
    expect(ids).toEqual(['a', 'b']);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
    expect(rds.call(0).thisValue).toBe(client);
    expect(rds.commandCalls(DescribeDBInstancesCommand)[1]!.args[0].input).toEqual({ Marker: 'm' });
  });
});
