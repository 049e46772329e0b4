import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { s3RetentionRecorder } from '../../../shared/aws/retention-records.js';
import type { RetentionRecord } from '../../../shared/retention/record.js';

const s3 = mockClient(S3Client);
const record = { at: '2026-11-23T04:30:00.123Z', entries: [] } as unknown as RetentionRecord;

beforeEach(() => s3.reset());

describe('s3RetentionRecorder', () => {
  it("keeps one record per run, and a fan-out child's under its own account and region", async () => {
    // Prepare
    const client = new S3Client({ region: 'eu-west-1' });
    // Act
    const hub = await s3RetentionRecorder(client, 'reports').record(record);
    const child = await s3RetentionRecorder(client, 'reports').record({
      ...record,
      account: '222222222222',
      region: 'eu-central-1',
      fleet: true,
    });
    // Assert
    expect(hub).toBe('s3://reports/runs/retention/2026/11/23/20261123T043000123Z.json');
    expect(child).toBe(
      's3://reports/runs/retention/2026/11/23/20261123T043000123Z-222222222222-eu-central-1.json',
    );
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 2);
  });
});
