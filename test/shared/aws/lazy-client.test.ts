import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { DescribeDBSnapshotsCommand, paginateDescribeDBSnapshots, RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wire } from '../../../functions/cost/handler.js';
import { lazily } from '../../../shared/aws/clients/kit.js';
import { rdsClient } from '../../../shared/aws/clients/rds.js';
import { snsClient } from '../../../shared/aws/clients/sns.js';
import { CostEnv } from '../../../shared/cost/env.js';
import { wireBase } from '../../../shared/runtime.js';
import { costTestConfig } from '../../fakes/cost-fixtures.js';

// Which SDK clients were constructed, by class: the factory's clients are built when first used, so a
// function's wiring builds none and an invocation only those it sends through.
const { built, counted } = vi.hoisted(() => {
  const built: string[] = [];
  const counted = <M extends Record<string, unknown>>(m: M, name: keyof M & string): M => {
    const Base = m[name] as new (...a: unknown[]) => object;
    class Counted extends Base {
      constructor(...a: unknown[]) {
        super(...a);
        built.push(name);
      }
    }
    return { ...m, [name]: Counted };
  };
  return { built, counted };
});
vi.mock('@aws-sdk/client-sns', async (orig) => counted(await orig<Record<string, unknown>>(), 'SNSClient'));
vi.mock('@aws-sdk/client-s3', async (orig) => counted(await orig<Record<string, unknown>>(), 'S3Client'));
vi.mock('@aws-sdk/client-dynamodb', async (orig) =>
  counted(await orig<Record<string, unknown>>(), 'DynamoDBClient'),
);
vi.mock('@aws-sdk/client-cost-explorer', async (orig) =>
  counted(await orig<Record<string, unknown>>(), 'CostExplorerClient'),
);
vi.mock('@aws-sdk/client-rds', async (orig) => counted(await orig<Record<string, unknown>>(), 'RDSClient'));

const REGION = 'eu-west-1';
const topic = (s: string) => `arn:aws:sns:${REGION}:111122223333:steward-staging-${s}`;
const env = {
  CRITICAL_TOPIC_ARN: topic('critical'),
  WARNING_TOPIC_ARN: topic('warning'),
  INFO_TOPIC_ARN: topic('info'),
  STATE_TABLE: 'steward-staging-state',
  REPORT_BUCKET: 'steward-staging-reports',
};

const mocks: { restore(): void }[] = [];
afterEach(() => {
  mocks.splice(0).forEach((m) => m.restore());
  built.length = 0;
});

describe('SDK clients built on first use', () => {
  it("wires the cost function's SNS, state table, S3 and Cost Explorer clients without building one", () => {
    // Act
    const deps = wire(wireBase(env, costTestConfig()), CostEnv.parse(env));

    // Assert
    expect(deps.reports).toBeDefined();
    expect(built).toEqual([]);
  });

  it('builds a client once, at its first use, and then behaves as that client', async () => {
    // Prepare
    const sns = mockClient(SNSClient);
    mocks.push(sns);
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const client = snsClient('eu-central-1');
    expect(built).toEqual([]);

    // Act
    const first = await client.send(new PublishCommand({ TopicArn: topic('info'), Message: 'a' }));
    const second = await client.send(new PublishCommand({ TopicArn: topic('info'), Message: 'b' }));

    // Assert
    expect([first.MessageId, second.MessageId]).toEqual(['m-1', 'm-1']);
    expect(built).toEqual(['SNSClient']);
    expect(client).toBeInstanceOf(SNSClient);
    expect(await client.config.region()).toBe('eu-central-1');
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Message)).toEqual(['a', 'b']);
  });

  it("pages through an SDK paginator, which checks the client's class", async () => {
    // Prepare
    const rds = mockClient(RDSClient);
    mocks.push(rds);
    rds
      .on(DescribeDBSnapshotsCommand)
      .resolvesOnce({ DBSnapshots: [{ DBSnapshotIdentifier: 's-1' }], Marker: 'm' })
      .resolves({ DBSnapshots: [{ DBSnapshotIdentifier: 's-2' }] });

    // Act
    const ids: string[] = [];
    for await (const page of paginateDescribeDBSnapshots({ client: rdsClient('ap-south-1') }, {}))
      ids.push(...(page.DBSnapshots ?? []).map((s) => s.DBSnapshotIdentifier!));

    // Assert
    expect(ids).toEqual(['s-1', 's-2']);
    expect(built).toEqual(['RDSClient']);
  });

  it('forwards writes, deletes, key listing and an instance stub to the built client', async () => {
    // Prepare
    const make = vi.fn(() => new CostExplorerClient({ region: 'us-east-1' }));
    const client = lazily(make);
    expect(make).not.toHaveBeenCalled();

    // Act
    (client as unknown as Record<string, unknown>).extra = 1;
    const keys = Object.keys(client);
    delete (client as unknown as Record<string, unknown>).extra;
    const stub = mockClient(client);
    stub.onAnyCommand().resolves({ ok: true } as never);

    // Assert
    expect(keys).toContain('extra');
    expect('extra' in client).toBe(false);
    expect(await client.send({} as never)).toEqual({ ok: true });
    expect(make).toHaveBeenCalledTimes(1);
    expect(built).toEqual(['CostExplorerClient']);
  });
});
