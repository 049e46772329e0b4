import type { S3Client } from '@aws-sdk/client-s3';
import { type RunReports, s3ConsoleUrl } from '../notify/run-report.js';
import { s3Objects } from './objects.js';

// The factory of the client this adapter sends through, for the callers that load this module on first use:
// the client's code then loads with the adapter that uses it, never before (test/infra/bundles.test.ts).
export { s3Client } from './clients/s3.js';

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
