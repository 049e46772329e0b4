import {
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RebootDBInstanceCommand,
} from '@aws-sdk/client-rds';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import approveEvent from '../../events/scaling/approve.json' with { type: 'json' };
import { main } from '../../cli/main.js';
import type { Approval } from '../../shared/scaling/model.js';
import { onExample } from '../support/examples.js';

const rds = mockClient(RDSClient);
const ddb = mockClient(DynamoDBDocumentClient);
const meta = { $metadata: {} };
const ordersDb = {
  DBInstanceIdentifier: 'orders-db',
  DBInstanceStatus: 'available',
  Engine: 'postgres',
  DBInstanceClass: 'db.r6g.large',
  MultiAZ: true,
  PendingModifiedValues: {},
};

const cli = async (...argv: string[]) => {
  const lines: string[] = [];
  const code = await main(argv, (s) => lines.push(s));
  return { code, out: lines.join('\n') };
};

beforeEach(() => {
  rds.reset();
  ddb.reset();
  vi.spyOn(console, 'error').mockImplementation(() => {});
  rds.on(DescribeDBInstancesCommand).resolves({ ...meta, DBInstances: [ordersDb] });
  ddb.on(GetCommand).resolves(meta);
  ddb.on(BatchGetCommand).resolves(meta);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('steward scale --alarm <name> --dry-run', () => {
  const dryRunCpu = ['scale', '--alarm', 'orders-db-cpu-high', ...onExample('prod'), '--dry-run'];

  it('shows what the rule would do now, and why, changing and writing nothing', async () => {
    // Act
    const { code, out } = await cli(...dryRunCpu);

    // Assert
    expect(code).toBe(0);
    expect(out).toContain('scaling (dry run: nothing changed)');
    expect(out).toMatch(
      /PLANNED\s+orders-db-cpu\s+orders-db-cpu-high\s+orders-db\s+auto\s+modify orders-db class db\.r6g\.large → db\.r6g\.xlarge/,
    );
    expect(ddb).toReceiveCommandWith(BatchGetCommand, {
      RequestItems: {
        'steward-prod-state': {
          Keys: expect.arrayContaining([{ pk: 'scaling-cooldown#rds-instance:orders-db' }]),
          ConsistentRead: true,
        },
      },
    });
    expect(rds).not.toReceiveCommand(ModifyDBInstanceCommand);
    expect(ddb).not.toReceiveCommand(PutCommand);
    expect(ddb).not.toReceiveCommand(UpdateCommand);
  });

  it('says why when the guardrails refuse (cooldown)', async () => {
    // Prepare
    ddb.on(BatchGetCommand).resolves({
      ...meta,
      Responses: {
        'steward-prod-state': [
          {
            pk: 'scaling-cooldown#rds-instance:orders-db',
            lastActedAt: '2026-01-01T00:00:00.000Z',
            until: '2999-01-01T00:00:00.000Z',
          },
        ],
      },
    });

    // Act
    const { code, out } = await cli(...dryRunCpu, '--json');

    // Assert
    expect(code).toBe(0);
    expect(JSON.parse(out).decisions[0].decision).toMatchObject({ verdict: 'skip', reason: 'cooldown' });
  });

  it.each<[string[], RegExp]>([
    [['scale', ...onExample('prod')], /scale needs --alarm/],
    [
      ['scale', '--alarm', 'nobody-listens', ...onExample('prod'), '--dry-run'],
      /No scaling rule for alarm "nobody-listens"/,
    ],
    [
      ['scale', '--alarm', 'orders-db-cpu-hgh', ...onExample('prod'), '--dry-run'],
      /No scaling rule for alarm "orders-db-cpu-hgh": did you mean "orders-db-cpu-high"\?/,
    ],
    [
      ['scale', '--alarm', 'orders-db-cpu-high', ...onExample('dev'), '--dry-run'],
      /scaling is not enabled for stage dev/,
    ],
    [['approve', ...onExample('prod')], /approve needs the approval id/],
  ])('exits 2 on %j', async (argv, message) => {
    // Prepare
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});

    // Act
    const { code } = await cli(...argv);

    // Assert
    expect(code).toBe(2);
    expect(errors.mock.calls.flat().join('\n')).toMatch(message);
    expect(rds.calls().filter((c) => !(c.args[0] instanceof DescribeDBInstancesCommand))).toEqual([]);
  });
});

describe('steward approve <id>', () => {
  it('executes the stored change once: pending → executing (conditional), the change, then executed', async () => {
    // Prepare
    const approval: Approval = {
      id: approveEvent.id,
      status: 'pending',
      rule: 'orders-db-failover',
      alarmName: 'orders-db-unhealthy',
      at: '2026-01-15T10:45:00.000Z',
      direction: 'out',
      change: { type: 'rds.rebootWithFailover', dbInstanceId: 'orders-db' },
      createdAt: '2026-01-15T10:45:02.000Z',
      expiresAt: '2999-01-01T00:00:00.000Z',
    };
    ddb.on(GetCommand, { Key: { pk: `scaling-approval#${approval.id}` } }).resolves({
      ...meta,
      Item: { pk: `scaling-approval#${approval.id}`, status: 'pending', approval: JSON.stringify(approval) },
    });
    ddb.on(UpdateCommand).resolves(meta).on(PutCommand).resolves(meta);
    rds.on(RebootDBInstanceCommand).resolves(meta);

    // Act
    const { code, out } = await cli('approve', approval.id, ...onExample('prod'));

    // Assert
    expect(code).toBe(0);
    expect(out).toMatch(/DONE\s+orders-db-failover/);
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      ConditionExpression: '#status = :pending OR (#status = :executing AND claimedAt < :stale)',
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, { ConditionExpression: '#status = :executing' });
    expect(rds).toReceiveCommandTimes(RebootDBInstanceCommand, 1);
    expect(rds).toReceiveCommandWith(RebootDBInstanceCommand, {
      DBInstanceIdentifier: 'orders-db',
      ForceFailover: true,
    });
  });
});
