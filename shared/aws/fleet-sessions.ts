import type { FanOutTarget } from '../fleet/fan-out.js';
import type { FleetWiring } from '../fleet/child.js';
import type { OrganizationDirectory } from '../fleet/organization.js';
import type { SpokeCapability } from '../fleet/targets.js';
import type { BaseDeps } from '../runtime.js';
import type { ClientIdentity } from './clients/kit.js';
import type { TargetCredentials, TargetRole } from './target-credentials.js';
import { once } from '../once.js';

// Modules loaded on first use, once per container (shared/once.ts: `import()` resolves again at each call).
// The STS client and its AssumeRole come with the first role a client signs with: the hub's own account
// (every trigger of a single-account stage) never parses them.
const loadCredentials = /* @__PURE__ */ once(() => import('./target-credentials.js'));
const loadFanOut = /* @__PURE__ */ once(() => import('../fleet/fan-out.js'));
const loadMapRunResults = /* @__PURE__ */ once(() => import('./map-run-results.js'));
const loadOrganizations = /* @__PURE__ */ once(() => import('./organizations.js'));

/** Where a function gets the session of a role it assumes (the backup vault's roles): `fleetSessions(...)`. */
export interface RoleSessions {
  role: (r: TargetRole) => ClientIdentity;
}

/**
 * The sessions of one fleet capability in one container: AssumeRole through the hub region's STS client,
 * session name `steward-<stage>-<capability>` (the target's CloudTrail shows who acted), each target's
 * credentials cached and refreshed before they expire (target-credentials.ts).
 */
export const fleetSessions = (
  stage: string,
  hubRegion: string,
  capability: SpokeCapability,
  o: { now?: () => number } = {},
) => {
  let sessions: TargetCredentials | undefined;
  const cache = async () => {
    const { targetCredentials, stsClient } = await loadCredentials();
    return (sessions ??= targetCredentials(stsClient(hubRegion), {
      sessionName: `steward-${stage}-${capability}`,
      ...(o.now ? { now: o.now } : {}),
    }));
  };
  /** A role's identity through this container's cache; its session is assumed on the first call it signs. */
  const role = (r: TargetRole): ClientIdentity => ({
    key: `${r.account}:${r.roleArn}`,
    credentials: async () => (await cache()).forTarget(r)(),
  });
  return {
    /**
     * The identity a target's clients sign with (undefined: the hub's own account, its own credentials).
     * The role is assumed here, once, so a target that refuses it fails before anything else is called.
     */
    identity: async (t: FanOutTarget, o: { lazily?: boolean } = {}): Promise<ClientIdentity | undefined> => {
      if (!t.roleArn) return undefined;
      const id = role({
        account: t.account,
        region: t.region,
        roleArn: t.roleArn,
        ...(t.externalId ? { externalId: t.externalId } : {}),
      });
      // `lazily`: assumed when a client first signs with it; a refusal then fails that call, naming the role.
      if (!o.lazily) await id.credentials();
      return id;
    },
    /**
     * Another role this capability acts as (the backup vault's copy role), in the same session cache: assumed
     * lazily, when a client first signs with it, so a refusal fails that call and nothing before it.
     */
    role,
  };
};

/** Where a fan-out child acts: its target, the hub's region (bucket, table), and the role it signs with. */
export interface TargetWiring {
  target: FanOutTarget;
  hubRegion: string;
  /** Undefined for the hub's own account (its own credentials). */
  as?: ClientIdentity;
}

/**
 * A fleet capability's deployed wiring: today's deps once per container (`wire(base)`); a fan-out child's
 * per target (`wire` with the stage config moved to the target's region and overrides, and the target's
 * identity, its role's session cached per container); the fan-out summary's (the hub's notifier, the Map
 * Run's export in the hub's report bucket). `wire` also gets the container's role sessions for other roles
 * the capability assumes (the backup vault's), made when a role is first needed: a single-account stage
 * never builds the cache. A target's, the summary's and the listing's adapters are imported when first
 * needed: today's events (most of them) load none of them.
 */
export interface FleetWiringOptions {
  /**
   * Whether a target's event starts with work in the hub that needs nothing of the target's role (a spoke's
   * forwarded failover restarts a cooldown kept in the hub's table). Its role is then assumed when a client
   * first signs with it, not before: a spoke role that refuses (a spoke half deployed, a role renamed) fails
   * only what needs it, after the hub's part is done, and the error names the role. Default: none (the role
   * is assumed before anything runs, so a target that refuses it fails before anything is called).
   */
  startsInHub?: (event: unknown) => boolean;
}

export const fleetWiring = <D>(
  capability: SpokeCapability,
  base: () => BaseDeps,
  wire: (base: BaseDeps, at: TargetWiring | undefined, sessions: RoleSessions) => D,
  o: FleetWiringOptions = {},
): FleetWiring<D> => {
  let deps: D | undefined;
  let cache: ReturnType<typeof fleetSessions> | undefined;
  const sessions = (b: BaseDeps) => (cache ??= fleetSessions(b.config.stage, b.config.region, capability));
  const lazily = (b: BaseDeps): RoleSessions => ({ role: (r) => sessions(b).role(r) });
  // The OU listing forwarded events share, for the container's life (each answer expires on its own).
  let forwardedDirectory: OrganizationDirectory | undefined;
  return {
    hub: () => {
      if (deps) return deps;
      const b = base();
      return (deps = wire(b, undefined, lazily(b)));
    },
    target: async (target, event) => {
      const b = base();
      const { targetConfig } = await loadFanOut();
      const as = await sessions(b).identity(target, { lazily: o.startsInHub?.(event) ?? false });
      return wire(
        { ...b, config: targetConfig(b.config, target) },
        { target, hubRegion: b.config.region, ...(as ? { as } : {}) },
        lazily(b),
      );
    },
    summary: async () => {
      // Each of these modules brings the factory of its client: only the trigger that sends loads its code.
      const { s3MapRunResults, s3Client } = await loadMapRunResults();
      return { notifier: base().notifier, results: s3MapRunResults(s3Client(base().config.region)) };
    },
    listing: async () => {
      const { config } = base();
      const { organizationDirectory, organizationsClient, recentDirectory } = await loadOrganizations();
      const directory = organizationDirectory(organizationsClient(config.region));
      forwardedDirectory ??= recentDirectory(directory, () => base().now().getTime());
      return { config, capability, directory, forwardedDirectory };
    },
  };
};
