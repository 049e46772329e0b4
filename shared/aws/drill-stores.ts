import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ParkedToken, ReportStore, TokenStore } from '../drill/ports.js';
import type { DrillState } from '../drill/state.js';
import { s3ConsoleUrl } from '../notify/run-report.js';
import { call } from './call.js';
import { s3Objects } from './objects.js';

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
    // The state as one JSON string: no marshalling surprises (undefined, nested empties), one attribute.
    const Item = { pk: tokenKey(targetId), token, state: JSON.stringify(state), ttl };
    await call('PutItem', `${table} ${tokenKey(targetId)}`, () =>
      doc.send(new PutCommand({ TableName: table, Item })),
    );
  },
  take: async (targetId): Promise<ParkedToken | undefined> => {
    // Delete-and-return is atomic: of two concurrent events only one gets the token.
    const item = (
      await call('DeleteItem', `${table} ${tokenKey(targetId)}`, () =>
        doc.send(
          new DeleteCommand({ TableName: table, Key: { pk: tokenKey(targetId) }, ReturnValues: 'ALL_OLD' }),
        ),
      )
    ).Attributes;
    if (!item || typeof item.token !== 'string' || typeof item.state !== 'string') return undefined;
    if (typeof item.ttl === 'number' && item.ttl * 1000 <= now().getTime()) return undefined;
    return { token: item.token, state: JSON.parse(item.state) as DrillState };
  },
});

/** ReportStore over S3: JSON objects encrypted with the given KMS key or else SSE-S3, linked in `region`. */
export const s3ReportStore = (
  s3: S3Client,
  bucket: string,
  region: string,
  kmsKeyArn?: string,
): ReportStore => {
  const objects = s3Objects(s3, bucket, kmsKeyArn);
  return {
    put: async (key, body) => {
      await objects.put(key, body);
      return { uri: `s3://${bucket}/${key}`, consoleUrl: s3ConsoleUrl(bucket, region, key) };
    },
    get: (key) => objects.get(key),
  };
};
