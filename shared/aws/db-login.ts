import { Signer } from '@aws-sdk/rds-signer';
import type { CredentialsPort, DbCredentials } from '../drill/ports.js';
import { StewardError } from '../errors.js';
import type { SecretCredentials } from './secrets.js';

/** Signs an IAM database authentication token (valid 15 minutes) for one user at one endpoint. */
export type TokenSigner = (req: { iamUser: string; host: string; port: number }) => Promise<string>;

/**
 * RDS IAM authentication tokens, signed locally with the function's own credentials (SigV4 presigned
 * `connect` for `rds-db`): no AWS call, so nothing to reach from the isolated drill VPC.
 */
export const rdsTokenSigner =
  (region: string): TokenSigner =>
  ({ iamUser, host, port }) =>
    new Signer({ hostname: host, port, username: iamUser, region }).getAuthToken();

/**
 * The verifier's CredentialsPort: an IAM token for `iamUser` requests, a secret's user and password
 * for `secretArn` ones (its reader made on first use, so a stage without secrets builds no client).
 * Errors name the user and endpoint, never the token.
 */
export const verifierCredentials = (o: {
  sign: TokenSigner;
  secrets: () => SecretCredentials;
}): CredentialsPort => {
  let secrets: SecretCredentials | undefined;
  return {
    get: async (req): Promise<DbCredentials> => {
      if ('secretArn' in req) return (secrets ??= o.secrets()).get(req.secretArn);
      try {
        return { username: req.iamUser, password: await o.sign(req) };
      } catch (e) {
        throw new StewardError(
          `cannot sign an IAM database authentication token for ${req.iamUser} at ${req.host}:${req.port}: ${e instanceof Error ? e.message : String(e)}`,
        );
      }
    },
  };
};
