import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rdsTokenSigner, verifierCredentials } from '../../../shared/aws/db-login.js';
import type { SecretCredentials } from '../../../shared/aws/secrets.js';
import { StewardError } from '../../../shared/errors.js';

const HOST = 'steward-drill-orders-db-1a2b3c.abc123.eu-west-1.rds.amazonaws.com';

describe('rdsTokenSigner', () => {
  beforeEach(() => {
    // The Lambda runtime's credentials arrive in the environment, as here.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAIOSFODNN7EXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-token-example');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('signs a 15-minute rds-db connect token for the user at the copy, with no AWS call', async () => {
    // Act
    const token = await rdsTokenSigner('eu-west-1')({ iamUser: 'steward_verifier', host: HOST, port: 5432 });

    // Assert: the documented form, `<host>:<port>/?Action=connect&DBUser=<user>&X-Amz-…` (no scheme).
    expect(token.startsWith(`${HOST}:5432/?`)).toBe(true);
    const url = new URL(`https://${token}`);
    const q = Object.fromEntries(url.searchParams);
    expect(q).toMatchObject({
      Action: 'connect',
      DBUser: 'steward_verifier',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Expires': '900',
      'X-Amz-Security-Token': 'session-token-example',
      'X-Amz-SignedHeaders': 'host',
    });
    expect(q['X-Amz-Credential']).toMatch(/^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/);
    expect(q['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('verifierCredentials', () => {
  const secret = { username: 'master', password: 'hunter2' };

  it('answers an IAM login with the user and a token for that endpoint, building no secrets client', async () => {
    // Prepare
    const sign = vi.fn(async () => 'token-for-the-copy');
    const secrets = vi.fn((): SecretCredentials => ({ get: async () => secret }));
    const port = verifierCredentials({ sign, secrets });

    // Act
    const creds = await port.get({ iamUser: 'steward_verifier', host: HOST, port: 5432 });

    // Assert
    expect(creds).toEqual({ username: 'steward_verifier', password: 'token-for-the-copy' });
    expect(sign).toHaveBeenCalledWith({ iamUser: 'steward_verifier', host: HOST, port: 5432 });
    expect(secrets).not.toHaveBeenCalled();
  });

  it('answers a secret login from the secret, its reader built once', async () => {
    // Prepare
    const get = vi.fn(async (_arn: string) => secret);
    const secrets = vi.fn((): SecretCredentials => ({ get }));
    const port = verifierCredentials({ sign: vi.fn(), secrets });

    // Act
    await port.get({ secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:a' });
    const creds = await port.get({ secretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:b' });

    // Assert
    expect(creds).toEqual(secret);
    expect(secrets).toHaveBeenCalledTimes(1);
    expect(get.mock.calls.map((c) => c[0])).toEqual([
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:a',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:b',
    ]);
  });

  it('names the user and the endpoint when a token cannot be signed (no credentials)', async () => {
    // Prepare
    const port = verifierCredentials({
      sign: async () => {
        throw new Error('Could not load credentials from any providers');
      },
      secrets: () => ({ get: async () => secret }),
    });

    // Act
    const err = (await port
      .get({ iamUser: 'steward_verifier', host: HOST, port: 5432 })
      .catch((e: unknown) => e)) as Error;

    // Assert
    expect(err).toBeInstanceOf(StewardError);
    expect(err.message).toBe(
      `cannot sign an IAM database authentication token for steward_verifier at ${HOST}:5432: Could not load credentials from any providers`,
    );
  });
});
