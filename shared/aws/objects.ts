import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { attempt, call } from './call.js';

/**
 * Put and get of one bucket's objects, for the adapters over the report bucket (drill reports, history,
 * retention records). Each adapter wraps these in its own functions, so a call is attributed to the
 * adapter (and the function role) that made it.
 */
export const s3Objects = (s3: S3Client, bucket: string, kmsKeyArn?: string) => ({
  /** Write an object: JSON unless told otherwise, encrypted with the KMS key or else SSE-S3. */
  put: async (key: string, body: string, contentType: string = 'application/json'): Promise<void> => {
    await call('PutObject', `s3://${bucket}/${key}`, () =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          ...(kmsKeyArn
            ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyArn }
            : { ServerSideEncryption: 'AES256' }),
        }),
      ),
    );
  },
  /** Read an object as text; undefined when there is none. */
  get: async (key: string): Promise<string | undefined> => {
    const r = await attempt(
      'GetObject',
      `s3://${bucket}/${key}`,
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      { gone: ['NoSuchKey'] },
    );
    return r.ok ? await r.value.Body?.transformToString('utf8') : undefined;
  },
});
