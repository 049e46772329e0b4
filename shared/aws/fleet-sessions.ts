import type { FanOutTarget } from '../fleet/fan-out.js';
import type { FleetCapability } from '../fleet/targets.js';
import { type ClientIdentity, stsClient } from './clients.js';
import { targetCredentials } from './target-credentials.js';

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
  return {
    /**
     * The identity a target's clients sign with (undefined: the hub's own account, its own credentials).
     * The role is assumed here, once, so a target that refuses it fails before anything else is called.
     */
    identity: async (t: FanOutTarget): Promise<ClientIdentity | undefined> => {
      if (!t.roleArn) return undefined;
      const credentials = sessions.forTarget({
        account: t.account,
        region: t.region,
        roleArn: t.roleArn,
        ...(t.externalId ? { externalId: t.externalId } : {}),
      });
      await credentials();
      return { key: `${t.account}:${t.roleArn}`, credentials };
    },
  };
};
