import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import { run, wire } from '../../../functions/scaling/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { PartialFailureError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { scalingConfigInput } from '../../shared/scaling/fixtures.js';

// Scaling through its real adapters (handler wire(), SDK clients mocked): the state table keys, the
// release of a failed event, and the class change exactly as the code sends them. The IAM suite
// simulates these.
const TABLE = 'steward-prod-state';
// The prod seed rules plus one of every other action: orders-db-cpu climbs large → xlarge → 2xlarge.
const config = parseConfig(scalingConfigInput, 'test');

const mocks: { restore(): void }[] = [];
afterEach(() => mocks.splice(0).forEach((m) => m.restore()));

describe('scaling through its real adapters', () => {
  it('claims the alarm transition under a scaling- key, and releases it when the change fails', async () => {
    // Prepare
    const rds = mockClient(RDSClient);
    const doc = mockClient(DynamoDBDocumentClient);
    mocks.push(rds, doc);
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
    rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error('throttled'), { name: 'Throttling' }));
    doc.on(GetCommand).resolves({});
    doc.on(PutCommand).resolves({});
    doc.on(DeleteCommand).resolves({});
    const deps = wire(
      { config, dryRun: false, notifier: memoryNotifier(), now: () => new Date('2026-01-15T10:21:00Z') },
      { STATE_TABLE: TABLE },
    );

    // Act
    await expect(run(structuredClone(alarmEvent), deps)).rejects.toThrow(PartialFailureError);

    // Assert
    expect(rds).toHaveReceivedCommandWith(ModifyDBInstanceCommand, {
      DBInstanceIdentifier: 'orders-db',
      DBInstanceClass: 'db.r6g.xlarge',
      ApplyImmediately: true,
    });
    expect(doc).toHaveReceivedCommandWith(DeleteCommand, {
      TableName: TABLE,
      Key: { pk: expect.stringMatching(/^scaling-seen#orders-db-cpu-high#/) },
    });
  });
});
