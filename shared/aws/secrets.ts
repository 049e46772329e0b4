import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as v from '../valid.js';
import type { CacheSecrets, DbCredentials } from '../drill/ports.js';
import { StewardError } from '../errors.js';
import { call } from './call.js';

// Loaded on first use by the verifier: its client's factory comes with it.
export { secretsClient } from './clients/secrets-manager.js';

// The shape RDS-managed master secrets and the RDS console's secrets use.
export const SecretJson = v.looseObject({
  username: v.string().check(v.minLength(1)),
  password: v.string().check(v.minLength(1)),
  host: v.optional(v.string()),
  port: v.optional(v.union([v.number(), v.string().check(v.regex(/^\d+$/))])),
  dbname: v.optional(v.string()),
});

/** Reads database credentials from a secret. */
export interface SecretCredentials {
  get(secretArn: string): Promise<DbCredentials>;
}

/**
 * Database credentials from Secrets Manager. Errors name the secret and never carry its value: a JSON
 * parse error quotes the text it choked on, so it is not kept as the cause.
 */
export const secretsCredentials = (sm: SecretsManagerClient): SecretCredentials => ({
  get: async (secretArn): Promise<DbCredentials> => {
    const text = (
      await call('GetSecretValue', `secret ${secretArn}`, () =>
        sm.send(new GetSecretValueCommand({ SecretId: secretArn })),
      )
    ).SecretString;
    const bad = (why: string) =>
      new StewardError(`secret ${secretArn} ${why}: expected JSON with username and password`);
    if (text === undefined) throw bad('has no SecretString');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw bad('is not JSON');
    }
    const r = SecretJson.safeParse(json);
    if (!r.success) {
      // Paths only: issue messages may not quote values, but paths certainly do not.
      const fields = [...new Set(r.error.issues.map((i) => i.path.join('.') || '(root)'))];
      throw bad(`has missing or invalid fields (${fields.join(', ')})`);
    }
    const { username, password, host, port, dbname } = r.data;
    return {
      username,
      password,
      ...(host ? { host } : {}),
      ...(port !== undefined ? { port: Number(port) } : {}),
      ...(dbname ? { dbname } : {}),
    };
  },
});

/**
 * A cache's AUTH token or RBAC login from Secrets Manager (`drill.caches.<name>.secretArn`). The token is a
 * secret whose `password` is the token, or whose whole string is. Errors name the secret, never its value.
 */
export const secretsCacheLogins = (sm: SecretsManagerClient): CacheSecrets => {
  const read = async (secretArn: string): Promise<string> => {
    const text = (
      await call('GetSecretValue', `secret ${secretArn}`, () =>
        sm.send(new GetSecretValueCommand({ SecretId: secretArn })),
      )
    ).SecretString;
    if (!text) throw new StewardError(`secret ${secretArn} has no SecretString`);
    return text;
  };
  const json = (text: string): Record<string, unknown> | undefined => {
    try {
      const v: unknown = JSON.parse(text);
      return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    token: async (secretArn) => {
      const text = await read(secretArn);
      const password = json(text)?.password;
      if (typeof password === 'string' && password) return password;
      if (text.trimStart().startsWith('{'))
        throw new StewardError(`secret ${secretArn} is JSON without a password: expected the AUTH token`);
      return text;
    },
    user: async (secretArn) => {
      const r = SecretJson.safeParse(json(await read(secretArn)));
      if (!r.success) {
        throw new StewardError(
          `secret ${secretArn} is not JSON with username and password: expected the RBAC user's login`,
        );
      }
      return { username: r.data.username, password: r.data.password };
    },
  };
};
