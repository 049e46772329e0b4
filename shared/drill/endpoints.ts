import * as v from '../valid.js';
import type { StewardConfig } from '../config/schema.js';
import { ConfigError, formatIssues } from '../errors.js';
import { Tag, type Tags } from '../tags.js';

/*
 * Drill-scoped interface endpoints: the rules. The drill VPC has no route out, so a verifier that reads a
 * secret (Secrets Manager) or runs on an instance whose SSM Agent must register (Systems Manager) needs an
 * interface endpoint, billed per hour and per AZ whether used or not (AWS PrivateLink pricing; a partial hour
 * is billed as a full one). With `drill.endpoints.mode: per-drill` a drill creates the endpoints it needs when
 * it starts and the last running drill deletes them when it ends. A leaf module: the drill state names these
 * shapes, the tasks (./endpoint-tasks.ts) and the EC2 adapter (../aws/drill-endpoints.ts) implement them.
 */

/** The services a drill may need an endpoint for, by the last part of their service name. */
export const ENDPOINT_KEYS = ['secretsmanager', 'ssm', 'ec2messages', 'ssmmessages'] as const;
export type EndpointKey = (typeof ENDPOINT_KEYS)[number];

// The SSM Agent's three services for Run Command (Systems Manager User Guide, "Use VPC endpoints for Systems
// Manager"): ssm, ec2messages and ssmmessages.
export const SSM_ENDPOINT_KEYS: readonly EndpointKey[] = ['ssm', 'ec2messages', 'ssmmessages'];
const SSM_KEYS = SSM_ENDPOINT_KEYS;

/** The endpoints a drill of `database` needs: a secret login's Secrets Manager, an EBS verifier's SSM. */
export const drillEndpointKeys = (config: StewardConfig, database: string): EndpointKey[] => {
  const { targets, caches, volumes } = config.drill;
  if (Object.hasOwn(targets, database)) return targets[database]!.auth === 'secret' ? ['secretsmanager'] : [];
  if (Object.hasOwn(caches, database)) {
    const auth = caches[database]!.auth;
    return auth === 'token' || auth === 'user' ? ['secretsmanager'] : [];
  }
  if (Object.hasOwn(volumes, database)) return volumes[database]!.verify ? [...SSM_KEYS] : [];
  return [];
};

/** Every endpoint some drill of the stage needs (in ENDPOINT_KEYS order). */
export const stageEndpointKeys = (config: StewardConfig): EndpointKey[] => {
  const { targets, caches, volumes } = config.drill;
  const all = new Set(
    [...Object.keys(targets), ...Object.keys(caches), ...Object.keys(volumes)].flatMap((d) =>
      drillEndpointKeys(config, d),
    ),
  );
  return ENDPOINT_KEYS.filter((k) => all.has(k));
};

/** True when the stage's drills create their endpoints themselves (per-drill mode, and some drill needs one). */
export const perDrillEndpoints = (config: StewardConfig): boolean =>
  config.drill.enabled !== false &&
  config.drill.endpoints.mode === 'per-drill' &&
  stageEndpointKeys(config).length > 0;

/** The error name a drill stops with when its endpoints did not become available in time (inconclusive). */
export const ENDPOINTS_UNAVAILABLE = 'EndpointsUnavailable';

/** How often the state machine asks whether a drill's endpoints are available (a Wait state, no Lambda sleeping). */
export const ENDPOINT_POLL_SECONDS = 20;

/**
 * The janitor deletes a steward drill endpoint once no drill execution is running and the endpoint is older
 * than this: a drill's own Close step normally does it; this covers a drill whose Close never ran.
 */
export const ENDPOINT_IDLE_HOURS = 1;

/** What the construct deploys for one endpoint a drill may create: where, behind which group, who may use it. */
export interface EndpointPlacement {
  /** The full service name, e.g. com.amazonaws.eu-west-1.secretsmanager. */
  serviceName: string;
  subnetIds: string[];
  securityGroupIds: string[];
  /** Secrets Manager: the roles the endpoint policy lets read secrets through it (the verifiers'). */
  readers?: string[];
}

/** The drill VPC and its creatable endpoints (`DRILL_ENDPOINTS`, JSON, written by the construct). */
export interface EndpointSpec {
  vpcId: string;
  endpoints: Partial<Record<EndpointKey, EndpointPlacement>>;
}

const Placement = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    serviceName: v.string().check(v.minLength(1)),
    subnetIds: v.array(v.string().check(v.regex(/^subnet-[0-9a-f]+$/))).check(v.minLength(1)),
    securityGroupIds: v.array(v.string().check(v.regex(/^sg-[0-9a-f]+$/))).check(v.minLength(1)),
    readers: v.optional(v.array(v.string().check(v.minLength(1)))),
  }),
);
export const Spec = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    vpcId: v.string().check(v.regex(/^vpc-[0-9a-f]+$/)),
    endpoints: v.partialRecord(v.enum(ENDPOINT_KEYS), Placement),
  }),
);

/** Parse `DRILL_ENDPOINTS`; malformed → ConfigError naming the variable and each bad field. */
export const parseEndpointSpec = (text: string): EndpointSpec => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError('Invalid drill environment', ['DRILL_ENDPOINTS: not JSON']);
  }
  const r = Spec.safeParse(json);
  if (!r.success)
    throw new ConfigError(
      'Invalid drill environment',
      formatIssues(r.error.issues).map((i) => `DRILL_ENDPOINTS.${i}`),
    );
  return r.data as EndpointSpec;
};

/** The endpoint policy of a Secrets Manager endpoint: only the verifiers, only GetSecretValue. */
export const readersPolicy = (readers: readonly string[]): string =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'VerifierReadsSecretsOnly',
        Effect: 'Allow',
        Principal: { AWS: [...readers] },
        Action: 'secretsmanager:GetSecretValue',
        Resource: '*',
      },
    ],
  });

/** One interface endpoint in the drill VPC, as plain data. */
export interface VpcEndpointInfo {
  id: string;
  serviceName: string;
  /** EC2's state, lower case: pendingacceptance, pending, available, deleting, deleted, rejected, failed, expired. */
  state: string;
  privateDns: boolean;
  createdAt?: string;
  tags: Tags;
}

/** True when steward's drill created the endpoint: the only endpoints steward ever deletes. */
export const isDrillEndpoint = (tags: Tags): boolean =>
  tags[Tag.managed] === 'true' && Boolean(tags[Tag.drillEndpoint]);

/** The tags a drill puts on an endpoint it creates. */
export const endpointTags = (key: EndpointKey, drillId: string): Tags => ({
  [Tag.drillEndpoint]: key,
  [Tag.managed]: 'true',
  [Tag.createdBy]: 'drill',
  // The drill that created it; a concurrent drill shares it (one endpoint per service and VPC with private DNS).
  [Tag.drill]: drillId,
});

export interface EndpointCreateRequest extends EndpointPlacement {
  key: EndpointKey;
  /** Idempotency token (CreateVpcEndpoint ClientToken, ≤ 64 ASCII characters): a retried create is a no-op. */
  clientToken: string;
  tags: Tags;
}

/** Port: the interface endpoints of the drill VPC. */
export interface DrillEndpointsPort {
  /** Every interface endpoint of the drill VPC for these service names (any owner, any state). */
  list(serviceNames: readonly string[]): Promise<VpcEndpointInfo[]>;
  /**
   * Create an interface endpoint with private DNS, tagged. `conflict`: the VPC already has an endpoint with
   * private DNS for the service (one being deleted, or one created meanwhile): ask again later.
   */
  create(req: EndpointCreateRequest): Promise<{ created: VpcEndpointInfo } | { conflict: string }>;
  /** Delete one endpoint; refuses (GuardRefusedError) one steward's drill did not create. */
  remove(endpoint: Pick<VpcEndpointInfo, 'id' | 'tags'>): Promise<'deleted' | 'already-gone'>;
}

/** Port: the stage's drill executions that are running now (their execution names). */
export interface RunningDrills {
  running(): Promise<string[]>;
}

/** A drill's endpoints as the state machine carries them (`DrillState.endpoints`). */
export interface EndpointsProgress {
  needed: EndpointKey[];
  /** When the drill first asked for them: the wait is bounded by `drill.endpoints.timeoutSeconds` from here. */
  since: string;
  /** How many times the drill asked (a create's idempotency token names the ask). */
  checks: number;
  /** Every needed endpoint is available: the verifier can reach its service. */
  ready: boolean;
  /** What each needed service has now. */
  services: { key: EndpointKey; state: string; endpointId?: string; ours?: boolean; detail?: string }[];
  /** When they became ready (the drill's report can tell what the wait cost). */
  readyAt?: string;
}

/** What Close did with the stage's drill endpoints. */
export interface EndpointsClosed {
  status: 'deleted' | 'kept' | 'none' | 'not-wired';
  at: string;
  detail?: string;
}

const LIVE = new Set(['pendingacceptance', 'pending', 'available']);

/** What to do for one needed service given the VPC's endpoints for it. Pure. */
export const endpointStep = (
  found: readonly VpcEndpointInfo[],
):
  | { action: 'ready'; endpoint: VpcEndpointInfo }
  | { action: 'wait'; endpoint: VpcEndpointInfo; reason: string }
  | { action: 'create'; reason: string } => {
  // Only an endpoint with private DNS makes the service's default name resolve inside the VPC; any owner's
  // will do (steward uses, and never deletes, one it did not create).
  const dns = found.filter((e) => e.privateDns);
  const available = dns.find((e) => e.state === 'available');
  if (available) return { action: 'ready', endpoint: available };
  const pending = dns.find((e) => LIVE.has(e.state));
  if (pending) return { action: 'wait', endpoint: pending, reason: `${pending.id} is ${pending.state}` };
  // Private DNS allows one endpoint per service and VPC: a new one can be created once this one is gone.
  const deleting = dns.find((e) => e.state === 'deleting');
  if (deleting)
    return {
      action: 'wait',
      endpoint: deleting,
      reason: `${deleting.id} is being deleted; then one is created`,
    };
  return {
    action: 'create',
    reason: found.length ? `none usable (${found.map((e) => `${e.id} ${e.state}`).join(', ')})` : 'none',
  };
};

/** Steward's drill endpoints that may be deleted (not already going). */
export const deletableEndpoints = (found: readonly VpcEndpointInfo[]): VpcEndpointInfo[] =>
  found.filter((e) => isDrillEndpoint(e.tags) && e.state !== 'deleting' && e.state !== 'deleted');

/** A steward drill endpoint as the janitor sweeps it. */
export interface EndpointResource {
  kind: 'vpc-endpoint';
  id: string;
  /** The drill that created it (`steward:drill`); a later drill may have shared it. */
  drillId: string;
  createdAt?: string;
  status?: string;
  tags: Tags;
  serviceName: string;
}

/** Steward's drill endpoints (not already going) as janitor resources. */
export const endpointResources = (found: readonly VpcEndpointInfo[]): EndpointResource[] =>
  deletableEndpoints(found).map((e) => ({
    kind: 'vpc-endpoint',
    id: e.id,
    drillId: e.tags[Tag.drill] ?? '?',
    ...(e.createdAt ? { createdAt: e.createdAt } : {}),
    status: e.state,
    tags: e.tags,
    serviceName: e.serviceName,
  }));

const HOUR_MS = 3_600_000;

/**
 * Which steward drill endpoints the janitor deletes: none while a drill execution runs (it may be using them,
 * or about to), else those older than ENDPOINT_IDLE_HOURS. Pure.
 */
export const planEndpointJanitor = (
  endpoints: readonly EndpointResource[],
  runningDrills: number,
  now: Date,
): { resource: EndpointResource; action: 'delete' | 'keep'; reason: string; ageHours?: number }[] =>
  endpoints.map((resource) => {
    const created = resource.createdAt === undefined ? NaN : Date.parse(resource.createdAt);
    const ageHours = Number.isFinite(created)
      ? Math.round(((now.getTime() - created) / HOUR_MS) * 10) / 10
      : undefined;
    const age = ageHours === undefined ? {} : { ageHours };
    if (runningDrills > 0)
      return { resource, action: 'keep', reason: `${runningDrills} drill execution(s) running`, ...age };
    if (ageHours === undefined)
      return { resource, action: 'keep', reason: 'no creation time yet (still creating)' };
    return ageHours > ENDPOINT_IDLE_HOURS
      ? {
          resource,
          action: 'delete',
          reason: `idle: no drill running, ${ageHours} h old, older than ${ENDPOINT_IDLE_HOURS} h`,
          ageHours,
        }
      : { resource, action: 'keep', reason: `${ageHours} h old, within ${ENDPOINT_IDLE_HOURS} h`, ageHours };
  });
