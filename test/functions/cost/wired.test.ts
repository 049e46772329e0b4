import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { run, wire } from '../../../functions/cost/handler.js';
import { CostEnv } from '../../../shared/cost/env.js';
import { PartialFailureError } from '../../../shared/errors.js';
import { snsNotifier } from '../../../shared/aws/sns-notifier.js';
import { costEvents, costTestConfig, mockCostExplorer, NOW } from '../../fakes/cost-fixtures.js';

// The cost function through its real adapters (handler wire(), SDK clients mocked): the alert ledger's
// keys and conditional writes exactly as the code sends them. The IAM suite simulates these.
const TABLE = 'steward-staging-state';
const topics = {
  critical: 'arn:aws:sns:eu-west-1:111122223333:steward-staging-critical',
  warning: 'arn:aws:sns:eu-west-1:111122223333:steward-staging-warning',
  info: 'arn:aws:sns:eu-west-1:111122223333:steward-staging-info',
};

const mocks: { restore(): void }[] = [];
afterEach(() => mocks.splice(0).forEach((m) => m.restore()));

describe('cost alerts through their real adapters', () => {
  it('reads and claims alerts in the state table under cost- keys, and releases the claims when publishing fails', async () => {
    // Prepare
    const ce = mockCostExplorer();
    const doc = mockClient(DynamoDBDocumentClient);
    const sns = mockClient(SNSClient);
    mocks.push(ce, doc, sns);
    doc.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [] } });
    doc.on(PutCommand).resolves({});
    doc.on(UpdateCommand).resolves({});
    doc.on(DeleteCommand).resolves({});
    doc.on(QueryCommand).resolves({ Items: [] });
    sns.on(PublishCommand).rejectsOnce(new Error('KMS key disabled')).resolves({ MessageId: '1' });
    const deps = wire(
      {
        config: costTestConfig(),
        dryRun: false,
        notifier: snsNotifier(new SNSClient({ region: 'eu-west-1' }), topics, 'staging'),
        now: () => NOW,
      },
      CostEnv.parse({
        STAGE: 'staging',
        CRITICAL_TOPIC_ARN: topics.critical,
        WARNING_TOPIC_ARN: topics.warning,
        INFO_TOPIC_ARN: topics.info,
        STATE_TABLE: TABLE,
      }),
    );

    // Act
    await run(costEvents().dryRun, deps);
    await expect(run(costEvents().scheduled, deps)).rejects.toThrow(PartialFailureError);
    await run(costEvents().scheduled, deps);

    // Assert
    const put = doc.commandCalls(PutCommand).map((c) => String(c.args[0].input.Item!.pk));
    const updates = doc.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    // A failed publish marks the claims failed (still owed, re-sent by a later run); a sent one confirms.
    const released = updates
      .filter((u) => u.UpdateExpression === 'SET #status = :failed')
      .map((u) => String(u.Key!.pk));
    const sent = updates
      .filter((u) => u.UpdateExpression?.startsWith('SET #status = :sent'))
      .map((u) => String(u.Key!.pk));
    expect(put.length).toBeGreaterThan(0);
    expect(released.length).toBeGreaterThan(0);
    expect(sent.length).toBeGreaterThan(0);
    expect([...put, ...released, ...sent].every((k) => k.startsWith('cost-'))).toBe(true);
    // Owed alerts are found through the outbox index only.
    expect(doc.commandCalls(QueryCommand).map((c) => c.args[0].input.IndexName)).toEqual([
      'outbox',
      'outbox',
    ]);
    // A dry run reads which alerts were sent already.
    const read = doc
      .commandCalls(BatchGetCommand)
      .flatMap((c) => (c.args[0].input.RequestItems![TABLE]!.Keys ?? []).map((k) => String(k.pk)));
    expect(read.length).toBeGreaterThan(0);
    expect(read.every((k) => k.startsWith('cost-'))).toBe(true);
  });
});
