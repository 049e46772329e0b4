import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeDBInstancesCommand, ModifyDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import alarmEvent from '../../../events/scaling/alarm-state-change.json' with { type: 'json' };
import scaleInEvent from '../../../events/scaling/scale-in-check.json' with { type: 'json' };
import { run, wire } from '../../../functions/scaling/handler.js';
import { parseConfig } from '../../../shared/config/schema.js';
import { PartialFailureError } from '../../../shared/errors.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';
import { scaleInEstate, scalingConfigInput } from '../../shared/scaling/fixtures.js';
import { answerAlarms, answerItems, mockOrdersDb } from '../../support/scaling-wiring.js';

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
    const { rds, doc } = mockOrdersDb();
    mocks.push(rds, doc);
    rds.on(ModifyDBInstanceCommand).rejects(Object.assign(new Error('throttled'), { name: 'Throttling' }));
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
    // The seen event and the cooldown: one consistent read of both keys, no GetItem.
    expect(doc).toHaveReceivedCommandTimes(BatchGetCommand, 1);
    expect(doc).toHaveReceivedCommandWith(BatchGetCommand, {
      RequestItems: {
        [TABLE]: {
          Keys: [
            { pk: expect.stringMatching(/^scaling-seen#orders-db-cpu-high#/) },
            { pk: 'scaling-cooldown#rds-instance:orders-db' },
          ],
          ConsistentRead: true,
        },
      },
    });
    expect(doc).not.toHaveReceivedCommand(GetCommand);
  });

  it('writes the full report of a scale-in check over many databases under runs/scaling/ of the report bucket', async () => {
    // Prepare: 8 databases whose alarms have been OK since 11:00, each one class above its floor.
    const rds = mockClient(RDSClient);
    const doc = mockClient(DynamoDBDocumentClient);
    const s3 = mockClient(S3Client);
    const cw = mockClient(CloudWatchClient);
    mocks.push(rds, doc, s3, cw);
    answerAlarms(cw);
    rds.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => ({
      DBInstances: [
        {
          DBInstanceIdentifier: input.DBInstanceIdentifier,
          DBInstanceArn: `arn:aws:rds:eu-west-1:111122223333:db:${input.DBInstanceIdentifier}`,
          DBInstanceStatus: 'available',
          DBInstanceClass: 'db.r6g.xlarge',
          Engine: 'postgres',
        },
      ],
    }));
    rds.on(ModifyDBInstanceCommand).resolves({});
    answerItems(doc, (pk) =>
      pk.startsWith('scaling-alarm#') ? { pk, state: 'OK', since: '2026-01-15T11:00:00.000Z' } : undefined,
    );
    doc.on(PutCommand).resolves({});
    doc.on(UpdateCommand).resolves({});
    s3.on(PutObjectCommand).resolves({});
    const notifier = memoryNotifier();
    const deps = wire(
      {
        config: parseConfig(scaleInEstate(8), 'test'),
        dryRun: false,
        notifier,
        now: () => new Date('2026-01-15T12:45:00Z'),
      },
      { STATE_TABLE: TABLE, REPORT_BUCKET: 'steward-prod-reports' },
    );

    // Act
    await run(structuredClone(scaleInEvent), deps);

    // Assert
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'steward-prod-reports',
      Key: expect.stringMatching(/^runs\/scaling\/2026-01-15\/20260115T124500Z-scale-in-check\.json$/),
    });
    expect(notifier.sent.map((n) => n.subject)).toEqual(['scale-in check: 8 acted of 8 decisions']);
    // Each step back confirmed by CloudWatch first: the 8 alarms in one DescribeAlarms.
    expect(cw).toHaveReceivedCommandTimes(DescribeAlarmsCommand, 1);
    expect(cw.commandCalls(DescribeAlarmsCommand)[0]!.args[0].input.AlarmNames).toHaveLength(8);
  });
});
