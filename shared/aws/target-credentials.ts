import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { call } from './call.js';

// Loaded on first use (fleet-sessions.ts) with the factory of the client it sends through.
export { stsClient } from './clients/sts.js';

/** Temporary credentials, in the shape every SDK v3 client takes (`credentials`). */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  accountId: string;
}
export type AwsCredentialIdentityProvider = () => Promise<AwsCredentialIdentity>;

/** A role to work in one target account and region with (a spoke role, or the target's own `role`). */
export interface TargetRole {
  account: string;
  region: string;
  roleArn: string;
  /** Passed as sts:ExternalId when the fleet uses one (the spoke's trust policy requires it). */
  externalId?: string;
}

export interface TargetCredentialsOptions {
  /** Names the session in the target's CloudTrail: `steward-<stage>-<capability>` (2-64 characters). */
  sessionName: string;
  /** Lifetime of one session; a role's default maximum is 1 h. @default 3600 */
  durationSeconds?: number;
  /**
   * Credentials this close to expiry are replaced before they are handed out: a call signed just before
   * expiry may still be retried for a while (5 adaptive attempts with backoff). @default 5 minutes
   */
  refreshBeforeMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Each target's credentials provider, from one session cache. */
export interface TargetCredentials {
  /** The provider an SDK client of this target takes as `credentials`. */
  forTarget: (t: TargetRole) => AwsCredentialIdentityProvider;
  /** Forget a target's session (after the role changed, or a call said its token was revoked). */
  forget: (t: TargetRole) => void;
}

/** The cache key of a target: one session per role, account and region. */
const keyOf = (t: TargetRole): string => `${t.roleArn} ${t.account} ${t.region}`;

/**
 * Credentials for target roles through STS AssumeRole with `sts` (a client of the shared factory, so it has
 * its timeouts): one provider per target, each session cached and replaced `refreshBeforeMs` before it
 * expires, and callers that ask at once share one AssumeRole. A refused AssumeRole (access denied, the
 * region disabled, throttled after retries) is an AwsCallError naming the role; nothing is cached for it,
 * so the next call tries again.
 */
export const targetCredentials = (sts: STSClient, o: TargetCredentialsOptions): TargetCredentials => {
  const now = o.now ?? Date.now;
  const early = o.refreshBeforeMs ?? 5 * 60_000;
  const sessions = new Map<string, AwsCredentialIdentity>();
  const pending = new Map<string, Promise<AwsCredentialIdentity>>();

  const assume = async (t: TargetRole): Promise<AwsCredentialIdentity> => {
    const out = await call('AssumeRole', `${t.roleArn} (target ${t.account} ${t.region})`, () =>
      sts.send(
        new AssumeRoleCommand({
          RoleArn: t.roleArn,
          RoleSessionName: o.sessionName,
          DurationSeconds: o.durationSeconds ?? 3600,
          ...(t.externalId ? { ExternalId: t.externalId } : {}),
        }),
      ),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error(`AssumeRole ${t.roleArn} answered without complete credentials`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      accountId: t.account,
    };
  };

  const fresh = (c: AwsCredentialIdentity | undefined): c is AwsCredentialIdentity =>
    c !== undefined && c.expiration.getTime() - early > now();

  return {
    /** The provider an SDK client of this target takes as `credentials`. */
    forTarget:
      (t: TargetRole): AwsCredentialIdentityProvider =>
      async () => {
        const key = keyOf(t);
        const cached = sessions.get(key);
        if (fresh(cached)) return cached;
        let inFlight = pending.get(key);
        if (!inFlight) {
          inFlight = assume(t)
            .then((c) => {
              sessions.set(key, c);
              return c;
            })
            .finally(() => pending.delete(key));
          pending.set(key, inFlight);
        }
        return inFlight;
      },
    /** Forget a target's session (after the role changed, or a call said its token was revoked). */
    forget: (t: TargetRole): void => {
      sessions.delete(keyOf(t));
    },
  };
};
