import { existsSync, readFileSync } from 'node:fs';
import middy from '@middy/core';
import { rdsTokenSigner, verifierCredentials } from '../../shared/aws/db-login.js';
import type { SecretCredentials } from '../../shared/aws/secrets.js';
import { loadEnv } from '../../shared/config/env.js';
import { DrillVerifyEnv } from '../../shared/drill/env.js';
import type { VerifyDeps } from '../../shared/drill/tasks.js';
import { runVerifyTask } from '../../shared/drill/verify-tasks.js';
import type { PgConnection } from '../../shared/drill/verification.js';
import { verifyDatabase } from '../../shared/drill/verifier/verify.js';
import { warmUp } from '../../shared/drill/verifier/warmup.js';
import { injectLambdaContext, logger } from '../../shared/observability.js';
import { once } from '../../shared/once.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { type StageDeps, wireStage } from '../../shared/stage.js';

export type { VerifyDeps };

// The secret reader and its Secrets Manager client, loaded when a target with `auth: secret` is first verified:
// `auth: iam` (the default) signs its token locally and never sends to Secrets Manager.
const loadSecrets = /* @__PURE__ */ once(() => import('../../shared/aws/secrets.js'));

/** A secret reader for `region` whose module and client load at its first read. */
const secretsOnFirstRead = (region: string): SecretCredentials => {
  let reader: Promise<SecretCredentials> | undefined;
  return {
    get: async (secretArn) =>
      (await (reader ??= loadSecrets().then((m) => m.secretsCredentials(m.secretsClient(region))))).get(
        secretArn,
      ),
  };
};

/** The `verify` task of a drill: read the credentials, check the restored copy, return the next state. */
export const run = (event: unknown, deps: VerifyDeps) => runVerifyTask(event, deps);

/**
 * TLS for connections to restored copies. `verify-full`: certificate chain AND host name checked, against
 * the RDS CA bundle, which issues every RDS and Aurora server certificate (a `ca` option replaces Node's
 * roots: no public CA signs a restored copy's certificate, and Node's ~140 roots would be parsed as PEM on
 * every connection, and read at import by `tls.rootCertificates`, ~41 M instructions of each cold start).
 * Without the bundle only Node's roots are trusted and RDS certificates fail to verify, loudly.
 * `require`: encrypted, unverified; only when PG_SSL_MODE says so.
 */
export const sslOptions = (
  env: Pick<DrillVerifyEnv, 'PG_SSL_MODE' | 'PG_CA_FILE'>,
  read: (path: string) => string | undefined = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined),
): NonNullable<PgConnection['ssl']> => {
  if (env.PG_SSL_MODE === 'require') {
    logger.warn('PG_SSL_MODE=require: drill connections are encrypted but the server is not verified');
    return { rejectUnauthorized: false };
  }
  const bundle = read(env.PG_CA_FILE);
  if (!bundle) {
    logger.warn('RDS CA bundle not found: only Node.js root CAs are trusted', { caFile: env.PG_CA_FILE });
    return { rejectUnauthorized: true };
  }
  return { rejectUnauthorized: true, ca: [bundle] };
};

/**
 * Credentials, nothing else: an IAM authentication token signed locally (`auth: iam`, no AWS call), or a
 * secret read through the drill VPC's Secrets Manager endpoint (`auth: secret`; the endpoint exists only
 * then, and the verifier's role may read only the targets' secrets). The restore task puts which one in
 * the state.
 */
export const wire = (base: StageDeps, env: DrillVerifyEnv = loadEnv(DrillVerifyEnv)): VerifyDeps => {
  const { region } = base.config;
  return {
    ...base,
    verify: verifyDatabase,
    warmUp,
    credentials: verifierCredentials({
      sign: rdsTokenSigner(region),
      secrets: () => secretsOnFirstRead(region),
    }),
    ssl: sslOptions(env),
  };
};

let deps: VerifyDeps | undefined;

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .handler((event: unknown) => run(event, (deps ??= wire(wireStage()))));
