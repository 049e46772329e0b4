import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import * as v from '../valid.js';
import type { CacheDrillNetwork } from '../drill/ports.js';
import { type EndpointSpec, parseEndpointSpec } from '../drill/endpoints.js';
import { ConfigError, formatIssues } from '../errors.js';
import { attempt } from './call.js';
import { parseSubnets, type VerifierNetwork } from './ebs-verifier.js';

export const Network = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    cacheSubnetGroupName: v.string().check(v.minLength(1)),
    securityGroupIds: v.array(v.string().check(v.regex(/^sg-[0-9a-f]+$/))).check(v.minLength(1)),
    userGroupId: v.optional(v.string().check(v.minLength(1))),
    /** The DR stack's cache verifier, inside that network (a stack deployed before it existed has none). */
    verifierFunctionArn: v.optional(
      v.string().check(v.regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:/)),
    ),
  }),
);

/**
 * A JSON String parameter another stack publishes, parsed; `missing(why)` is the error when it is not found or
 * not JSON.
 */
const readJsonParameter = async (
  ssm: SSMClient,
  name: string,
  region: string,
  missing: (why: string) => Error,
): Promise<unknown> => {
  const r = await attempt(
    'GetParameter',
    `${name} in ${region}`,
    () => ssm.send(new GetParameterCommand({ Name: name })),
    { gone: ['ParameterNotFound'] },
  );
  if (!r.ok) throw missing('parameter not found');
  try {
    return JSON.parse(r.value.Parameter?.Value ?? '') as unknown;
  } catch {
    throw missing('not JSON');
  }
};

/** `load`'s result, read once per container; a failed read is not kept (the stack may be deployed meanwhile). */
const keptOnSuccess = <T>(load: () => Promise<T>): (() => Promise<T>) => {
  let read: Promise<T> | undefined;
  return () => (read ??= load().catch((e: unknown) => ((read = undefined), Promise.reject(e))));
};

/** What the DR stack publishes for Redis drills from the DR copy: its drill network and its cache verifier. */
export interface DrDrillSite {
  network: () => Promise<CacheDrillNetwork>;
  /** The cache verifier's function ARN; a ConfigError naming the stack when the parameter has none. */
  verifierFunctionArn: () => Promise<string>;
}

/**
 * The cache drill network (and cache verifier) another stack published as a JSON String parameter (the
 * `Steward-<stage>-dr` stack, in the DR region): read once per container. A missing or malformed parameter is
 * a ConfigError naming it and the stack that writes it.
 */
export const ssmDrDrillSite = (ssm: SSMClient, name: string, region: string, stack: string): DrDrillSite => {
  type Site = CacheDrillNetwork & { verifierFunctionArn?: string };
  const missing = (why: string) =>
    new ConfigError(`No cache drill network in ${region}`, [
      `${name}: ${why}; deploy ${stack} (it builds the DR region's drill network when a drill.caches entry has from: dr)`,
    ]);
  const load = async (): Promise<Site> => {
    const json = await readJsonParameter(ssm, name, region, missing);
    const parsed = Network.safeParse(json);
    if (!parsed.success) throw missing('not a cache drill network (cacheSubnetGroupName, securityGroupIds)');
    const n = parsed.data;
    return {
      cacheSubnetGroupName: n.cacheSubnetGroupName,
      securityGroupIds: n.securityGroupIds,
      ...(n.userGroupId ? { userGroupId: n.userGroupId } : {}),
      ...(n.verifierFunctionArn ? { verifierFunctionArn: n.verifierFunctionArn } : {}),
    };
  };
  // A failed read is not kept: the next drill tries again (the stack may have been deployed meanwhile).
  const site = keptOnSuccess(load);
  let network: Promise<CacheDrillNetwork> | undefined;
  return {
    network: async () => {
      const { verifierFunctionArn: _, ...n } = await site();
      return (network ??= Promise.resolve(n));
    },
    verifierFunctionArn: async () => {
      const { verifierFunctionArn } = await site();
      if (!verifierFunctionArn) throw missing('names no cache verifier (verifierFunctionArn)');
      return verifierFunctionArn;
    },
  };
};

/** The DR stack's cache drill network alone (see ssmDrDrillSite). */
export const ssmCacheDrillNetwork = (
  ssm: SSMClient,
  name: string,
  region: string,
  stack: string,
): (() => Promise<CacheDrillNetwork>) => ssmDrDrillSite(ssm, name, region, stack).network;

export const EbsSite = /* @__PURE__ */ v.onFirstUse(() =>
  v.object({
    vpcId: v.string().check(v.regex(/^vpc-[0-9a-f]+$/)),
    /** "az=subnet-…,az=subnet-…", the drill VPC's isolated subnets, first zone first. */
    subnets: v.string().check(v.minLength(1)),
    securityGroupId: v.string().check(v.regex(/^sg-[0-9a-f]+$/)),
    instanceProfileArn: v.string().check(v.regex(/^arn:aws[a-z-]*:iam::\d{12}:instance-profile\//)),
    documentName: v.string().check(v.minLength(1)),
    /** `drill.endpoints.mode: per-drill`: where a drill creates the three Systems Manager endpoints. */
    endpoints: v.optional(
      v.record(
        v.string(),
        v.object({
          serviceName: v.string().check(v.minLength(1)),
          subnetIds: v.array(v.string().check(v.regex(/^subnet-[0-9a-f]+$/))).check(v.minLength(1)),
          securityGroupIds: v.array(v.string().check(v.regex(/^sg-[0-9a-f]+$/))).check(v.minLength(1)),
        }),
      ),
    ),
  }),
);

/** What the DR stack publishes for EBS drills from the DR copies that verify: the verifier's network there. */
export interface DrEbsVerifierSite {
  network: VerifierNetwork;
  /** The zone verifiers (and so the drill's volumes, by default) go in: the first subnet's. */
  availabilityZone: string;
  /** steward's Command document in that region (SSM documents are regional). */
  documentName: string;
  /** Per-drill endpoints: the DR drill VPC and where each Systems Manager endpoint is created; absent: always on. */
  endpoints?: EndpointSpec;
}

/**
 * The DR region's EBS verifier network, as the `Steward-<stage>-dr` stack publishes it (a JSON String parameter
 * in `dr.region`), read once per container. A missing or malformed parameter is a ConfigError naming it and the
 * stack that writes it; a failed read is not kept (the stack may be deployed meanwhile).
 */
export const ssmDrEbsVerifierSite = (
  ssm: SSMClient,
  name: string,
  region: string,
  stack: string,
): (() => Promise<DrEbsVerifierSite>) => {
  const missing = (why: string) =>
    new ConfigError(`No EBS verifier network in ${region}`, [
      `${name}: ${why}; deploy ${stack} (it builds the DR region's verifier network when a drill.volumes entry has from: dr and verify)`,
    ]);
  const load = async (): Promise<DrEbsVerifierSite> => {
    const json = await readJsonParameter(ssm, name, region, missing);
    const parsed = EbsSite.safeParse(json);
    if (!parsed.success)
      throw missing(
        `not an EBS verifier network (${formatIssues(parsed.error.issues).slice(0, 3).join('; ')})`,
      );
    const n = parsed.data;
    const subnets = parseSubnets(n.subnets);
    const availabilityZone = Object.keys(subnets)[0];
    if (!availabilityZone) throw missing('names no subnet (subnets: "az=subnet-…")');
    return {
      network: { subnets, securityGroupId: n.securityGroupId, instanceProfileArn: n.instanceProfileArn },
      availabilityZone,
      documentName: n.documentName,
      ...(n.endpoints && Object.keys(n.endpoints).length
        ? { endpoints: parseEndpointSpec(JSON.stringify({ vpcId: n.vpcId, endpoints: n.endpoints })) }
        : {}),
    };
  };
  return keptOnSuccess(load);
};
