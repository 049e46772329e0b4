import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as z from '../zod.js';
import type { CacheDrillNetwork } from '../drill/ports.js';
import { ConfigError } from '../errors.js';
import { attempt } from './call.js';

const Network = z.onFirstUse(() =>
  z.object({
    cacheSubnetGroupName: z.string().check(z.minLength(1)),
    securityGroupIds: z.array(z.string().check(z.regex(/^sg-[0-9a-f]+$/))).check(z.minLength(1)),
    userGroupId: z.optional(z.string().check(z.minLength(1))),
  }),
);

/**
 * The cache drill network another stack published as a JSON String parameter (the `Steward-<stage>-dr`
 * stack, in the DR region): read once per container. A missing or malformed parameter is a ConfigError
 * naming it and the stack that writes it.
 */
export const ssmCacheDrillNetwork = (
  ssm: SSMClient,
  name: string,
  region: string,
  stack: string,
): (() => Promise<CacheDrillNetwork>) => {
  let read: Promise<CacheDrillNetwork> | undefined;
  const load = async (): Promise<CacheDrillNetwork> => {
    const r = await attempt(
      'GetParameter',
      `${name} in ${region}`,
      () => ssm.send(new GetParameterCommand({ Name: name })),
      { gone: ['ParameterNotFound'] },
    );
    const missing = (why: string) =>
      new ConfigError(`No cache drill network in ${region}`, [
        `${name}: ${why}; deploy ${stack} (it builds the DR region's drill network when a drill.caches entry has from: dr)`,
      ]);
    if (!r.ok) throw missing('parameter not found');
    let json: unknown;
    try {
      json = JSON.parse(r.value.Parameter?.Value ?? '');
    } catch {
      throw missing('not JSON');
    }
    const parsed = Network.safeParse(json);
    if (!parsed.success) throw missing('not a cache drill network (cacheSubnetGroupName, securityGroupIds)');
    const n = parsed.data;
    return {
      cacheSubnetGroupName: n.cacheSubnetGroupName,
      securityGroupIds: n.securityGroupIds,
      ...(n.userGroupId ? { userGroupId: n.userGroupId } : {}),
    };
  };
  // A failed read is not kept: the next drill tries again (the stack may have been deployed meanwhile).
  return () => (read ??= load().catch((e: unknown) => ((read = undefined), Promise.reject(e))));
};
