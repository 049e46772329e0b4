import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

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
  doc.on(GetCommand).resolves({});
  doc.on(PutCommand).resolves({});
  return { rds, doc };
};
