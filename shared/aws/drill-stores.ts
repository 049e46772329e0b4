import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ParkedToken, ReportStore, TokenStore } from '../drill/ports.js';
import type { DrillState } from '../drill/state.js';
import { AwsCallError, errorName } from '../errors.js';

/** Partition key of a parked task token. */
export const tokenKey = (targetId: string): string => `drill-token#${targetId}`;

/**
 * TokenStore over a DynamoDB table with partition key `pk` (string) and TTL attribute `ttl`.
 * DynamoDB deletes expired items lazily (up to days later), so `take` checks `ttl` itself.
 */
export const dynamoTokenStore = (
  doc: DynamoDBDocumentClient,
  table: string,
  now: () => Date = () => new Date(),
): TokenStore => ({
  put: async (targetId, token, ttlSeconds, state) => {
    const ttl = Math.floor(now().getTime() / 1000) + ttlSeconds;
    try {
      // The state as one JSON string: no marshalling surprises (undefined, nested empties), one attribute.
      const Item = { pk: tokenKey(targetId), token, state: JSON.stringify(state), ttl };
      await doc.send(new PutCommand({ TableName: table, Item }));
    } catch (e) {
      throw new AwsCallError('PutItem', `${table} ${tokenKey(targetId)}`, e);
    }
  },
  take: async (targetId): Promise<ParkedToken | undefined> => {
    let item: Record<string, unknown> | undefined;
    try {
      // Delete-and-return is atomic: of two concurrent events only one gets the token.
      const r = await doc.send(
        new DeleteCommand({ TableName: table, Key: { pk: tokenKey(targetId) }, ReturnValues: 'ALL_OLD' }),
      );
      item = r.Attributes;
    } catch (e) {
      throw new AwsCallError('DeleteItem', `${table} ${tokenKey(targetId)}`, e);
    }
    if (!item || typeof item.token !== 'string' || typeof item.state !== 'string') return undefined;
    if (typeof item.ttl === 'number' && item.ttl * 1000 <= now().getTime()) return undefined;
    return { token: item.token, state: JSON.parse(item.state) as DrillState };
  },
});

/** ReportStore over S3: JSON objects, encrypted with the given KMS key or else SSE-S3. */
export const s3ReportStore = (s3: S3Client, bucket: string, kmsKeyArn?: string): ReportStore => ({
  put: async (key, body) => {
    try {
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          ...(kmsKeyArn
            ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKeyArn }
            : { ServerSideEncryption: 'AES256' }),
        }),
      );
    } catch (e) {
      throw new AwsCallError('PutObject', `s3://${bucket}/${key}`, e);
    }
  },
  get: async (key) => {
    try {
      const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await r.Body?.transformToString('utf8');
    } catch (e) {
      if (errorName(e) === 'NoSuchKey') return undefined;
      throw new AwsCallError('GetObject', `s3://${bucket}/${key}`, e);
    }
  },
});
