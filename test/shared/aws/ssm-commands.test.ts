import { PutObjectTaggingCommand, S3Client } from '@aws-sdk/client-s3';
import {
  GetCommandInvocationCommand,
  InvocationDoesNotExist,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  abortableSleep,
  DELIVERY_TIMEOUT_SECONDS,
  s3DumpTagger,
  ssmStepRunner,
  stepWaitSeconds,
} from '../../../shared/aws/ssm-commands.js';
import { type StepRequest, takeConsistent } from '../../../shared/backup/consistency.js';
import { AwsCallError } from '../../../shared/errors.js';

const ssm = mockClient(SSMClient);
const s3 = mockClient(S3Client);
const meta = { $metadata: {} };
const DOC = 'steward-prod-consistency';
const PRE: StepRequest = {
  instanceId: 'i-0abc1234def567890',
  phase: 'pre',
  command: 'fsfreeze -f /data',
  runId: 'steward-i-0abc1234def567890-202601150300-sched',
  timeoutSeconds: 10,
  watchdog: { seconds: 60, postCommand: 'fsfreeze -u /data' },
};

/** A runner on a fake clock: each sleep advances it; no real waiting. */
const runner = () => {
  let clock = 0;
  const slept: number[] = [];
  const r = ssmStepRunner(new SSMClient({ region: 'eu-west-1' }), DOC, {
    now: () => clock,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
  });
  return { r, slept };
};

beforeEach(() => {
  ssm.reset();
  s3.reset();
  ssm.on(SendCommandCommand).resolves({ ...meta, Command: { CommandId: 'cmd-1' } });
});

describe('ssmStepRunner', () => {
  it("sends steward's document with the step's parameters, each value exactly as configured", async () => {
    // Prepare
    ssm.on(GetCommandInvocationCommand).resolves({ ...meta, Status: 'Success' });
    // Act
    await runner().r.run(PRE);
    // Assert
    expect(ssm).toReceiveCommandWith(SendCommandCommand, {
      DocumentName: DOC,
      InstanceIds: ['i-0abc1234def567890'],
      TimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
      Parameters: {
        Phase: ['pre'],
        Command: ['fsfreeze -f /data'],
        RunId: ['steward-i-0abc1234def567890-202601150300-sched'],
        ExecutionTimeout: ['10'],
        WatchdogSeconds: ['60'],
        PostCommand: ['fsfreeze -u /data'],
      },
    });
  });

  it('polls until the invocation ends; "does not exist yet" right after sending is not an error', async () => {
    // Prepare
    ssm
      .on(GetCommandInvocationCommand)
      .rejectsOnce(new InvocationDoesNotExist({ message: 'not yet', $metadata: {} }))
      .resolvesOnce({ ...meta, Status: 'Pending' })
      .resolvesOnce({ ...meta, Status: 'InProgress' })
      .resolves({ ...meta, Status: 'Success', StandardOutputContent: 'frozen\n' });
    // Act
    const r = await runner().r.run(PRE);
    // Assert
    expect(r).toEqual({ status: 'success', output: 'frozen' });
    expect(ssm).toReceiveCommandTimes(GetCommandInvocationCommand, 4);
    expect(ssm).toReceiveCommandWith(GetCommandInvocationCommand, {
      CommandId: 'cmd-1',
      InstanceId: 'i-0abc1234def567890',
    });
  });

  it.each([
    ['Failed', 'Failed', 'failed'],
    ['TimedOut', 'Execution Timed Out', 'timed-out'],
    ['TimedOut', 'Delivery Timed Out', 'undelivered'],
    ['Cancelled', 'Cancelled', 'cancelled'],
  ])('maps %s (%s) to %s, with the end of stderr in the detail', async (Status, StatusDetails, status) => {
    // Prepare
    ssm.on(GetCommandInvocationCommand).resolves({
      ...meta,
      Status: Status as 'Failed',
      StatusDetails,
      StandardErrorContent: 'fsfreeze: /data: not a mount point\n',
    });
    // Act
    const r = await runner().r.run(PRE);
    // Assert
    expect(r).toEqual({ status, detail: `${StatusDetails}: fsfreeze: /data: not a mount point` });
  });

  it('gives up after delivery + execution timeout + slack, never polling forever', async () => {
    // Prepare
    ssm.on(GetCommandInvocationCommand).resolves({ ...meta, Status: 'InProgress' });
    const { r, slept } = runner();
    // Act
    const result = await r.run(PRE);
    // Assert
    expect(result).toMatchObject({
      status: 'timed-out',
      detail: expect.stringMatching(/no end state within 55 s/),
    });
    const waited = slept.reduce((a, b) => a + b, 0);
    expect(waited).toBeGreaterThanOrEqual(stepWaitSeconds(10) * 1000);
    expect(waited).toBeLessThan(stepWaitSeconds(10) * 1000 + 5000);
  });

  it('an instance Run Command cannot reach is an AwsCallError naming the instance (the engine then thaws)', async () => {
    // Prepare
    ssm
      .on(SendCommandCommand)
      .rejects(Object.assign(new Error('Instances not in a valid state'), { name: 'InvalidInstanceId' }));
    // Act + Assert
    await expect(runner().r.run(PRE)).rejects.toThrow(AwsCallError);
    await expect(runner().r.run(PRE)).rejects.toThrow(/i-0abc1234def567890/);
  });
});

describe('s3DumpTagger', () => {
  it('tags the dump object with the tags it is given, sorted', async () => {
    // Prepare
    s3.on(PutObjectTaggingCommand).resolves(meta);
    // Act
    await s3DumpTagger(new S3Client({ region: 'eu-west-1' })).tag('team-dumps', 'steward/daily/i-1/x.dump', {
      'steward:policy': 'daily',
      'steward:managed': 'true',
    });
    // Assert
    expect(s3).toReceiveCommandWith(PutObjectTaggingCommand, {
      Bucket: 'team-dumps',
      Key: 'steward/daily/i-1/x.dump',
      Tagging: {
        TagSet: [
          { Key: 'steward:managed', Value: 'true' },
          { Key: 'steward:policy', Value: 'daily' },
        ],
      },
    });
  });
});

describe('abortableSleep', () => {
  it('never resolves once aborted, and leaves no timer behind', async () => {
    // Prepare
    const stop = new AbortController();
    let resolved = false;
    void abortableSleep(1, stop.signal).then(() => (resolved = true));
    // Act
    stop.abort();
    await new Promise((r) => setTimeout(r, 5));
    // Assert
    expect(resolved).toBe(false);
  });
});

describe('takeConsistent over Run Command and S3 (the shipped adapters, SDK mocked)', () => {
  it('dumps, freezes, snapshots, thaws: the exact commands of the config reach SendCommand, the dump is tagged', async () => {
    // Prepare
    ssm.on(GetCommandInvocationCommand).resolves({ ...meta, Status: 'Success' });
    s3.on(PutObjectTaggingCommand).resolves(meta);
    let clock = Date.parse('2026-01-15T03:00:05Z');
    const deps = {
      runner: ssmStepRunner(new SSMClient({ region: 'eu-west-1' }), DOC, {
        now: () => clock,
        sleep: async (ms: number) => void (clock += ms),
      }),
      dumps: s3DumpTagger(new S3Client({ region: 'eu-west-1' })),
      now: () => new Date(clock),
      sleep: abortableSleep,
    };
    const settings = {
      pre: "mongosh --quiet --eval 'db.fsyncLock()'",
      post: "mongosh --quiet --eval 'db.fsyncUnlock()'",
      timeoutSeconds: 15,
      maxFreezeSeconds: 60,
      onPreFailure: 'crash-consistent' as const,
      dump: {
        command: 'mongodump --archive --gzip',
        bucket: 'team-dumps',
        prefix: 'steward/',
        timeoutSeconds: 300,
      },
    };
    // Act
    const r = await takeConsistent(
      {
        instanceId: 'i-0abc1234def567890',
        policy: 'mongo',
        setId: 'steward-i-0abc1234def567890-202601150300-sched',
        createdBy: 'backup',
      },
      settings,
      deps,
      async () => 'snap-set',
    );
    // Assert
    expect(r).toMatchObject({ consistency: 'application', thawed: true, dump: { status: 'done' } });
    const sent = ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input.Parameters);
    expect(sent.map((p) => [p!.Phase![0], p!.Command![0]])).toEqual([
      ['dump', 'mongodump --archive --gzip'],
      ['pre', "mongosh --quiet --eval 'db.fsyncLock()'"],
      ['post', "mongosh --quiet --eval 'db.fsyncUnlock()'"],
    ]);
    expect(sent[0]!.ObjectUri).toEqual([
      's3://team-dumps/steward/mongo/i-0abc1234def567890/steward-i-0abc1234def567890-202601150300-sched.dump',
    ]);
    expect(s3).toReceiveCommandWith(PutObjectTaggingCommand, {
      Bucket: 'team-dumps',
      Key: 'steward/mongo/i-0abc1234def567890/steward-i-0abc1234def567890-202601150300-sched.dump',
    });
  });
});
