import type { FanOutTarget } from '../fleet/fan-out.js';
import type { FleetCapability } from '../fleet/targets.js';
import { type ClientIdentity, stsClient } from './clients.js';
import { type TargetRole, targetCredentials } from './target-credentials.js';

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
  capability: FleetCapability,
  o: { now?: () => number } = {},
) => {
  const sessions = targetCredentials(stsClient(hubRegion), {
    sessionName: `steward-${stage}-${capability}`,
    ...(o.now ? { now: o.now } : {}),
  });
  /** A role's identity through this container's cache; its session is assumed on the first call it signs. */
  const role = (r: TargetRole): ClientIdentity => ({
    key: `${r.account}:${r.roleArn}`,
    credentials: sessions.forTarget(r),
  });
  return {
    /**
     * The identity a target's clients sign with (undefined: the hub's own account, its own credentials).
     * The role is assumed here, once, so a target that refuses it fails before anything else is called.
     */
    identity: async (t: FanOutTarget): Promise<ClientIdentity | undefined> => {
      if (!t.roleArn) return undefined;
      const id = role({
        account: t.account,
        region: t.region,
        roleArn: t.roleArn,
        ...(t.externalId ? { externalId: t.externalId } : {}),
      });
      await id.credentials();
      return id;
    },
    /**
     * Another role this capability acts as (the backup vault's copy role), in the same session cache: assumed
     * lazily, when a client first signs with it, so a refusal fails that call and nothing before it.
     */
    role,
  };
};
