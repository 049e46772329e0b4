import { createHash, createHmac } from 'node:crypto';
import type { CacheTokenSigner } from '../drill/ports.js';

export type { CacheTokenSigner };

/** AWS credentials as Lambda hands them to a function (its environment), or any provider returns them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

// ElastiCache IAM authentication tokens are valid for 15 minutes (ElastiCache User Guide, "Authenticating
// with IAM": a SigV4 presigned `connect` request whose URL, without `http://`, is the password).
const EXPIRES_SECONDS = 900;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s, 'utf8').digest();
// RFC 3986 unreserved characters stay; everything else is percent-encoded (SigV4's URI encoding).
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const stamp = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * The token for `userId` at replication group `groupId`: SigV4 query-string signing of
 * `GET http://<groupId>/?Action=connect&User=<userId>` for service `elasticache`, signed locally with the
 * function's own credentials. No AWS call, so the isolated drill VPC needs no endpoint for it.
 */
export const signCacheToken = (
  req: { groupId: string; userId: string; region: string; now: Date },
  credentials: AwsCredentials,
): string => {
  const host = req.groupId.toLowerCase();
  const datetime = stamp(req.now);
  const date = datetime.slice(0, 8);
  const scope = `${date}/${req.region}/elasticache/aws4_request`;
  const params: Record<string, string> = {
    Action: 'connect',
    User: req.userId,
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${credentials.accessKeyId}/${scope}`,
    'X-Amz-Date': datetime,
    'X-Amz-Expires': String(EXPIRES_SECONDS),
    'X-Amz-SignedHeaders': 'host',
    ...(credentials.sessionToken ? { 'X-Amz-Security-Token': credentials.sessionToken } : {}),
  };
  const query = Object.keys(params)
    .sort()
    .map((k) => `${encode(k)}=${encode(params[k]!)}`)
    .join('&');
  const canonical = ['GET', '/', query, `host:${host}`, '', 'host', sha256('')].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', datetime, scope, sha256(canonical)].join('\n');
  const key = ['elasticache', 'aws4_request'].reduce(
    (k, part) => hmac(k, part),
    hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), req.region),
  );
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return `${host}/?${query}&X-Amz-Signature=${signature}`;
};

/** A signer over the function's credentials (Lambda puts them in its environment) and clock. */
export const cacheTokenSigner =
  (region: string, credentials: () => AwsCredentials, now: () => Date = () => new Date()): CacheTokenSigner =>
  async ({ groupId, userId }) =>
    signCacheToken({ groupId, userId, region, now: now() }, credentials());

/** The credentials Lambda gives a function, from its environment; a clear error when absent. */
export const environmentCredentials = (env: NodeJS.ProcessEnv = process.env): AwsCredentials => {
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  if (!accessKeyId || !secretAccessKey) {
    throw new Error('no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
};
