import type { S3Client } from '@aws-sdk/client-s3';
import { type RunReports, s3ConsoleUrl } from '../notify/run-report.js';
import { s3Objects } from './objects.js';

/** RunReports over the stage's report bucket: one JSON object per run, SSE-S3. */
export const s3RunReports = (s3: S3Client, bucket: string, region: string): RunReports => {
  const objects = s3Objects(s3, bucket);
  return {
    put: async (key, body) => {
      await objects.put(key, body);
      return { uri: `s3://${bucket}/${key}`, consoleUrl: s3ConsoleUrl(bucket, region, key) };
    },
  };
};
