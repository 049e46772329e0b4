import type { S3Client } from '@aws-sdk/client-s3';
import type { RetentionRecorder } from '../retention/ports.js';
import { retentionRecordKey } from '../retention/record.js';
import { s3Objects } from './objects.js';

/**
 * RetentionRecorder over the report bucket: one JSON object per run that deleted something. A fan-out
 * child's (`scope`: its account and region) carries the scope in its key, so children of one cycle never
 * overwrite each other's record.
 */
export const s3RetentionRecorder = (s3: S3Client, bucket: string, scope?: string): RetentionRecorder => {
  const objects = s3Objects(s3, bucket);
  return {
    record: async (r) => {
      const key = scope
        ? retentionRecordKey(r.at).replace(/\.json$/, `-${scope}.json`)
        : retentionRecordKey(r.at);
      await objects.put(key, JSON.stringify(r));
      return `s3://${bucket}/${key}`;
    },
  };
};
