import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { S3Client } from '@aws-sdk/client-s3';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { type Pacer, type PacerOptions, tokenBucket } from '../pool.js';

// Every SDK client steward uses is built here, once per container: one place for retries and timeouts.
// (The state table's document client is in ./state-table-client.ts: @aws-sdk/lib-dynamodb declares no
// `sideEffects: false`, so importing it here would put it in every bundle, even the verifier's.)
// Endpoint and credentials come from the environment (AWS_PROFILE, AWS_ENDPOINT_URL, the Lambda role).

/** Timeouts of one client; the defaults are what ships. */
export interface ClientOptions {
  /** TCP (and TLS) connect. @default 5 s */
  connectionTimeoutMs?: number;
  /**
   * One HTTP request, first byte out to last byte in; each retry gets its own. Every steward call is a
   * small control-plane request that answers in well under a second. @default 20 s
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_TIMEOUTS: Required<ClientOptions> = {
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 20_000,
};

// Without these the SDK waits forever on a hung connection (both default to 0 = none), and a run stalls
// until the Lambda timeout with no report. `throwOnRequestTimeout`: without it, a breached request timeout
// is only logged as a warning. A timeout then fails like any other error: TimeoutError, retried by the SDK,
// and reported through AwsCallError.
export const http = (o: ClientOptions = {}) => ({
  requestHandler: {
    connectionTimeout: o.connectionTimeoutMs ?? DEFAULT_TIMEOUTS.connectionTimeoutMs,
    requestTimeout: o.requestTimeoutMs ?? DEFAULT_TIMEOUTS.requestTimeoutMs,
    throwOnRequestTimeout: true,
  },
});

// Adaptive retry backs off client-side when RDS throttles (~12 req/s sustained per account-region);
// 5 attempts rides out bursts that the standard 3 would surface as failures.
const adaptive = { retryMode: 'adaptive', maxAttempts: 5 } as const;

/**
 * Steward's own pace per service and region, under RDS's documented ~300 burst and ~12 requests/s
 * sustained per account-region, leaving room for the team's other tools. ElastiCache documents no figure;
 * it gets the same. Every attempt (retries included) takes a token, so no fan-out can outrun it.
 */
export const API_PACE: PacerOptions = { ratePerSecond: 10, burst: 100 };

interface MiddlewareClient {
  middlewareStack: {
    add(
      mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'finalizeRequest'; name: string; priority: 'low' },
    ): void;
  };
}

/** Every request of `client` waits for a token of `pacer` first (after retries are decided, before signing). */
export const paced = <C>(client: C, pacer: Pacer): C => {
  (client as MiddlewareClient).middlewareStack.add(
    (next) => async (args) => {
      await pacer.take();
      return next(args);
    },
    { step: 'finalizeRequest', name: 'stewardPace', priority: 'low' },
  );
  return client;
};

/**
 * Whose credentials a client signs with, when not the function's own: a fan-out target's (its role's
 * provider from target-credentials.ts). `key` names the identity in the client cache (account and role).
 */
export interface ClientIdentity {
  key: string;
  credentials: () => Promise<{
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiration?: Date;
  }>;
}

/**
 * `make()`'s client, built when it is first used (a property read: `send`, `config`, `instanceof`), not when
 * it is wired. A function wires every client its triggers may need, and most invocations send through few
 * of them: cost's scheduled check sends only to Cost Explorer, yet wires SNS, the state table and S3. Building
 * an SDK client costs 1-3 ms of CPU at a cold start (its config resolvers, middleware stack and endpoint
 * rules), so clients that send nothing are never built. Everything else behaves as the client does: every
 * read, write and check goes to the one built client.
 */
export const lazily = <T extends object>(make: () => T): T => {
  let built: T | undefined;
  const it = (): T => (built ??= make());
  return new Proxy({} as T, {
    get: (_, p) => Reflect.get(it(), p),
    set: (_, p, v) => Reflect.set(it(), p, v),
    has: (_, p) => Reflect.has(it(), p),
    deleteProperty: (_, p) => Reflect.deleteProperty(it(), p),
    defineProperty: (_, p, d) => Reflect.defineProperty(it(), p, d),
    ownKeys: () => Reflect.ownKeys(it()),
    // A proxy may not report a property non-configurable that its (empty) target lacks.
    getOwnPropertyDescriptor: (_, p) => {
      const d = Reflect.getOwnPropertyDescriptor(it(), p);
      return d && { ...d, configurable: true };
    },
    getPrototypeOf: () => Reflect.getPrototypeOf(it()),
  });
};

const cache = new Map<string, unknown>();
/** One client per service, region, options and identity per container, built on first use (`lazily`). */
export const memo = <T extends object>(
  service: string,
  region: string,
  o: ClientOptions | undefined,
  make: () => T,
  as?: ClientIdentity,
): T => {
  const key = `${service}:${region}:${JSON.stringify(o ?? {})}${as ? `:${as.key}` : ''}`;
  if (!cache.has(key)) cache.set(key, lazily(make));
  return cache.get(key) as T;
};

const signer = (as?: ClientIdentity) => (as ? { credentials: as.credentials } : {});

/** One RDS client per region (and target identity) per container. */
export const rdsClient = (region: string, o?: ClientOptions, as?: ClientIdentity): RDSClient =>
  memo(
    'rds',
    region,
    o,
    () => paced(new RDSClient({ region, ...adaptive, ...http(o), ...signer(as) }), tokenBucket(API_PACE)),
    as,
  );

/**
 * One EC2 client per region (and target identity) per container: EBS snapshot sets. EC2 throttles per
 * account and API action with a token bucket (EC2 API reference, "Request throttling"); steward keeps the
 * same pace as for RDS, far under it, and retries adaptively like the others.
 */
export const ec2Client = (region: string, o?: ClientOptions, as?: ClientIdentity): EC2Client =>
  memo(
    'ec2',
    region,
    o,
    () => paced(new EC2Client({ region, ...adaptive, ...http(o), ...signer(as) }), tokenBucket(API_PACE)),
    as,
  );

/** One ElastiCache client per region per container. */
export const elastiCacheClient = (
  region: string,
  o?: ClientOptions,
  as?: ClientIdentity,
): ElastiCacheClient =>
  memo(
    'elasticache',
    region,
    o,
    () =>
      paced(new ElastiCacheClient({ region, ...adaptive, ...http(o), ...signer(as) }), tokenBucket(API_PACE)),
    as,
  );

/** One Resource Groups Tagging API client per region per container (ElastiCache snapshot tags in bulk). */
export const taggingClient = (
  region: string,
  o?: ClientOptions,
  as?: ClientIdentity,
): ResourceGroupsTaggingAPIClient =>
  memo(
    'tagging',
    region,
    o,
    () =>
      paced(
        new ResourceGroupsTaggingAPIClient({ region, ...adaptive, ...http(o), ...signer(as) }),
        tokenBucket(API_PACE),
      ),
    as,
  );

/** One Systems Manager client per region per container (application-consistency commands, drill checks). */
export const ssmClient = (region: string, o?: ClientOptions, as?: ClientIdentity): SSMClient =>
  memo('ssm', region, o, () => new SSMClient({ region, ...adaptive, ...http(o), ...signer(as) }), as);

/** One SNS client per region per container. */
export const snsClient = (region: string, o?: ClientOptions): SNSClient =>
  memo('sns', region, o, () => new SNSClient({ region, ...http(o) }));

/**
 * One S3 client per region (and target identity) per container: drill reports and baselines, and a spoke
 * target's Redis DR buckets.
 */
export const s3Client = (region: string, o?: ClientOptions, as?: ClientIdentity): S3Client =>
  memo('s3', region, o, () => new S3Client({ region, ...http(o), ...signer(as) }), as);

/** One Step Functions client per region per container (task tokens, the drill CLI). */
export const sfnClient = (region: string, o?: ClientOptions): SFNClient =>
  memo('sfn', region, o, () => new SFNClient({ region, ...http(o) }));

/**
 * One Lambda client per region per container, for synchronous invokes that answer when the invoked function is
 * done: the drill function's relay to the DR region's cache verifier, and the CLI's `steward approve --target`
 * (the hub's scaling function). `o.requestTimeoutMs` must outlast the invoked function's timeout; two attempts
 * (a throttled invoke is retried once, a run is not started a third time).
 */
export const lambdaClient = (region: string, o?: ClientOptions): LambdaClient =>
  memo('lambda', region, o, () => new LambdaClient({ region, maxAttempts: 2, ...http(o) }));

/** One Secrets Manager client per region per container (drill credentials). */
export const secretsClient = (region: string, o?: ClientOptions): SecretsManagerClient =>
  memo('secretsmanager', region, o, () => new SecretsManagerClient({ region, ...http(o) }));

/** One CloudWatch client per region per container (alarm descriptions for scaling). */
export const cloudWatchClient = (region: string, o?: ClientOptions, as?: ClientIdentity): CloudWatchClient =>
  memo('cloudwatch', region, o, () => new CloudWatchClient({ region, ...http(o), ...signer(as) }), as);

/** One EventBridge Scheduler client per region per container (pre-maintenance snapshots). */
export const schedulerClient = (region: string, o?: ClientOptions): SchedulerClient =>
  memo('scheduler', region, o, () => new SchedulerClient({ region, ...http(o) }));

/** One EventBridge client per region per container (alert events for the pager route). */
export const eventBridgeClient = (region: string, o?: ClientOptions): EventBridgeClient =>
  memo('events', region, o, () => new EventBridgeClient({ region, ...http(o) }));

/** One STS client per region per container (the CLI asks which account it runs in). */
export const stsClient = (region: string, o?: ClientOptions): STSClient =>
  memo('sts', region, o, () => new STSClient({ region, ...http(o) }));

/**
 * One Organizations client per container. Organizations is a global service: the SDK's endpoint rules send
 * every commercial-partition region to its one endpoint (organizations.us-east-1.amazonaws.com).
 */
export const organizationsClient = (region: string, o?: ClientOptions): OrganizationsClient =>
  memo('organizations', region, o, () => new OrganizationsClient({ region, ...adaptive, ...http(o) }));

/** Cost Explorer is served from us-east-1 only, whatever the stage's region. */
export const COST_EXPLORER_REGION = 'us-east-1';

/**
 * One Cost Explorer client per container, pinned to us-east-1. No SDK retries: every attempt is a billed
 * request ($0.01), so the adapter retries itself (timeouts included), with backoff, and counts each attempt.
 */
export const costExplorerClient = (o?: ClientOptions): CostExplorerClient =>
  memo(
    'ce',
    COST_EXPLORER_REGION,
    o,
    () => new CostExplorerClient({ region: COST_EXPLORER_REGION, maxAttempts: 1, ...http(o) }),
  );
