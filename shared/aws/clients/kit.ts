import { type Pacer, type PacerOptions, tokenBucket } from '../../pool.js';

// What every SDK client of steward shares: timeouts, retries, the pace per service and region, and the one
// client per container built on first use. Each client's factory is a module of its own beside this one
// (./rds.ts, ./s3.ts, ...), so a bundle chunk carries the class, config, endpoint rules and serde of only the
// clients the code that loads it uses: a trigger that sends to SFN and S3 does not parse Lambda's or SSM's.
// (The state table's document client is in ../state-table-client.ts.)
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
export const adaptive = { retryMode: 'adaptive', maxAttempts: 5 } as const;

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

/** The client config that signs with `as`'s credentials, when given. */
export const signer = (as?: ClientIdentity) => (as ? { credentials: as.credentials } : {});

/** What a paced client is built with: its region, adaptive retries, timeouts and, for a target, its signer. */
type PacedConfig = { region: string } & typeof adaptive & ReturnType<typeof http> & ReturnType<typeof signer>;

/**
 * The factory of a control-plane client under steward's own pace (`API_PACE`): RDS, ElastiCache, EC2 and the
 * tagging API. One client per region, options and identity per container, built on first use (`memo`).
 */
export const pacedFactory =
  <C extends object>(service: string, Client: new (config: PacedConfig) => C) =>
  (region: string, o?: ClientOptions, as?: ClientIdentity): C =>
    memo(
      service,
      region,
      o,
      () => paced(new Client({ region, ...adaptive, ...http(o), ...signer(as) }), tokenBucket(API_PACE)),
      as,
    );
