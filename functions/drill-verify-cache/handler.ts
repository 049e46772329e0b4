import middy from '@middy/core';
import { cacheTokenSigner, environmentCredentials } from '../../shared/aws/cache-login.js';
import { secretsClient } from '../../shared/aws/clients/secrets-manager.js';
import { secretsCacheLogins } from '../../shared/aws/secrets.js';
import { loadEnv } from '../../shared/config/env.js';
import { type CacheVerifyDeps, runCacheVerifyTask } from '../../shared/drill/cache-verify.js';
import { CacheVerifyEnv } from '../../shared/drill/env.js';
import { verifyRedis } from '../../shared/drill/redis/verify.js';
import { injectLambdaContext, logger } from '../../shared/observability.js';
import { readableStacks } from '../../shared/stack-traces.js';
import { type StageDeps, wireStage } from '../../shared/stage.js';

export type { CacheVerifyDeps };

/** The `verify` task of a Redis drill, inside the drill VPC: sign the login token, check the restored group. */
export const run = (event: unknown, deps: CacheVerifyDeps) => runCacheVerifyTask(event, deps);

/**
 * The Redis engine and a token signer over the function's own credentials (`auth: iam`: no AWS call, so the
 * drill VPC needs no endpoint); `auth: token` and `auth: user` caches read their secret through the drill
 * VPC's Secrets Manager endpoint, which the stack adds only then. The DR stack's verifier
 * (`CACHE_VERIFIER_REGION` = dr.region) signs for its own region and reads no secret: its VPC has no
 * endpoint, and `from: dr` takes `auth: iam` or `none` only.
 */
export const wire = (
  base: StageDeps,
  env: Pick<CacheVerifyEnv, 'CACHE_VERIFIER_REGION'> = loadEnv(CacheVerifyEnv),
): CacheVerifyDeps => {
  const region = env.CACHE_VERIFIER_REGION ?? base.config.region;
  const secrets =
    region === base.config.region &&
    Object.values(base.config.drill.caches).some((c) => c.auth === 'token' || c.auth === 'user');
  return {
    ...base,
    region,
    verify: verifyRedis,
    sign: cacheTokenSigner(region, () => environmentCredentials()),
    ...(secrets ? { secrets: secretsCacheLogins(secretsClient(region)) } : {}),
  };
};

let deps: CacheVerifyDeps | undefined;

export const handler = middy()
  .use(readableStacks())
  .use(injectLambdaContext(logger))
  .handler((event: unknown) => run(event, (deps ??= wire(wireStage()))));
