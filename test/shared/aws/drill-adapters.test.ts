import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { dynamoTokenStore, s3ReportStore } from '../../../shared/aws/drill-stores.js';
import { secretsCacheLogins, secretsCredentials } from '../../../shared/aws/secrets.js';
import { sfnTaskSignal } from '../../../shared/aws/sfn.js';
import { StaleTaskTokenError } from '../../../shared/drill/ports.js';
import type { DrillState } from '../../../shared/drill/state.js';
import { AwsCallError } from '../../../shared/errors.js';

const sm = mockClient(SecretsManagerClient);
const sfn = mockClient(SFNClient);
const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);
const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!db-1';
const PASSWORD = 'hunter2-"quoted"';
const NOW = new Date('2026-02-01T05:00:00Z');
const state = { drillId: 'd1', database: 'orders-db' } as DrillState;

beforeEach(() => {
  sm.reset();
  sfn.reset();
  s3.reset();
  ddb.reset();
});

describe('secretsCredentials', () => {
  const creds = () => secretsCredentials(new SecretsManagerClient({}));

  it('reads username and password from the JSON secret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({
      SecretString: JSON.stringify({
        username: 'master',
        password: PASSWORD,
        port: '5432',
        engine: 'postgres',
      }),
    });
    expect(await creds().get(ARN)).toEqual({ username: 'master', password: PASSWORD, port: 5432 });
  });

  it.each([
    ['not JSON', `password=${PASSWORD}`, /is not JSON/],
    [
      'JSON without a username',
      JSON.stringify({ password: PASSWORD }),
      /missing or invalid fields \(username\)/,
    ],
  ])('refuses a secret that is %s without quoting it', async (_t, SecretString, message) => {
    sm.on(GetSecretValueCommand).resolves({ SecretString });
    const err = (await creds()
      .get(ARN)
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(message);
    expect(err.message).toContain(ARN);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('hunter2');
    expect(err.cause).toBeUndefined();
  });

  it('wraps access errors naming the secret', async () => {
    sm.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    await expect(creds().get(ARN)).rejects.toThrow(AwsCallError);
  });
});

describe('secretsCacheLogins', () => {
  const logins = () => secretsCacheLogins(new SecretsManagerClient({}));

  it.each([
    ['its password field', JSON.stringify({ password: PASSWORD })],
    ['its whole string', PASSWORD],
  ])('reads an AUTH token from %s', async (_t, SecretString) => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({ SecretString });
    expect(await logins().token(ARN)).toBe(PASSWORD);
  });

  it("reads an RBAC user's username and password", async () => {
    sm.on(GetSecretValueCommand, { SecretId: ARN }).resolves({
      SecretString: JSON.stringify({ username: 'app', password: PASSWORD, engine: 'redis' }),
    });
    expect(await logins().user(ARN)).toEqual({ username: 'app', password: PASSWORD });
  });

  it.each([
    ['token', JSON.stringify({ username: 'app', token: PASSWORD }), /JSON without a password/],
    ['user', JSON.stringify({ password: PASSWORD }), /not JSON with username and password/],
  ] as const)(
    'refuses a %s secret of the wrong shape without quoting it',
    async (kind, SecretString, message) => {
      sm.on(GetSecretValueCommand).resolves({ SecretString });
      const l = logins();
      const read = kind === 'token' ? l.token : l.user;
      const err = (await read(ARN).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(message);
      expect(err.message).toContain(ARN);
      expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain('hunter2');
    },
  );
});

describe('sfnTaskSignal', () => {
  const signal = () => sfnTaskSignal(new SFNClient({}));

  it('sends the next state as JSON output', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    await signal().success('tok', state);
    expect(sfn).toReceiveCommandWith(SendTaskSuccessCommand, {
      taskToken: 'tok',
      output: JSON.stringify(state),
    });
  });

  it('caps error and cause at the Step Functions limits', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});
    await signal().failure('tok', 'E'.repeat(300), 'c'.repeat(40_000));
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
    expect(input.error).toHaveLength(256);
    expect(input.cause).toHaveLength(32_768);
  });

  it('tells a stale token apart from a failure', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'timed out', $metadata: {} }));
    await expect(signal().success('tok', state)).rejects.toThrow(StaleTaskTokenError);
  });
});

describe('dynamoTokenStore', () => {
  const store = () =>
    dynamoTokenStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), 'steward-drill', () => NOW);

  it('parks the token and the state under the target, with a TTL', async () => {
    ddb.on(PutCommand).resolves({});
    await store().put('steward-drill-x-00000001', 'tok', 600, state);
    expect(ddb).toReceiveCommandWith(PutCommand, {
      TableName: 'steward-drill',
      Item: {
        pk: 'drill-token#steward-drill-x-00000001',
        token: 'tok',
        state: JSON.stringify(state),
        ttl: NOW.getTime() / 1000 + 600,
      },
    });
  });

  it('takes the token atomically and ignores an expired one', async () => {
    ddb
      .on(DeleteCommand)
      .resolvesOnce({
        Attributes: { token: 'tok', state: JSON.stringify(state), ttl: NOW.getTime() / 1000 + 1 },
      })
      .resolvesOnce({
        Attributes: { token: 'old', state: JSON.stringify(state), ttl: NOW.getTime() / 1000 - 1 },
      })
      .resolves({});
    const s = store();
    expect(await s.take('t')).toEqual({ token: 'tok', state });
    expect(await s.take('t')).toBeUndefined();
    expect(await s.take('t')).toBeUndefined();
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pk: 'drill-token#t' },
      ReturnValues: 'ALL_OLD',
    });
  });
});

describe('s3ReportStore', () => {
  it.each<[string, string | undefined, Partial<PutObjectCommandInput>]>([
    ['SSE-S3 by default', undefined, { ServerSideEncryption: 'AES256' }],
    [
      'the given KMS key',
      'arn:aws:kms:eu-west-1:111122223333:key/abc',
      { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/abc' },
    ],
  ])('stores JSON encrypted with %s and links it as the run reports are', async (_t, key, sse) => {
    s3.on(PutObjectCommand).resolves({});
    const link = await s3ReportStore(new S3Client({}), 'reports', 'eu-west-1', key).put(
      'drills/orders-db/2026/02/d1.json',
      '{}',
    );
    expect(link).toEqual({
      uri: 's3://reports/drills/orders-db/2026/02/d1.json',
      consoleUrl:
        'https://console.aws.amazon.com/s3/object/reports?region=eu-west-1&prefix=drills%2Forders-db%2F2026%2F02%2Fd1.json',
    });
    expect(s3).toReceiveCommandWith(PutObjectCommand, {
      Bucket: 'reports',
      Key: 'drills/orders-db/2026/02/d1.json',
      Body: '{}',
      ContentType: 'application/json',
      ...sse,
    });
  });
});

describe('s3ReportStore.get', () => {
  it('reads an object back, and a missing key is undefined rather than an error', async () => {
    // Prepare
    s3.reset();
    s3.on(GetObjectCommand, { Key: 'baselines/orders-db.json' }).resolves({
      // The SDK's stream mixin: only transformToString is used.
      Body: { transformToString: async () => '{"orders":{"rows":1}}' } as never,
    });
    s3.on(GetObjectCommand, { Key: 'baselines/none.json' }).rejects(
      Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }),
    );
    const store = s3ReportStore(new S3Client({}), 'reports', 'eu-west-1');

    // Act / Assert
    await expect(store.get('baselines/orders-db.json')).resolves.toBe('{"orders":{"rows":1}}');
    await expect(store.get('baselines/none.json')).resolves.toBeUndefined();
  });

  it('names the object when reading fails otherwise', async () => {
    // Prepare
    s3.reset();
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));

    // Act / Assert
    await expect(
      s3ReportStore(new S3Client({}), 'reports', 'eu-west-1').get('baselines/x.json'),
    ).rejects.toThrow(/GetObject failed for s3:\/\/reports\/baselines\/x\.json: AccessDenied/);
  });
});
