import { ConfigError } from '../errors.js';
import type { RestorePort } from './ports.js';
import type { DrillState } from './state.js';
import { drillTargetConfig, type VerifyDeps } from './task-core.js';
import { otherSourceAccount } from './vault-tasks.js';

/**
 * How the verifier logs in: the role for IAM database authentication, or the secret to read (the
 * configured one, else the source's RDS-managed master secret). A restored target keeps what its
 * restore decided, so a drill in flight is not changed by a config update.
 */
export const loginOf = async (
  s: DrillState,
  deps: Pick<VerifyDeps, 'config'> & { restore?: Pick<RestorePort, 'masterSecretArn'> | undefined },
  doing: string,
): Promise<{ iamUser: string } | { secretArn: string }> => {
  const cfg = drillTargetConfig(deps.config, s.database);
  if (s.target?.iamUser) return { iamUser: s.target.iamUser };
  if (s.target?.secretArn) return { secretArn: s.target.secretArn };
  if (cfg.auth === 'iam') return { iamUser: cfg.iamUser };
  const elsewhere = otherSourceAccount(s, deps.config);
  if (!cfg.secretArn && elsewhere) {
    // The config refuses this; a drill in flight across a config change still fails clearly, before a restore.
    throw new ConfigError(`No credentials to ${doing} ${s.database}`, [
      `drill.targets.${s.database}.secretArn: required with auth: secret because ${s.database} lives in account ${elsewhere}, whose master user secret the drill does not read (or use auth: iam)`,
    ]);
  }
  const secretArn = cfg.secretArn ?? (await deps.restore?.masterSecretArn(cfg.kind, s.database));
  if (!secretArn) {
    throw new ConfigError(`No credentials to ${doing} ${s.database}`, [
      `drill.targets.${s.database}.secretArn: required with auth: secret because ${s.database} has no RDS-managed master user secret (or use auth: iam)`,
    ]);
  }
  return { secretArn };
};

/** The credentials for the restored copy: a token signed for its endpoint, or the secret's user. */
export const credentialsFor = (
  login: { iamUser: string } | { secretArn: string },
  target: NonNullable<DrillState['target']>,
  deps: Pick<VerifyDeps, 'credentials'>,
) =>
  deps.credentials.get(
    'iamUser' in login
      ? { iamUser: login.iamUser, host: target.endpoint!.host, port: target.endpoint!.port }
      : login,
  );
