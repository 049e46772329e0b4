import { type CloudWatchClient, DescribeAlarmsCommand, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  type GetCommandInput,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';

// The scaling function's real wiring as its wired tests run it (test/functions/scaling/wired.test.ts and
// lazy-imports.test.ts, SDK clients mocked): what RDS and the state table answer an alarm on orders-db.

/**
 * RDS and the state table mocked for an alarm on the prod seed's orders-db (test/shared/scaling/fixtures.ts):
 * RDS describes it as an available PostgreSQL db.r6g.large; the table finds no item and takes every put.
 * The caller answers the change (ModifyDBInstance) and any other write, and restores both mocks.
 */
export const mockOrdersDb = () => {
  const rds = mockClient(RDSClient);
  const doc = mockClient(DynamoDBDocumentClient);
  rds.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      {
        DBInstanceIdentifier: 'orders-db',
        DBInstanceArn: 'arn:aws:rds:eu-west-1:111122223333:db:orders-db',
        DBInstanceStatus: 'available',
        DBInstanceClass: 'db.r6g.large',
        Engine: 'postgres',
      },
    ],
  });
  answerItems(doc, () => undefined);
  doc.on(PutCommand).resolves({});
  return { rds, doc };
};

/**
 * CloudWatch's answer to the scale-in check's DescribeAlarms: every alarm asked for OK since the start of
 * 15 January 2026 (before any test's remembered OK), unless `over` says otherwise for an alarm by name.
 */
export const answerAlarms = (
  cw: AwsClientStub<CloudWatchClient>,
  over: Record<string, Partial<MetricAlarm>> = {},
) =>
  cw.on(DescribeAlarmsCommand).callsFake((input: { AlarmNames?: string[] }) => ({
    $metadata: {},
    MetricAlarms: (input.AlarmNames ?? []).map((name) => ({
      AlarmName: name,
      StateValue: 'OK',
      StateTransitionedTimestamp: new Date('2026-01-15T00:00:00Z'),
      ...over[name],
    })),
  }));

type Item = Record<string, unknown>;

/**
 * A mocked state table's reads answered from `item(pk)`, by key: GetItem (an alarm state, an approval) and
 * BatchGetItem (a transition's seen event and cooldown, read together: shared/aws/scaling-store.ts), which
 * returns the items found under its table and leaves no key unprocessed.
 */
export const answerItems = (
  doc: AwsClientStub<DynamoDBDocumentClient>,
  item: (pk: string) => Item | undefined,
) => {
  doc.on(GetCommand).callsFake((i: GetCommandInput) => {
    const found = item(String(i.Key?.pk));
    return found ? { Item: found } : {};
  });
  doc.on(BatchGetCommand).callsFake((i: BatchGetCommandInput) => ({
    Responses: Object.fromEntries(
      Object.entries(i.RequestItems ?? {}).map(([table, r]) => [
        table,
        (r.Keys ?? []).flatMap((k) => item(String(k.pk)) ?? []),
      ]),
    ),
  }));
  return doc;
};

/** Every partition key the mocked state table was asked for, by GetItem or BatchGetItem, in order. */
export const keysRead = (doc: AwsClientStub<DynamoDBDocumentClient>): string[] =>
  doc.calls().flatMap((c) => {
    const input = c.args[0].input as GetCommandInput & BatchGetCommandInput;
    if (c.args[0] instanceof GetCommand) return [String(input.Key?.pk)];
    if (c.args[0] instanceof BatchGetCommand)
      return Object.values(input.RequestItems ?? {}).flatMap((r) => (r.Keys ?? []).map((k) => String(k.pk)));
    return [];
  });
