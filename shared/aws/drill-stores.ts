import type { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  CopyDeletion,
  CopyDeletionLedger,
  FastRestoreLedger,
  FastRestoreRecord,
  ParkedToken,
  ReportStore,
  SentAlerts,
  TokenStore,
  VaultShare,
  VaultShareLedger,
} from '../drill/ports.js';
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
  waiting: async (targetId) => {
    const item = (
      await call('GetItem', `${table} ${tokenKey(targetId)}`, () =>
        doc.send(
          new GetCommand({
            TableName: table,
            Key: { pk: tokenKey(targetId) },
            ProjectionExpression: 'pk, #ttl',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ConsistentRead: true,
          }),
        ),
      )
    ).Item;
    return item !== undefined && (typeof item.ttl !== 'number' || item.ttl * 1000 > now().getTime());
  },
});

/** Prefix of the records of drill alerts sent: one item per drill execution alerted as ended outside the drill. */
export const DRILL_ALERTS_PREFIX = 'drill-alert#';

/**
 * SentAlerts over the stage's state table (`pk` string key, TTL attribute `ttl`): an item per alert sent.
 * DynamoDB deletes expired items lazily (up to days later), so `sent` checks `ttl` itself.
 */
export const dynamoSentAlerts = (
  doc: DynamoDBDocumentClient,
  table: string,
  now: () => Date = () => new Date(),
): SentAlerts => ({
  sent: async (key) => {
    const pk = `${DRILL_ALERTS_PREFIX}${key}`;
    const item = (
      await call('GetItem', `${table} ${pk}`, () =>
        doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true })),
      )
    ).Item;
    return typeof item?.ttl === 'number' && item.ttl * 1000 > now().getTime();
  },
  record: async (key, ttlSeconds) => {
    const pk = `${DRILL_ALERTS_PREFIX}${key}`;
    const at = now();
    const Item = { pk, sentAt: at.toISOString(), ttl: Math.floor(at.getTime() / 1000) + ttlSeconds };
    await call('PutItem', `${table} ${pk}`, () => doc.send(new PutCommand({ TableName: table, Item })));
  },
});

/** Prefix of the items recording drills' shares of vault copies (one item per vault account and region). */
export const VAULT_SHARES_PREFIX = 'drill-vault-shares#';

/** Partition key of the item holding the recorded shares of one vault account and region. */
export const vaultSharesKey = (vaultAccount: string, region: string): string =>
  `${VAULT_SHARES_PREFIX}${vaultAccount}#${region}`;

const SHARE_ATTRIBUTE = 'share#';

const isShare = (v: unknown): v is VaultShare => {
  const r = v as Partial<Record<keyof VaultShare, unknown>> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    (r.kind === 'rds-instance' || r.kind === 'aurora-cluster' || r.kind === 'ebs') &&
    [r.copyId, r.drillId, r.vaultAccount, r.region, r.sharedAt].every((x) => typeof x === 'string')
  );
};

/**
 * A ledger over the state table: one item per partition key, one attribute per entry (`<attribute prefix><id>`),
 * so recording and forgetting are single-item updates under one partition key (a `dynamodb:LeadingKeys` grant)
 * and a listing is one GetItem. An item holds 400 KB: some 2,000 entries, far more than drills in flight at once.
 * The first record of an entry keeps its time: a retried task does not make it look younger.
 */
const dynamoLedger = <T, K>(
  doc: DynamoDBDocumentClient,
  table: string,
  o: { pk: (k: K) => string; attribute: (k: K) => string; prefix: string; is: (v: unknown) => v is T },
) => {
  const update = async (k: K, expression: string, value?: T) => {
    const pk = o.pk(k);
    await call('UpdateItem', `${table} ${pk}`, () =>
      doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk },
          UpdateExpression: expression,
          ExpressionAttributeNames: { '#s': `${o.prefix}${o.attribute(k)}` },
          ...(value ? { ExpressionAttributeValues: { ':s': value } } : {}),
        }),
      ),
    );
  };
  return {
    record: (entry: T & K) => update(entry, 'SET #s = if_not_exists(#s, :s)', entry),
    forget: (k: K) => update(k, 'REMOVE #s'),
    list: async (pk: string): Promise<T[]> => {
      const item = (
        await call('GetItem', `${table} ${pk}`, () =>
          doc.send(new GetCommand({ TableName: table, Key: { pk }, ConsistentRead: true })),
        )
      ).Item;
      return Object.entries(item ?? {})
        .filter(([k]) => k.startsWith(o.prefix))
        .map(([, v]) => v)
        .filter(o.is);
    },
  };
};

/**
 * VaultShareLedger over the state table (dynamoLedger): one item per vault account and region, one attribute per
 * share (`share#<drill>#<kind>#<copy>`); the janitor reads them all with one GetItem.
 */
export const dynamoVaultShareLedger = (doc: DynamoDBDocumentClient, table: string): VaultShareLedger => {
  const ledger = dynamoLedger<VaultShare, Parameters<VaultShareLedger['forget']>[0]>(doc, table, {
    pk: (s) => vaultSharesKey(s.vaultAccount, s.region),
    prefix: SHARE_ATTRIBUTE,
    attribute: (s) => `${s.drillId}#${s.kind}#${s.copyId}`,
    is: isShare,
  });
  return {
    record: (share) => ledger.record(share),
    forget: (share) => ledger.forget(share),
    list: (vaultAccount, region) => ledger.list(vaultSharesKey(vaultAccount, region)),
  };
};

/**
 * Partition key of the item recording the fast snapshot restores EBS drills turned on (one item for the stage:
 * its state table is the stage's own), each recorded before it is turned on.
 */
export const FAST_RESTORES_KEY = 'drill-fast-restores';

const FAST_RESTORE_ATTRIBUTE = 'fsr#';

const isFastRestore = (v: unknown): v is FastRestoreRecord => {
  const r = v as Partial<Record<keyof FastRestoreRecord, unknown>> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    [r.drillId, r.snapshotId, r.availabilityZone, r.region, r.enabledAt].every((x) => typeof x === 'string')
  );
};

/**
 * FastRestoreLedger over the state table (dynamoLedger, as the vault shares): one item, one attribute per drill,
 * snapshot and zone (`fsr#<drill>#<snapshot>#<zone>`).
 */
export const dynamoFastRestoreLedger = (doc: DynamoDBDocumentClient, table: string): FastRestoreLedger => {
  const ledger = dynamoLedger<FastRestoreRecord, Parameters<FastRestoreLedger['forget']>[0]>(doc, table, {
    pk: () => FAST_RESTORES_KEY,
    prefix: FAST_RESTORE_ATTRIBUTE,
    attribute: (r) => `${r.drillId}#${r.snapshotId}#${r.availabilityZone}`,
    is: isFastRestore,
  });
  return {
    record: (r) => ledger.record(r),
    forget: (r) => ledger.forget(r),
    list: () => ledger.list(FAST_RESTORES_KEY),
  };
};

/**
 * Partition key of the item recording the drill copies being deleted (one item for the stage: its state table is
 * the stage's own), each recorded before its delete is sent and forgotten once RDS accepted it.
 */
export const COPY_DELETIONS_KEY = 'drill-copy-deletions';

const COPY_DELETION_ATTRIBUTE = 'copy#';

const isCopyDeletion = (v: unknown): v is CopyDeletion => {
  const r = v as Partial<Record<keyof CopyDeletion, unknown>> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    (r.kind === 'rds-instance' || r.kind === 'aurora-cluster') &&
    [r.id, r.drillId, r.region, r.since].every((x) => typeof x === 'string') &&
    (r.instanceId === undefined || typeof r.instanceId === 'string')
  );
};

/**
 * CopyDeletionLedger over the state table (dynamoLedger, as the fast restores): one item, one attribute per copy
 * (`copy#<region>#<id>`).
 */
export const dynamoCopyDeletionLedger = (doc: DynamoDBDocumentClient, table: string): CopyDeletionLedger => {
  const ledger = dynamoLedger<CopyDeletion, Parameters<CopyDeletionLedger['forget']>[0]>(doc, table, {
    pk: () => COPY_DELETIONS_KEY,
    prefix: COPY_DELETION_ATTRIBUTE,
    attribute: (d) => `${d.region}#${d.id}`,
    is: isCopyDeletion,
  });
  return {
    record: (d) => ledger.record(d),
    forget: (d) => ledger.forget(d),
    list: () => ledger.list(COPY_DELETIONS_KEY),
  };
};

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
