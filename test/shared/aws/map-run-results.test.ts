import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { s3MapRunResults } from '../../../shared/aws/map-run-results.js';
import { runFanOutSummary } from '../../../shared/fleet/summary.js';
import { memoryNotifier } from '../../../shared/notify/notifier.js';

// The export's shape (AWS Step Functions Developer Guide, "ResultWriter (Map)"): manifest.json lists the
// result files by status; each file is a JSON array of child executions, Input and Output as JSON strings.
const s3 = mockClient(S3Client);
const DIR = 'fleet/retention/0f6d1a2b-run/';
const body = (o: unknown) => ({ Body: { transformToString: async () => JSON.stringify(o) } as never });
const child = (account: string, status: string) => ({
  ExecutionArn: `arn:aws:states:eu-west-1:111111111111:execution:steward-prod-retention-fleet/retentionTargets:${account}`,
  Input: JSON.stringify({
    event: { action: 'retention' },
    item: { target: { index: 1, account, region: 'eu-west-1' } },
  }),
  Status: status,
  ...(status === 'FAILED' ? { Error: 'TargetFailedError', Cause: '{}' } : { Output: '{}' }),
});

beforeEach(() => s3.reset());

describe('s3MapRunResults', () => {
  it('reads the manifest, then every result file it lists, by status', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: `${DIR}manifest.json` }).resolves(
      body({
        DestinationBucket: 'reports',
        MapRunArn: 'arn:aws:states:eu-west-1:111111111111:mapRun:x/retentionTargets:0f6d1a2b-run',
        ResultFiles: {
          FAILED: [{ Key: `${DIR}FAILED_0.json`, Size: 1 }],
          PENDING: [],
          SUCCEEDED: [
            { Key: `${DIR}SUCCEEDED_0.json`, Size: 1 },
            { Key: `${DIR}SUCCEEDED_1.json`, Size: 1 },
          ],
        },
      }),
    );
    s3.on(GetObjectCommand, { Key: `${DIR}SUCCEEDED_0.json` }).resolves(
      body([child('222222222222', 'SUCCEEDED')]),
    );
    s3.on(GetObjectCommand, { Key: `${DIR}SUCCEEDED_1.json` }).resolves(
      body([child('333333333333', 'SUCCEEDED')]),
    );
    s3.on(GetObjectCommand, { Key: `${DIR}FAILED_0.json` }).resolves(body([child('444444444444', 'FAILED')]));
    // Act
    const r = await s3MapRunResults(new S3Client({ region: 'eu-west-1' })).read(
      'reports',
      `${DIR}manifest.json`,
    );
    // Assert
    expect(r.succeeded.map((c) => c.ExecutionArn?.split(':').pop())).toEqual([
      '222222222222',
      '333333333333',
    ]);
    expect(r.failed).toEqual([child('444444444444', 'FAILED')]);
    expect(r.pending).toEqual([]);
    expect(s3).toHaveReceivedCommandWith(GetObjectCommand, { Bucket: 'reports', Key: `${DIR}manifest.json` });
  });

  it('says which object is missing', async () => {
    // Prepare
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }),
    );
    // Act / Assert
    await expect(
      s3MapRunResults(new S3Client({ region: 'eu-west-1' })).read('reports', `${DIR}manifest.json`),
    ).rejects.toThrow(`s3://reports/${DIR}manifest.json is missing`);
  });
  it("is what the fan-out's summary reads: every child succeeded, nothing more is sent", async () => {
    // Prepare
    s3.on(GetObjectCommand, { Key: `${DIR}manifest.json` }).resolves(
      body({ ResultFiles: { SUCCEEDED: [{ Key: `${DIR}SUCCEEDED_0.json` }], FAILED: [], PENDING: [] } }),
    );
    s3.on(GetObjectCommand, { Key: `${DIR}SUCCEEDED_0.json` }).resolves(
      body([child('222222222222', 'SUCCEEDED')]),
    );
    const notifier = memoryNotifier();
    // Act
    const summary = await runFanOutSummary(
      {
        action: 'fan-out-summary',
        capability: 'retention',
        targets: 1,
        results: { ResultWriterDetails: { Bucket: 'reports', Key: `${DIR}manifest.json` } },
      },
      { notifier, results: s3MapRunResults(new S3Client({ region: 'eu-west-1' })) },
    );
    // Assert
    expect(summary.succeeded).toEqual([
      { index: 1, account: '222222222222', region: 'eu-west-1', status: 'succeeded' },
    ]);
    expect(notifier.sent).toEqual([]);
  });
});
