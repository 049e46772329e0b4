import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elastiCacheClient } from '../../../shared/aws/clients/elasticache.js';
import { paced } from '../../../shared/aws/clients/kit.js';
import { rdsClient } from '../../../shared/aws/clients/rds.js';

// A local endpoint that throttles the first request and answers the rest: real HTTP, real SDK retries.
let server: Server;
let endpoint: string;
let requests = 0;
const EMPTY = `<DescribeDBInstancesResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstancesResult><DBInstances/></DescribeDBInstancesResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeDBInstancesResponse>`;
const THROTTLED = `<ErrorResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`;

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const first = requests++ === 0;
      res.writeHead(first ? 400 : 200, { 'content-type': 'text/xml' });
      res.end(first ? THROTTLED : EMPTY);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

describe('paced clients', () => {
  it('take one token per attempt, retries included, before the request goes out', async () => {
    // Prepare
    let taken = 0;
    const client = paced(
      new RDSClient({
        region: 'eu-west-1',
        endpoint,
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        retryMode: 'adaptive',
        maxAttempts: 3,
      }),
      {
        take: async () => {
          taken++;
        },
      },
    );
    // Act
    const out = await client.send(new DescribeDBInstancesCommand({}));
    // Assert: throttled once, then answered: two attempts, two tokens.
    expect(out.DBInstances).toEqual([]);
    expect(requests).toBe(2);
    expect(taken).toBe(2);
  });

  it('are what the factory builds for RDS and ElastiCache', () => {
    // Act
    const names = [rdsClient('eu-west-1'), elastiCacheClient('eu-west-1')].map((c) =>
      c.middlewareStack.identify().join(' '),
    );
    // Assert
    for (const n of names) expect(n).toMatch(/stewardPace/);
  });
});
